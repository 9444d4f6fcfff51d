"""The ground-truth interface every searcher, proxy suite and report reads NATS-Bench through."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from harness.bench.datasets import check_dataset
from harness.errors import unknown_name
from harness.spaces import Arch, SearchSpace


class Oracle(ABC):
    """Accuracies, simulated training and costs of one space's archs on the three datasets.

    Subclasses implement the ``_`` methods on official indices; the public methods validate names and
    accept an index or an arch string.
    """

    space: SearchSpace

    @property
    def space_name(self) -> str:
        return self.space.name

    def _index(self, arch: Arch) -> int:
        if type(arch) is int and 0 <= arch < self.space.size:  # fast path for searchers' hot loop
            return arch
        return self.space.index(arch)

    def accuracy(self, arch: Arch, dataset: str, metric: str = "test", epochs: int = 200) -> float:
        """Accuracy (%) of ``arch``; e.g. ``metric='test', epochs=200`` is the mean over training seeds."""
        check_dataset(dataset)
        self.space.check_metric(metric, epochs, dataset)
        return float(self._accuracy(self._index(arch), dataset, metric, epochs))

    def accuracies(self, dataset: str, metric: str = "test", epochs: int = 200) -> np.ndarray:
        """The metric for every index (NaN where the source does not hold it)."""
        check_dataset(dataset)
        self.space.check_metric(metric, epochs, dataset)
        return self._accuracies(dataset, metric, epochs)

    def simulate_train_eval(self, arch: Arch, dataset: str, hp: int | None = None) -> tuple[float, float]:
        """(validation accuracy %, simulated seconds) of training ``arch`` for ``hp`` epochs.

        NATS-Bench semantics: on cifar10 the signal is the cifar10-valid run's validation accuracy; the time
        is hp epochs of training plus one epoch of validation. The accuracy is the mean over training
        seeds (deterministic; NATS-Bench's own call draws one seed). Seconds are NaN where the source has
        no training times (SSS): budgets there count queries.
        """
        check_dataset(dataset)
        hp = self.space.search_hp if hp is None else int(hp)
        return self._simulate(self._index(arch), dataset, hp)

    def cost(self, arch: Arch, dataset: str) -> dict[str, Any]:
        """Params (MB), FLOPs (M), training / validation seconds per epoch and latency (ms) where known."""
        check_dataset(dataset)
        return self._cost(self._index(arch), dataset)

    def latencies(self, device: str) -> np.ndarray:
        """Latency (ms) of every index on ``device``; ValueError listing the devices the data holds."""
        held = self._latency_table()
        if not held:
            raise ValueError(f"{type(self).__name__} holds no latencies for {self.space_name} (the benchmark "
                             "data has them for TSS only)")
        if device not in held:
            raise unknown_name("device", device, sorted(held))
        return held[device]

    def best(self, dataset: str, metric: str = "test", epochs: int = 200) -> tuple[int, float]:
        """(index, value) of the best arch under the metric."""
        acc = self.accuracies(dataset, metric, epochs)
        if np.isnan(acc).all():
            raise ValueError(f"{type(self).__name__} holds no {metric}@{epochs} accuracy for {dataset}")
        i = int(np.nanargmax(acc))
        return i, float(acc[i])

    def has_times(self, dataset: str) -> bool:
        """Whether simulate_train_eval reports seconds (so time budgets are meaningful)."""
        _, seconds = self.simulate_train_eval(0, dataset)
        return not math.isnan(seconds)

    def _latency_table(self) -> dict[str, np.ndarray]:
        """Device -> latency (ms) per index; empty where the source holds none."""
        return {}

    @abstractmethod
    def _accuracy(self, index: int, dataset: str, metric: str, epochs: int) -> float: ...

    @abstractmethod
    def _accuracies(self, dataset: str, metric: str, epochs: int) -> np.ndarray: ...

    @abstractmethod
    def _simulate(self, index: int, dataset: str, hp: int) -> tuple[float, float]: ...

    @abstractmethod
    def _cost(self, index: int, dataset: str) -> dict[str, Any]: ...
