"""Scoring protocols: everything besides the proxy's own code that a zero-cost score depends on, as one named
object, so that the harness can reproduce a published table and show how far each protocol moves a proxy.

| profile     | network                          | BatchNorm in the cells         | batch | minibatch drawn              | normalisation  |
|-------------|----------------------------------|--------------------------------|-------|------------------------------|----------------|
| `nats`      | xautodl (what NATS-Bench trained)| affine, running statistics     | 64    | one seeded batch for all archs, no augmentation | NATS-Bench's |
| `zc2021`    | zero-cost-nas's NAS-Bench-201 net| no affine, no running statistics | 64  | a fresh shuffled batch per arch, random crop + flip | zero-cost-nas's |
| `suitezero` | xautodl, every BatchNorm changed | no affine, no running statistics | 32  | a fresh shuffled batch per arch, random crop + flip | NASLib's |

Weights start from PyTorch's default initialisation in every profile (zero-cost-nas's ``--init_w_type none``),
seeded per (space, arch, seed), so two profiles that build the same network start from the same weights.
The loss is cross-entropy and the dtype float32 (a proxy may declare float64 for its own computation).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace

from harness.errors import unknown_name

NETWORKS = ("xautodl", "zc-nb201")
# A BatchNorm carrying this attribute (set True) stays when a proxy removes BatchNorm (``bn=False``):
# zero-cost-nas's bn=False copy of its NAS-Bench-201 net keeps the reduction blocks' (harness.zc_nb201).
KEEP_WHEN_BN_REMOVED = "keep_when_bn_removed"
DRAWS = ("fixed", "per-arch")
NORMALISATIONS = ("nats", "zero-cost-nas", "naslib")


@dataclass(frozen=True)
class Protocol:
    """One scoring protocol; every field but ``name`` and ``summary`` is a parameter of the scores' key."""

    name: str
    summary: str
    network: str  #: "xautodl": NATS-Bench's own nets; "zc-nb201": zero-cost-nas's NB201 model (TSS only)
    bn_affine: bool  #: BatchNorm of the search cells (xautodl: of every layer) has weight and bias
    bn_running_stats: bool  #: ... and tracks running statistics (eval mode uses them)
    batch_size: int
    batch_draw: str  #: "fixed": one seeded batch for every arch; "per-arch": a fresh draw per arch
    augment: bool  #: the training transform on each draw: random crop (zero padding 4 px at 32 px, 2 at 16) + flip
    normalisation: str  #: whose per-dataset mean / std: "nats", "zero-cost-nas", "naslib"
    init: str = "torch-default"
    loss: str = "cross_entropy"
    dtype: str = "float32"

    def __post_init__(self) -> None:
        for field, value, valid in (("network", self.network, NETWORKS), ("batch_draw", self.batch_draw, DRAWS),
                                    ("normalisation", self.normalisation, NORMALISATIONS)):
            if value not in valid:
                raise ValueError(f"protocol {self.name}: {field} {value!r}; valid: {', '.join(valid)}")
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"protocol {self.name}: batch_size must be a positive int, got {self.batch_size!r}")

    @property
    def params(self) -> dict[str, object]:
        return {k: v for k, v in asdict(self).items() if k not in ("name", "summary")}

    @property
    def key(self) -> str:
        """Name and parameters as one string: the protocol part of every store key, record and baseline."""
        return f"{self.name} {json.dumps(self.params, sort_keys=True, separators=(',', ':'))}"

    @property
    def spaces(self) -> tuple[str, ...]:
        """The spaces whose networks this protocol can build."""
        return ("tss",) if self.network == "zc-nb201" else ("tss", "sss")

    def check_space(self, space: str) -> None:
        """ValueError, before any work, when this protocol cannot build ``space``'s networks."""
        if space not in self.spaces:
            raise ValueError(f"protocol {self.name} builds {self.network} networks, which exist for "
                             f"{', '.join(self.spaces)} only, not {space}; use --protocol nats or suitezero "
                             f"for {space}")

    def with_batch_size(self, batch_size: int | None) -> Protocol:
        """This protocol with another batch size (None: its own); the size is part of its key."""
        return self if batch_size is None or batch_size == self.batch_size else replace(self, batch_size=batch_size)


NATS = Protocol("nats", "NATS-Bench's networks, one fixed seeded batch, NATS-Bench's normalisation",
                network="xautodl", bn_affine=True, bn_running_stats=True, batch_size=64, batch_draw="fixed",
                augment=False, normalisation="nats")
ZC2021 = Protocol("zc2021", "Abdelfattah et al. 2021 (zero-cost-nas nasbench2_pred.py): its NB201 model, a "
                  "random augmented training batch of 64 per arch",
                  network="zc-nb201", bn_affine=False, bn_running_stats=False, batch_size=64,
                  batch_draw="per-arch", augment=True, normalisation="zero-cost-nas")
SUITEZERO = Protocol("suitezero", "NAS-Bench-Suite-Zero (NASLib): BatchNorm without affine parameters or running "
                     "statistics, a random augmented training batch of 32 per arch",
                     network="xautodl", bn_affine=False, bn_running_stats=False, batch_size=32,
                     batch_draw="per-arch", augment=True, normalisation="naslib")
PROTOCOLS = {p.name: p for p in (NATS, ZC2021, SUITEZERO)}
DEFAULT = NATS.name


def get_protocol(name: str) -> Protocol:
    """The profile named ``name``; ValueError listing the valid ones otherwise."""
    if name not in PROTOCOLS:
        raise unknown_name("protocol", name, tuple(PROTOCOLS))
    return PROTOCOLS[name]
