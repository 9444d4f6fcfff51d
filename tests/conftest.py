"""Shared fixtures for the unit tests: the data root and one oracle per space, loaded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.bench import TableOracle
from harness.config import data_dir
from harness.errors import DataNotFoundError


@pytest.fixture(scope="session")
def data_root() -> Path:
    try:
        return data_dir()
    except DataNotFoundError as exc:
        pytest.skip(f"benchmark data not available: {exc}")


@pytest.fixture(scope="session")
def official_dir(data_root: Path) -> Path:
    path = data_root / "nats-bench" / "official"
    if not path.is_dir():
        pytest.skip(f"official NATS-Bench records not found under {path}")
    return path


@pytest.fixture(scope="session")
def tss_oracle(data_root: Path) -> TableOracle:
    return TableOracle.load("tss", data_root)


@pytest.fixture(scope="session")
def sss_oracle(data_root: Path) -> TableOracle:
    return TableOracle.load("sss", data_root)


@pytest.fixture(scope="session")
def cifar10_batch(data_root: Path):
    from harness.images import load_batch

    return load_batch("cifar10", 16, seed=0, data=data_root)
