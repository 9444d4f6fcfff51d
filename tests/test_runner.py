"""The search protocol: budgets, the reported metric, the incumbent, the record."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from harness.runner import DEFAULT_BUDGETS_S, DEFAULT_MAX_QUERIES, Trajectory, run_search

SEARCHERS = ["local", "optuna-random", "optuna-tpe", "ppo", "random", "rea", "reinforce"]


def test_query_that_would_overrun_the_budget_ends_the_run(tss_oracle):
    """Replaying random search's order by hand: the run stops exactly before the first overrunning query."""
    traj = run_search("random", tss_oracle, "cifar100", seed=3, budget_s=5000)
    order = np.random.default_rng(3).permutation(tss_oracle.space.size)
    seconds = np.array([tss_oracle.simulate_train_eval(int(a), "cifar100")[1] for a in order[:200]])
    n = int(np.searchsorted(np.cumsum(seconds), 5000, side="right"))
    assert traj.n_queries == n
    assert traj.archs.tolist() == order[:n].tolist()
    assert traj.times == pytest.approx(np.cumsum(seconds[:n]))
    assert traj.times[-1] <= 5000 < traj.times[-1] + seconds[n]


@pytest.mark.parametrize("searcher", SEARCHERS)
def test_each_searcher_stays_within_the_default_tss_budget(tss_oracle, searcher):
    traj = run_search(searcher, tss_oracle, "cifar10", seed=0)
    assert traj.budget == DEFAULT_BUDGETS_S["cifar10"] and traj.budget_kind == "seconds"
    assert 50 < traj.n_queries < 400 and traj.times[-1] <= traj.budget
    assert np.all(np.diff(traj.times) > 0)


@pytest.mark.parametrize("searcher", SEARCHERS)
def test_each_searcher_runs_on_sss_with_a_query_budget(sss_oracle, searcher):
    traj = run_search(searcher, sss_oracle, "cifar100", seed=0)
    assert traj.budget_kind == "queries" and traj.budget == DEFAULT_MAX_QUERIES
    assert traj.n_queries == DEFAULT_MAX_QUERIES and traj.times.tolist() == list(range(1, 101))
    assert traj.reported_metric == "valid@90"
    valid = sss_oracle.accuracies("cifar100", "valid", 90)
    assert traj.final_reported == valid[traj.incumbent_archs[-1]]


def test_sss_time_budget_is_an_error(sss_oracle):
    with pytest.raises(ValueError, match="no training times"):
        run_search("rea", sss_oracle, "cifar10", seed=0, budget_s=20000)


def test_incumbent_is_best_validation_and_reports_test_200(tss_oracle):
    traj = run_search("rea", tss_oracle, "ImageNet16-120", seed=5, budget_s=30000)
    assert traj.reported_metric == "test@200"
    best = [traj.archs[int(np.argmax(traj.valid_accs[: i + 1]))] for i in range(traj.n_queries)]
    assert traj.incumbent_archs.tolist() == best
    test200 = tss_oracle.accuracies("ImageNet16-120", "test", 200)
    assert traj.incumbent_reported.tolist() == test200[traj.incumbent_archs].tolist()
    assert traj.final_reported == traj.incumbent_reported[-1]
    # the searcher saw the 12-epoch validation signal, not the reported metric
    valid12 = tss_oracle.accuracies("ImageNet16-120", "valid", 12)
    assert traj.valid_accs.tolist() == valid12[traj.archs].tolist()


def test_max_queries_caps_and_snapshots(tss_oracle):
    traj = run_search("reinforce", tss_oracle, "cifar10", seed=0, max_queries=25, snapshot_every=10)
    assert traj.n_queries == 25
    assert [n for n, _ in traj.snapshots] == [10, 20, 25]
    assert set(traj.snapshots[0][1]) == {"probs", "entropy", "baseline"}


def test_trajectory_json_round_trip(tss_oracle):
    traj = run_search("rea", tss_oracle, "cifar10", seed=1, budget_s=3000)
    again = Trajectory.from_dict(json.loads(json.dumps(traj.to_dict())))
    assert again.to_dict() == traj.to_dict()
    assert again.archs.dtype == np.int64 and again.snapshots[0][0] == 10


def test_bad_arguments(tss_oracle):
    with pytest.raises(ValueError, match="unknown dataset"):
        run_search("rea", tss_oracle, "mnist", seed=0)
    with pytest.raises(ValueError, match="unknown searcher"):
        run_search("evolution", tss_oracle, "cifar10", seed=0)
    with pytest.raises(ValueError, match="max_queries"):
        run_search("rea", tss_oracle, "cifar10", seed=0, max_queries=0)
    tiny = run_search("rea", tss_oracle, "cifar10", seed=0, budget_s=1.0)
    assert tiny.n_queries == 0 and math.isnan(tiny.final_reported)
