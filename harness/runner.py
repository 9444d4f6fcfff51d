"""The NATS-Bench multi-trial search protocol, kept in one place: budget, simulated clock, trajectory.

A searcher sees only ``oracle.simulate_train_eval(arch, dataset)`` (12-epoch validation accuracy and its
simulated training time on TSS). A query that would overrun the time budget ends the run uncounted. The
reported result is the 200-epoch test accuracy of the incumbent (best validation accuracy so far), as in
NATS-Bench's tables. SSS has no training times, so its budget counts queries and the reported metric is the
90-epoch validation accuracy (the only value the SSS data holds).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from harness.bench import Oracle, check_dataset
from harness.errors import check_seed
from harness.searchers import SearchExhausted, get_searcher

if TYPE_CHECKING:  # harness.hardware imports harness.metrics, which imports this module
    from harness.hardware import Hardware
    from harness.warmup import WarmStart

# NATS-Bench TSS time budgets (simulated seconds) per dataset.
DEFAULT_BUDGETS_S = {"cifar10": 20000, "cifar100": 40000, "ImageNet16-120": 120000}
# Query budget where the oracle has no training times (SSS). NATS-Bench budgets SSS by time too, but our SSS
# data holds no times; 100 queries is about what REA spends on TSS cifar10 at 20,000 s (~130).
DEFAULT_MAX_QUERIES = 100
# Trajectory's per-query arrays and their dtypes (JSON holds lists).
_ARRAY_FIELDS = {"times": np.float64, "archs": np.int64, "valid_accs": np.float64,
                 "incumbent_archs": np.int64, "incumbent_reported": np.float64}


@dataclass
class Trajectory:
    """One search run. Per-query arrays are aligned: entry i is the state after query i + 1.

    ``times`` is cumulative simulated seconds, or the query count (1, 2, ...) when ``budget_kind`` is
    'queries'. ``incumbent_reported`` is ``reported_metric`` (e.g. 'test@200') of the incumbent after each
    query. ``snapshots`` holds (query number, searcher.state()) every ``snapshot_every`` queries and at the end.
    """

    searcher: str
    space: str
    dataset: str
    seed: int
    budget: float
    budget_kind: str  # 'seconds' | 'queries'
    reported_metric: str
    times: np.ndarray
    archs: np.ndarray
    valid_accs: np.ndarray
    incumbent_archs: np.ndarray
    incumbent_reported: np.ndarray
    final_reported: float
    n_queries: int
    snapshots: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    mode: str = ""  # '+'-joined ``Hardware.mode`` (latency limit / second objective) and ``WarmStart.mode``
    n_rejected: int = 0  # infeasible proposals rejected unpaid under a latency limit
    proxy_seconds: float = 0.0  # zero-cost proxy scoring of a warm-up / guided run
    proxy_charged: bool = False  # whether proxy_seconds is inside ``times`` (else reported apart)

    def to_dict(self) -> dict[str, Any]:
        """Plain lists and numbers (``json.dumps``-able; NaN stays NaN)."""
        out = asdict(self)
        for name in _ARRAY_FIELDS:
            out[name] = getattr(self, name).tolist()
        out["snapshots"] = [[n, s] for n, s in self.snapshots]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Trajectory:
        kwargs = dict(data)
        for name, dtype in _ARRAY_FIELDS.items():
            kwargs[name] = np.asarray(kwargs[name], dtype=dtype)
        kwargs["snapshots"] = [(int(n), s) for n, s in kwargs.get("snapshots", [])]
        return cls(**kwargs)


def run_search(searcher: str, oracle: Oracle, dataset: str, seed: int, budget_s: float | None = None,
               max_queries: int | None = None, snapshot_every: int = 10,
               hparams: Mapping[str, Any] | None = None, hardware: Hardware | None = None,
               warmup: WarmStart | None = None) -> Trajectory:
    """Run one search under the NATS-Bench protocol.

    With training times (TSS) the budget is ``budget_s`` (default ``DEFAULT_BUDGETS_S[dataset]``) and
    ``max_queries``, if given, caps the queries too. Without them (SSS) a time budget is an error and the
    budget is ``max_queries`` (default ``DEFAULT_MAX_QUERIES``). ``hparams`` override the searcher's.
    ``snapshot_every=0`` keeps only the final snapshot. ``hardware`` makes the run hardware-aware
    (``harness.hardware``: infeasible proposals are rejected unpaid; two-objective searchers are told latency).
    ``warmup`` proposes a proxy's top archs first and charges the proxy's seconds (``harness.warmup``).
    """
    check_dataset(dataset)
    check_seed(seed)
    if max_queries is not None and max_queries < 1:
        raise ValueError(f"max_queries must be >= 1, got {max_queries}")
    timed = oracle.has_times(dataset)
    if timed:
        budget = float(DEFAULT_BUDGETS_S[dataset] if budget_s is None else budget_s)
        if not budget > 0:
            raise ValueError(f"budget_s must be > 0, got {budget_s}")
        query_cap = math.inf if max_queries is None else max_queries
    else:
        if budget_s is not None:
            raise ValueError(
                f"{oracle.space_name} on {dataset} has no training times, so a time budget cannot be "
                "simulated; give max_queries instead"
            )
        query_cap = DEFAULT_MAX_QUERIES if max_queries is None else max_queries
        budget = float(query_cap)
    metric, epochs = oracle.space.reported
    reported = oracle.accuracies(dataset, metric, epochs)

    cls = get_searcher(searcher)
    hw = hardware.bind(oracle) if hardware is not None else None
    if len(cls.objectives) > 1 and (hw is None or not hw.spec.pareto):
        raise ValueError(f"searcher {searcher!r} searches {', '.join(cls.objectives)}: it needs a run with "
                         "latency as the second objective (hardware=Hardware(device))")
    agent = cls(oracle.space, seed, **dict(hparams or {}))
    charged = warmup is not None and timed and not warmup.free
    proxy_s = 0.0
    if warmup is not None:
        warmup.check(oracle.space.size, budget, timed)
        agent, proxy_s = warmup.wrap(agent, seed), warmup.cost_s
    times, archs, valid_accs, inc_archs, inc_reported = [], [], [], [], []
    snapshots: list[tuple[int, dict[str, Any]]] = []
    clock, best_valid, incumbent = proxy_s if charged else 0.0, -math.inf, -1
    while len(archs) < query_cap:
        try:
            arch = agent.ask()
        except SearchExhausted:
            break
        if not (type(arch) is int and 0 <= arch < oracle.space.size):  # the hot loop's common case skips this
            arch = _checked(arch, searcher, oracle)
        if warmup is not None and warmup.guide:
            guided = agent.proxy_seconds_since_last()
            proxy_s, clock = proxy_s + guided, clock + (guided if charged else 0.0)
        if hw is not None and (stuck := hw.reject(agent, arch)) is not None:
            if stuck:
                break
            continue
        valid, seconds = oracle.simulate_train_eval(arch, dataset)
        if timed:
            if not math.isfinite(seconds):
                raise ValueError(f"{oracle.space_name} arch {arch} on {dataset}: no training time recorded")
            if clock + seconds > budget:
                break
            clock += seconds
        else:
            clock += 1
        if hw is None:
            agent.tell(arch, valid, seconds)
        else:
            hw.tell(agent, arch, valid, seconds)
        if valid > best_valid:
            best_valid, incumbent = valid, arch
        times.append(clock)
        archs.append(arch)
        valid_accs.append(valid)
        inc_archs.append(incumbent)
        inc_reported.append(reported[incumbent] if incumbent >= 0 else math.nan)
        if snapshot_every and len(archs) % snapshot_every == 0:
            snapshots.append((len(archs), agent.state()))
    if archs and (not snapshots or snapshots[-1][0] != len(archs)):
        snapshots.append((len(archs), agent.state()))

    return Trajectory(
        searcher=searcher, space=oracle.space_name, dataset=dataset, seed=int(seed), budget=budget,
        budget_kind="seconds" if timed else "queries", reported_metric=f"{metric}@{epochs}",
        times=np.asarray(times, dtype=np.float64), archs=np.asarray(archs, dtype=np.int64),
        valid_accs=np.asarray(valid_accs, dtype=np.float64),
        incumbent_archs=np.asarray(inc_archs, dtype=np.int64),
        incumbent_reported=np.asarray(inc_reported, dtype=np.float64),
        final_reported=float(inc_reported[-1]) if inc_reported else math.nan,
        n_queries=len(archs), snapshots=snapshots,
        mode="+".join(m.mode for m in (hardware, warmup) if m is not None),
        n_rejected=hw.rejected if hw else 0, proxy_seconds=proxy_s, proxy_charged=charged,
    )


def _checked(arch: object, searcher: str, oracle: Oracle) -> int:
    """An asked arch as an index of the space, or an error naming the searcher (a plugin's bug is its own)."""
    if isinstance(arch, bool) or not isinstance(arch, (int, np.integer)):
        raise TypeError(f"searcher {searcher!r} asked {arch!r} ({type(arch).__name__}); ask() returns an arch "
                        f"index, an int in [0, {oracle.space.size})")
    if not 0 <= arch < oracle.space.size:
        raise ValueError(f"searcher {searcher!r} asked arch {arch}, outside {oracle.space_name}'s indices "
                         f"[0, {oracle.space.size})")
    return int(arch)
