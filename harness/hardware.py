"""Hardware-aware search: a latency limit on one device, or latency on one device as a second objective.

Latencies come from the benchmark's lookup table (``Oracle.latencies``: 27 devices, TSS only, one value per
arch used for every dataset). A lookup costs nothing next to a training run, so under a limit an infeasible
proposal is rejected before training: it is not charged to the budget, it can never become the incumbent,
and the searcher is told :data:`PENALTY_ACC` (the death penalty), so it learns to avoid the region. The
regret of a constrained run is measured against the best feasible arch, computed from the tables.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from harness.bench import Oracle
from harness.metrics.pareto import hypervolume, pareto_mask
from harness.searchers import Searcher

PENALTY_ACC = 0.0  # accuracy (%) a searcher is told for an infeasible proposal: below every real arch
_LIMIT = re.compile(r"^\s*([A-Za-z0-9_]+)\s*<=\s*([0-9.eE+-]+)\s*(?:ms)?\s*$")


@dataclass(frozen=True)
class Hardware:
    """What a hardware-aware run asks: ``latency(device) <= max_ms``, or (``max_ms=None``) the two
    objectives accuracy and latency on ``device``."""

    device: str
    max_ms: float | None = None

    @classmethod
    def limit(cls, text: str) -> Hardware:
        """A constraint written ``DEVICE<=MS`` (e.g. ``pixel3<=10`` or ``pixel3<=10ms``)."""
        match = _LIMIT.match(text)
        value = float(match.group(2)) if match and _is_float(match.group(2)) else math.nan
        if not match or not (math.isfinite(value) and value > 0):
            raise ValueError(f"expected a latency limit like 'pixel3<=10' (device<=milliseconds > 0), got {text!r}")
        return cls(match.group(1), value)

    @property
    def pareto(self) -> bool:
        return self.max_ms is None

    @property
    def mode(self) -> str:
        """The run's label in trajectories, case keys and file names."""
        return f"{self.device}-pareto" if self.pareto else f"{self.device}-le-{self.max_ms:g}ms"

    def bind(self, oracle: Oracle) -> BoundHardware:
        """The check against an oracle's latencies; an unknown device lists the held ones, a limit no arch
        meets is an error before any query."""
        lat = oracle.latencies(self.device)
        feasible = np.ones(len(lat), dtype=bool) if self.pareto else lat <= self.max_ms
        if not feasible.any():
            raise ValueError(f"no {oracle.space_name} arch meets latency({self.device}) <= {self.max_ms:g} ms "
                             f"(the fastest takes {np.nanmin(lat):.4g} ms)")
        return BoundHardware(self, lat, feasible, oracle.space.size)

    def optimum(self, oracle: Oracle, reported: np.ndarray) -> tuple[int, float]:
        """(index, value) of the best feasible arch under the reported metric: a constrained run's regret is
        exact against it."""
        masked = np.where(self.bind(oracle).feasible, reported, np.nan)
        i = int(np.nanargmax(masked))
        return i, float(masked[i])


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class BoundHardware:
    """A run's hardware check: rejects infeasible proposals, tells two-objective searchers the latency."""

    def __init__(self, spec: Hardware, latencies: np.ndarray, feasible: np.ndarray, space_size: int) -> None:
        self.spec, self.latencies, self.feasible = spec, latencies, feasible
        self.max_streak = space_size  # a searcher that proposes only infeasible archs this long is stuck
        self.rejected = 0
        self._streak = 0

    def reject(self, agent: Searcher, arch: int) -> bool | None:
        """None when ``arch`` is feasible; else tell the penalty and return whether the run must end."""
        if self.feasible[arch]:
            self._streak = 0
            return None
        agent.tell(arch, PENALTY_ACC, 0.0)
        self.rejected += 1
        self._streak += 1
        return self._streak >= self.max_streak

    def tell(self, agent: Searcher, arch: int, valid_acc: float, seconds: float) -> None:
        if self.spec.pareto:
            agent.tell_objectives(arch, (valid_acc, float(self.latencies[arch])), seconds)
        else:
            agent.tell(arch, valid_acc, seconds)


def front(archs: np.ndarray, valid: np.ndarray, latencies: np.ndarray) -> np.ndarray:
    """The archs a two-objective run reports: those no other queried arch beats on (validation accuracy,
    latency), each once."""
    archs = np.asarray(archs, dtype=np.int64)
    unique, first = np.unique(archs, return_index=True)
    return unique[pareto_mask(np.asarray(valid)[first], latencies[unique])]


def hv_regret(reported_front: np.ndarray, reported: np.ndarray, latencies: np.ndarray) -> float:
    """1 - HV(found) / HV(true front), both in (reported accuracy, latency) with the reference at the
    space's worst accuracy and latency: the share of the attainable hypervolume a run missed."""
    ref_acc, ref_lat = float(np.nanmin(reported)), float(np.nanmax(latencies))
    true = hypervolume(reported, latencies, ref_acc, ref_lat)
    found = hypervolume(reported[reported_front], latencies[reported_front], ref_acc, ref_lat)
    return 1.0 - found / true
