"""Regret math on hand-made trajectories."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from harness.metrics import aggregate, anytime, final_table, mann_whitney, regret, regret_at, regret_auc
from harness.runner import Trajectory


def make(times, reported, searcher="rea", dataset="cifar10", budget=100.0, kind="seconds", seed=0):
    n = len(times)
    return Trajectory(searcher=searcher, space="tss", dataset=dataset, seed=seed, budget=budget,
                      budget_kind=kind, reported_metric="test@200", times=np.asarray(times, float),
                      archs=np.arange(n), valid_accs=np.zeros(n), incumbent_archs=np.arange(n),
                      incumbent_reported=np.asarray(reported, float),
                      final_reported=float(reported[-1]) if n else float("nan"), n_queries=n)


def test_anytime_is_a_step_function_with_nan_before_the_first_query():
    t = make([10, 30, 60], [90.0, 92.0, 93.0])
    curve = anytime(t, [0, 9.9, 10, 29, 30, 59, 60, 100, 1000])
    assert np.array_equal(curve, [np.nan, np.nan, 90, 90, 92, 92, 93, 93, 93], equal_nan=True)


def test_query_budget_grid_is_query_counts():
    t = make([1, 2, 3], [70.0, 71.0, 71.5], kind="queries", budget=3)
    assert anytime(t, [1, 2, 3]).tolist() == [70.0, 71.0, 71.5]


def test_regret_at_fractions_and_auc():
    t = make([10, 30, 60], [90.0, 92.0, 93.0])
    assert regret_at(t, 94.0, (0.2, 0.5, 1.0)) == pytest.approx([4.0, 2.0, 1.0])
    # regret 4 on [0, 30) (first result charged from 0), 2 on [30, 60), 1 on [60, 100]
    assert regret_auc(t, 94.0) == pytest.approx((4 * 30 + 2 * 30 + 1 * 40) / 100)
    assert regret(np.array([93.0, 94.0]), 94.0).tolist() == [1.0, 0.0]


def test_aggregate_matches_t_interval_and_ignores_nan():
    curves = np.array([[1.0, np.nan], [2.0, 5.0], [4.0, np.nan], [5.0, np.nan]])
    agg = aggregate(curves)
    col = curves[:, 0]
    lo, hi = stats.t.interval(0.95, len(col) - 1, loc=col.mean(), scale=stats.sem(col))
    assert agg["mean"][0] == pytest.approx(3.0) and agg["std"][0] == pytest.approx(col.std(ddof=1))
    assert (agg["ci_low"][0], agg["ci_high"][0]) == pytest.approx((lo, hi))
    assert agg["n"].tolist() == [4, 1]
    assert agg["mean"][1] == 5.0 and np.isnan(agg["std"][1]) and np.isnan(agg["ci_low"][1])


def test_final_table_groups_runs():
    trajs = [make([10], [v], searcher=s, seed=i) for i, (s, v) in
             enumerate([("rea", 93.0), ("rea", 94.0), ("random", 92.0)])]
    rows = {r["searcher"]: r for r in final_table(trajs)}
    assert rows["rea"]["runs"] == 2 and rows["rea"]["final_mean"] == pytest.approx(93.5)
    assert rows["rea"]["final_std"] == pytest.approx(np.std([93.0, 94.0], ddof=1))
    assert rows["random"]["runs"] == 1 and rows["random"]["budget"] == 100.0
    assert math.isnan(rows["random"]["mw_p"]) and rows["rea"]["mw_u"] == 2.0
    with_optimum = {r["searcher"]: r for r in final_table(trajs, {("tss", "cifar10", ""): 95.0})}
    assert with_optimum["rea"]["regret_mean"] == pytest.approx(1.5)


def test_mann_whitney_direction():
    a, b = [5.0, 6.0, 7.0, 8.0, 9.0], [1.0, 2.0, 3.0, 4.0, 4.5]
    u, p = mann_whitney(a, b)
    assert u == 25.0 and p < 0.01
    assert mann_whitney(b, a)[1] > 0.99
