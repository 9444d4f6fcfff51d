"""The networks NATS-Bench trained, built with its own code (xautodl) so proxies score the benchmark's nets.

TSS archs are NAS-Bench-201 cells in the ``infer.tiny`` macro net (C=16, N=5); SSS archs are the
``infer.shape.tiny`` net with the five channel counts and NATS-Bench's fixed SSS cell. Both return
``(features, logits)``. Weights come from a seed derived from (space, arch index, seed) through a hash, so
a score is reproducible across processes and the global torch RNG is left untouched.
"""

from __future__ import annotations

import hashlib

import torch
from torch import nn

from harness.bench.datasets import NUM_CLASSES, check_dataset
from harness.errors import check_seed
from harness.spaces import Arch, SearchSpace

# TSS macro structure as NATS-Bench trained it (get_net_config: channel=16, num_cells=5).
TSS_CHANNELS, TSS_CELLS = 16, 5
# The cell every SSS arch uses (the ``genotype`` of every SSS record's arch_config).
SSS_GENOTYPE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def init_seed(space: SearchSpace, index: int, seed: int) -> int:
    """A process-independent 63-bit seed for (space, arch index, seed); Python's hash() is salted."""
    seed = check_seed(seed)
    digest = hashlib.sha256(f"{space.name}:{int(index)}:{int(seed)}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def net_config(space: SearchSpace, arch: Arch, dataset: str) -> dict:
    """The xautodl config NATS-Bench's ``get_net_config`` gives for ``arch`` on ``dataset``."""
    from xautodl.models import CellStructure

    n = NUM_CLASSES[check_dataset(dataset)]
    if space.name == "tss":
        genotype = CellStructure.str2structure(space.arch(arch))
        return {"name": "infer.tiny", "C": TSS_CHANNELS, "N": TSS_CELLS, "genotype": genotype, "num_classes": n}
    if space.name == "sss":
        return {"name": "infer.shape.tiny", "channels": space.arch(arch), "genotype": SSS_GENOTYPE,
                "num_classes": n}
    raise ValueError(f"unknown space {space.name!r}; valid spaces: tss, sss")


def build_network(space: SearchSpace, arch: Arch, dataset: str, seed: int = 0,
                  device: torch.device | str = "cpu") -> nn.Module:
    """The freshly initialised (train-mode, float32) network of ``arch`` for ``dataset`` on ``device``
    (initialised on CPU, so the weights do not depend on the device)."""
    from xautodl.models import get_cell_based_tiny_net

    config = net_config(space, arch, dataset)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(init_seed(space, space.index(arch), seed))
        net = get_cell_based_tiny_net(config)
    return net.to(device).train()
