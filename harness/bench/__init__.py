"""Ground-truth oracles over NATS-Bench: the compact tables (default) or the official files."""

from __future__ import annotations

import os

from harness.bench.datasets import DATASETS, check_dataset
from harness.bench.natsbench import NatsBenchOracle
from harness.bench.oracle import Oracle
from harness.bench.table import TableOracle

SOURCES = ("table", "nats")


def load_oracle(space: str = "tss", source: str = "table",
                data: str | os.PathLike[str] | None = None) -> Oracle:
    """The oracle for a space: ``table`` reads ``$HARNESS_DATA_DIR`` (or ``data``), ``nats`` reads
    ``$TORCH_HOME`` (or ``data``) through the ``nats_bench`` API."""
    if source == "table":
        return TableOracle.load(space, data)
    if source == "nats":
        return NatsBenchOracle(space, data)
    raise ValueError(f"unknown oracle source {source!r}; valid sources: {', '.join(SOURCES)}")


__all__ = [
    "DATASETS",
    "SOURCES",
    "NatsBenchOracle",
    "Oracle",
    "TableOracle",
    "check_dataset",
    "load_oracle",
]
