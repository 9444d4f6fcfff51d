"""The networks proxies score, as the scoring protocol defines them (``harness.protocol``): by default the
networks NATS-Bench trained, built with its own code (xautodl), so proxies score the benchmark's nets.

Each space gives its config (``SearchSpace.net_config``: TSS cells in ``infer.tiny``, SSS channel counts in
``infer.shape.tiny``); both nets return ``(features, logits)``. Weights come from a seed derived from (space, arch index, seed) through a hash, so
a score is reproducible across processes and the global torch RNG is left untouched.
"""

from __future__ import annotations

import hashlib

import torch
from torch import nn

from harness.bench.datasets import NUM_CLASSES, check_dataset
from harness.errors import check_seed
from harness.protocol import NATS, Protocol
from harness.spaces import Arch, SearchSpace


def init_seed(space: SearchSpace, index: int, seed: int) -> int:
    """A process-independent 63-bit seed for (space, arch index, seed); Python's hash() is salted."""
    seed = check_seed(seed)
    digest = hashlib.sha256(f"{space.name}:{int(index)}:{int(seed)}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def build_network(space: SearchSpace, arch: Arch, dataset: str, seed: int = 0,
                  device: torch.device | str = "cpu", protocol: Protocol = NATS) -> nn.Module:
    """The freshly initialised (train-mode, float32) network of ``arch`` for ``dataset`` on ``device``, as
    ``protocol`` builds it (initialised on CPU, so the weights do not depend on the device)."""
    protocol.check_space(space.name)
    num_classes = NUM_CLASSES[check_dataset(dataset)]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(init_seed(space, space.index(arch), seed))
        if protocol.network == "zc-nb201":
            from harness.zc_nb201 import NB201

            net = NB201(space.ops(arch), num_classes, protocol.bn_affine, protocol.bn_running_stats)
        else:
            from xautodl.models import get_cell_based_tiny_net

            net = get_cell_based_tiny_net(space.net_config(arch, num_classes))
            if not (protocol.bn_affine and protocol.bn_running_stats):
                _replace_batchnorm(net, protocol.bn_affine, protocol.bn_running_stats)
    return net.to(device).train()


def _replace_batchnorm(net: nn.Module, affine: bool, running_stats: bool) -> None:
    """Every BatchNorm2d as a new one with these settings (at initialisation an affine BatchNorm is the
    identity map after normalising, so in train mode only the parameters it owns change)."""
    for module in list(net.modules()):
        for name, child in module.named_children():
            if isinstance(child, nn.BatchNorm2d):
                setattr(module, name, nn.BatchNorm2d(child.num_features, eps=child.eps, momentum=child.momentum,
                                                     affine=affine, track_running_stats=running_stats))
