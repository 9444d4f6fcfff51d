"""NATS-Bench topology search space (TSS = NAS-Bench-201): 5 ops on the 6 edges of a 4-node cell."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from harness.spaces.base import Arch, SearchSpace

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
# Fingerprint of NATS-Bench's TSS arch list in official index order (``meta_archs`` of the official
# NATS-tss-v1_0-3ffb9 files): the order no rule derives, so a copy of it is checked against this.
OFFICIAL_ORDER_SHA256 = "83abc799e45cf34e9d2163654668ab998b9a54d01c39e72ca1f71f2cdf356d84"
# Edges in arch-string order: node 1 <- 0; node 2 <- 0, 1; node 3 <- 0, 1, 2.
EDGES = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
# The macro structure as NATS-Bench trained it (get_net_config: channel=16, num_cells=5).
CHANNELS, CELLS = 16, 5


def format_arch(ops: Sequence[str]) -> str:
    """The NATS arch string of six op names in edge order."""
    nodes, k = [], 0
    for node in range(1, 4):
        nodes.append("|" + "|".join(f"{ops[k + j]}~{j}" for j in range(node)) + "|")
        k += node
    return "+".join(nodes)


def official_order_digest(archs: Sequence[str]) -> str:
    """The sha256 of arch strings joined by newlines (compare with :data:`OFFICIAL_ORDER_SHA256`)."""
    return hashlib.sha256("\n".join(archs).encode()).hexdigest()


class TopologySpace(SearchSpace):
    """TSS with the official index order, which is the benchmark's own arch list (not itertools order)."""

    name = "tss"
    choices = OPS
    n_positions = len(EDGES)
    # 'valid' on cifar10 is the cifar10-valid run's x-valid; 'valtest' is the ori-test accuracy of cifar100 /
    # ImageNet16-120 runs.
    metrics = frozenset({("test", 200), ("test", 12), ("valid", 12), ("valid", 200), ("valtest", 200)})
    reported = ("test", 200)
    search_hp = 12
    has_times = True
    arch_column = "arch"
    choice_noun, position_noun = "op", "edge"
    has_train_info = True
    published_optima: ClassVar[dict[str, float]] = {"cifar10": 94.37, "cifar100": 73.51, "ImageNet16-120": 47.31}  # NATS-Bench, test@200

    def __init__(self, official_archs: Sequence[str]):
        if len(official_archs) != self.size:
            raise ValueError(f"TSS needs {self.size} archs in official order, got {len(official_archs)}")
        self._archs = list(official_archs)
        self._to_code = np.empty(self.size, dtype=np.int64)
        self._to_index = np.full(self.size, -1, dtype=np.int64)
        for i, s in enumerate(self._archs):
            code = 0
            for e in self._parse(s):
                code = code * self.n_choices + e
            if self._to_index[code] != -1:
                raise ValueError(f"TSS arch list repeats {s!r} (index {self._to_index[code]} and {i})")
            self._to_code[i], self._to_index[code] = code, i

    def _parse(self, arch: str) -> tuple[int, ...]:
        nodes = arch.split("+")
        if len(nodes) != 3:
            raise ValueError(f"TSS arch {arch!r}: expected 3 nodes joined by '+', got {len(nodes)}")
        enc = []
        for node, part in enumerate(nodes, start=1):
            if not (part.startswith("|") and part.endswith("|")):
                raise ValueError(f"TSS arch {arch!r}: node {node} part {part!r} must be wrapped in '|'")
            edges = part[1:-1].split("|")
            if len(edges) != node:
                raise ValueError(f"TSS arch {arch!r}: node {node} part {part!r} needs {node} edges")
            for j, edge in enumerate(edges):
                op, sep, src = edge.partition("~")
                if not sep or src != str(j):
                    raise ValueError(f"TSS arch {arch!r}: edge {edge!r} of node {node} must read 'op~{j}'")
                if op not in OPS:
                    raise ValueError(f"TSS arch {arch!r}: unknown op {op!r}; valid ops: {', '.join(OPS)}")
                enc.append(OPS.index(op))
        return tuple(enc)

    def _code_to_index(self, codes: np.ndarray) -> np.ndarray:
        return self._to_index[codes]

    def _index_to_code(self, indices: np.ndarray) -> np.ndarray:
        return self._to_code[indices]

    def arch(self, index: Arch) -> str:
        return self._archs[self.index(index)]

    def metrics_for(self, dataset: str) -> tuple[tuple[str, int], ...]:
        """cifar10 has no valtest run, the others no 200-epoch validation split of their own."""
        absent = {("valtest", 200)} if dataset == "cifar10" else {("valid", 200)}
        return tuple(sorted(self.metrics - absent))

    def net_config(self, arch: Arch, num_classes: int) -> dict[str, Any]:
        """A NAS-Bench-201 cell in the ``infer.tiny`` macro net (C=16, N=5)."""
        from xautodl.models import CellStructure

        genotype = CellStructure.str2structure(self.arch(arch))
        return {"name": "infer.tiny", "C": CHANNELS, "N": CELLS, "genotype": genotype, "num_classes": num_classes}

    def position_labels(self) -> list[str]:
        return [f"edge {j}->{i}" for i, j in EDGES]

    def ops(self, index: Arch) -> tuple[str, ...]:
        """The op on each edge, in arch-string order."""
        return tuple(OPS[e] for e in self.encode(index))
