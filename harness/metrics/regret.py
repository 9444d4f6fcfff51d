"""Anytime performance of search runs: incumbent curves on a common grid, regret, aggregation, tests.

Curves are step functions: after a query ends the incumbent holds until the next query ends, and it holds
to the end of the budget (the query that would overrun it is not run). Before the first query there is no
incumbent (NaN). For query budgets the grid is the number of queries.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from harness.metrics.estimate import t_interval
from harness.runner import Trajectory


def anytime(traj: Trajectory, grid: Sequence[float] | np.ndarray) -> np.ndarray:
    """The incumbent's reported accuracy at each grid point (seconds, or queries for query budgets)."""
    grid = np.asarray(grid, dtype=np.float64)
    idx = np.searchsorted(traj.times, grid, side="right") - 1
    out = np.full(grid.shape, np.nan)
    ok = idx >= 0
    out[ok] = traj.incumbent_reported[idx[ok]]
    return out


def regret(values: np.ndarray | float, optimum: float) -> np.ndarray:
    """Simple regret: the optimum of the reported metric minus the achieved value."""
    return optimum - np.asarray(values, dtype=np.float64)


def regret_at(traj: Trajectory, optimum: float,
              fractions: Sequence[float] = (0.1, 0.25, 0.5, 1.0)) -> np.ndarray:
    """Regret at fractions of the run's budget."""
    return regret(anytime(traj, np.asarray(fractions) * traj.budget), optimum)


def regret_auc(traj: Trajectory, optimum: float) -> float:
    """Area under the regret step curve over [0, budget], divided by the budget: mean regret over time.

    No incumbent exists before the first query ends; that stretch is charged the first incumbent's regret,
    i.e. the area is that of the curve as if the first result were known at time 0 (one query is ~1% of a
    NATS-Bench budget). NaN when the run made no query.
    """
    if traj.n_queries == 0:
        return float("nan")
    r = regret(traj.incumbent_reported, optimum)
    starts = np.concatenate([[0.0], traj.times[1:]])
    ends = np.concatenate([traj.times[1:], [traj.budget]])
    return float(np.sum(r * (ends - starts)) / traj.budget)


def aggregate(curves: np.ndarray | Sequence[Sequence[float]], confidence: float = 0.95) -> dict[str, Any]:
    """Mean, sample std and t-based confidence interval over runs (axis 0), ignoring NaN entries.

    ``curves`` is (runs, grid) or (runs,). Where fewer than two runs have a value the interval is NaN.
    """
    t = t_interval(np.asarray(curves, dtype=np.float64), confidence)
    mean, std, half, n = t["mean"], t["std"], t["half"], t["n"]
    return {"mean": mean, "std": std, "ci_low": mean - half, "ci_high": mean + half, "n": n}


REFERENCE_SEARCHER = "random"
TABLE_FRACTIONS = (0.25, 0.5)


def final_table(trajs: Iterable[Trajectory], optima: Mapping[tuple[str, str, str], float] | None = None,
                reference: str = REFERENCE_SEARCHER) -> list[dict[str, Any]]:
    """One row per (searcher, space, dataset, budget, mode): runs, mean and sample std of the final result, mean
    queries, and a one-sided Mann-Whitney test of the finals against ``reference``'s in the same group and mode
    (greater; NaN for the reference itself). With the optimum of (space, dataset, mode) in ``optima``: the mean
    regret at 25% and 50% of the budget, at its end, and its area (``regret_auc``)."""
    groups: dict[tuple, list[Trajectory]] = {}
    for t in trajs:
        key = (t.searcher, t.space, t.dataset, t.budget, t.budget_kind, t.reported_metric, t.mode)
        groups.setdefault(key, []).append(t)
    rows = []
    for (searcher, space, dataset, budget, kind, metric, mode), runs in groups.items():
        finals = np.asarray([t.final_reported for t in runs])
        agg = aggregate(finals)
        ref = groups.get((reference, space, dataset, budget, kind, metric, mode))
        u, p = (math.nan, math.nan) if searcher == reference or not ref else \
            mann_whitney(finals, [t.final_reported for t in ref])
        row = {"searcher": searcher, "space": space, "dataset": dataset, "mode": mode, "runs": len(runs),
               "budget": budget, "budget_kind": kind, "metric": metric, "final_mean": float(agg["mean"]),
               "final_std": float(agg["std"]), "queries_mean": float(np.mean([t.n_queries for t in runs])),
               "mw_u": u, "mw_p": p}
        optimum = (optima or {}).get((space, dataset, mode))
        if optimum is not None:
            at = np.nanmean([regret_at(t, optimum, TABLE_FRACTIONS) for t in runs], axis=0)
            row.update({f"regret_at_{f}": float(v) for f, v in zip(TABLE_FRACTIONS, at)})
            row.update(optimum=float(optimum), regret_mean=float(optimum - agg["mean"]),
                       auc_regret=float(np.nanmean([regret_auc(t, optimum) for t in runs])))
        rows.append(row)
    return rows


def mann_whitney(a: Sequence[float], b: Sequence[float], alternative: str = "greater") -> tuple[float, float]:
    """Mann-Whitney U test of ``a`` against ``b`` (default H1: ``a`` tends to be larger): (U of a, p)."""
    res = stats.mannwhitneyu(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64),
                             alternative=alternative)
    return float(res.statistic), float(res.pvalue)
