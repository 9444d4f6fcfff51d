"""NAS-Bench-201's network as zero-cost-nas defines it (``foresight/models/nasbench2.py``), the network of the
``zc2021`` protocol. Written from its description; what differs from xautodl's net, and so from ``nats``:

* every cell builds all five ops on each of its six edges and runs only the arch's (a keep mask), so the
  unused convolutions exist, start untrained and count in any sum over layers (their gradients are zero);
* cell BatchNorms have no affine parameters and no running statistics, and cell convolutions carry a bias
  (``bias=not affine``);
* zero-cost-nas's ``bn=False`` copy (synflow) rebuilds the net without BatchNorm in the stem, cells and
  head, but the two residual reduction blocks keep theirs: they are marked with ``KEEP_WHEN_BN_REMOVED``,
  which ``harness.proxies.batchnorm_removed`` honours;
* the head returns logits only (no features).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from harness.protocol import KEEP_WHEN_BN_REMOVED

# zero-cost-nas's op order: the order modules are built in (and so draw their initial weights).
OPS = ("none", "avg_pool_3x3", "nor_conv_3x3", "nor_conv_1x1", "skip_connect")
STEM_CHANNELS, CELLS_PER_STAGE, NODES = 16, 5, 4


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, affine: bool,
                 running_stats: bool):
        super().__init__(nn.ReLU(inplace=False),
                         nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=not affine),
                         nn.BatchNorm2d(c_out, affine=affine, track_running_stats=running_stats))


class Zero(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def _op(name: str, channels: int, affine: bool, running_stats: bool) -> nn.Module:
    if name == "none":
        return Zero()
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    if name == "skip_connect":
        return nn.Identity()
    kernel = 3 if name == "nor_conv_3x3" else 1
    return ReLUConvBN(channels, channels, kernel, 1, kernel // 2, affine, running_stats)


class SearchCell(nn.Module):
    def __init__(self, channels: int, ops: Sequence[str], affine: bool, running_stats: bool):
        super().__init__()
        self.options = nn.ModuleList()
        self.keep: list[bool] = []
        for edge_op in ops:
            for name in OPS:
                self.options.append(_op(name, channels, affine, running_stats))
                self.keep.append(name == edge_op)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs, idx = [x], 0
        for node in range(1, NODES):
            total = None
            for prev in range(node):
                for _ in OPS:
                    if self.keep[idx]:
                        y = self.options[idx](outs[prev])
                        total = y if total is None else total + y
                    idx += 1
            outs.append(total)
        return outs[-1]


class Reduction(nn.Module):
    """The residual block between stages (stride 2, channels doubled), BatchNorm kept in the bn=False copy."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.residual = nn.Sequential(nn.AvgPool2d(2, stride=2), nn.Conv2d(c_in, c_out, 1, bias=False))
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1, affine=True, running_stats=True)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1, affine=True, running_stats=True)
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                setattr(m, KEEP_WHEN_BN_REMOVED, True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.residual(x) + self.conv_b(self.conv_a(x))


class NB201(nn.Module):
    """Stem (conv + BN), three stages of five cells with reductions between, head (BN, ReLU, pool, linear)."""

    def __init__(self, ops: Sequence[str], num_classes: int, affine: bool = False, running_stats: bool = False):
        """``ops``: the op of each edge in arch-string order (``TSS.ops``)."""
        super().__init__()
        c = STEM_CHANNELS
        self.stem = nn.Sequential(nn.Conv2d(3, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
        stages: list[nn.Module] = []
        for stage in range(3):
            if stage:
                stages.append(Reduction(c, 2 * c))
                c *= 2
            stages += [SearchCell(c, ops, affine, running_stats) for _ in range(CELLS_PER_STAGE)]
        self.cells = nn.Sequential(*stages)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.global_pooling(self.lastact(self.cells(self.stem(x))))
        return self.classifier(x.flatten(1))
