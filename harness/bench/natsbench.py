"""NatsBenchOracle: the same interface over official NATS-Bench files through the real ``nats_bench`` API."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from harness.bench.oracle import Oracle
from harness.bench.unpickle import install_into_nats_bench
from harness.errors import DataNotFoundError
from harness.spaces import SizeSpace, TopologySpace

FOLDERS = {"tss": "NATS-tss-v1_0-3ffb9-simple", "sss": "NATS-sss-v1_0-50262-simple"}


def official_folder(space: str, torch_home: str | os.PathLike[str] | None = None) -> Path:
    """``$TORCH_HOME/<official folder>`` (or under ``torch_home``), which must exist."""
    root = torch_home if torch_home is not None else os.environ.get("TORCH_HOME", "~/.torch")
    path = Path(root).expanduser() / FOLDERS[space]
    if not (path / "meta.pickle.pbz2").is_file():
        raise DataNotFoundError(
            f"official NATS-Bench {space.upper()} files not found: {path}/meta.pickle.pbz2 "
            "(set TORCH_HOME to the folder holding the NATS-Bench downloads)"
        )
    return path


class NatsBenchOracle(Oracle):
    """Reads the official files (``fast_mode=True``) via ``nats_bench.create``.

    Accuracies use ``is_random=False`` (mean over training seeds), so both backends agree; the official
    "simple" files hold every arch's record, a partial folder only some (others raise DataNotFoundError).
    """

    def __init__(self, space: str = "tss", torch_home: str | os.PathLike[str] | None = None):
        from nats_bench import create

        if space not in FOLDERS:
            raise ValueError(f"unknown space {space!r}; valid spaces: tss, sss")
        folder = official_folder(space, torch_home)
        install_into_nats_bench()
        self.api = create(str(folder), space, fast_mode=True, verbose=False)
        self.folder = folder
        self.source = str(folder)
        self.space = {"tss": lambda: TopologySpace(list(self.api.meta_archs)), "sss": SizeSpace}[space]()
        self._info = lru_cache(maxsize=65536)(self._more_info)

    def available(self) -> list[int]:
        """Indices whose record files are present."""
        return sorted(i for i in range(self.space.size) if self._record_path(i).is_file())

    def _record_path(self, index: int) -> Path:
        return self.folder / f"{index:06d}.pickle.pbz2"

    def _more_info(self, index: int, dataset: str, hp: int) -> dict[str, Any]:
        if not self._record_path(index).is_file():
            raise DataNotFoundError(f"NATS-Bench record {self._record_path(index)} not found")
        return self.api.get_more_info(index, dataset, hp=str(hp), is_random=False)

    @staticmethod
    def _run(dataset: str, metric: str) -> str:
        return "cifar10-valid" if dataset == "cifar10" and metric == "valid" else dataset

    def _accuracy(self, index: int, dataset: str, metric: str, epochs: int) -> float:
        return self._info(index, self._run(dataset, metric), epochs)[f"{metric}-accuracy"]

    def _accuracies(self, dataset: str, metric: str, epochs: int) -> np.ndarray:
        out = np.full(self.space.size, np.nan)
        for i in self.available():
            out[i] = self._accuracy(i, dataset, metric, epochs)
        return out

    def _simulate(self, index: int, dataset: str, hp: int) -> tuple[float, float]:
        info = self._info(index, self._run(dataset, "valid"), hp)
        if not self.space.has_times:
            return float(info["valid-accuracy"]), float("nan")
        return float(info["valid-accuracy"]), float(info["train-all-time"] + info["valid-per-time"])

    def _cost(self, index: int, dataset: str) -> dict[str, Any]:
        if not self._record_path(index).is_file():
            raise DataNotFoundError(f"NATS-Bench record {self._record_path(index)} not found")
        cost = self.api.get_cost_info(index, self._run(dataset, "valid"), hp=str(self.space.search_hp))
        valid = self._info(index, self._run(dataset, "valid"), self.space.search_hp)
        return {
            "params_mb": float(cost["params"]),
            "flops_m": float(cost["flops"]),
            "train_s_per_epoch": float(cost["T-train@epoch"]) if self.space.has_times else float("nan"),
            "valid_s_per_epoch": float(valid["valid-per-time"]) if self.space.has_times else float("nan"),
            "valid_s_estimated": False,
            "latency_ms": {"nats_bench": 1000.0 * float(cost["latency"])},
        }


