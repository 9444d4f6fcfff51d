"""The networks NATS-Bench trained, built with its own code (xautodl) so proxies score the benchmark's nets.

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
from harness.spaces import Arch, SearchSpace


def init_seed(space: SearchSpace, index: int, seed: int) -> int:
    """A process-independent 63-bit seed for (space, arch index, seed); Python's hash() is salted."""
    seed = check_seed(seed)
    digest = hashlib.sha256(f"{space.name}:{int(index)}:{int(seed)}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def build_network(space: SearchSpace, arch: Arch, dataset: str, seed: int = 0,
                  device: torch.device | str = "cpu") -> nn.Module:
    """The freshly initialised (train-mode, float32) network of ``arch`` for ``dataset`` on ``device``
    (initialised on CPU, so the weights do not depend on the device)."""
    from xautodl.models import get_cell_based_tiny_net

    config = space.net_config(arch, NUM_CLASSES[check_dataset(dataset)])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(init_seed(space, space.index(arch), seed))
        net = get_cell_based_tiny_net(config)
    return net.to(device).train()
