"""Rank metrics against scipy, top-k on known examples, non-finite and degenerate input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from harness.metrics import rank_metrics, topk_precision


@pytest.fixture(scope="module")
def noisy():
    rng = np.random.default_rng(1)
    acc = rng.normal(size=400)
    acc[:40] = np.round(acc[:40], 1)  # some ties
    return acc + rng.normal(scale=0.8, size=400), acc


def test_correlations_match_scipy(noisy):
    scores, acc = noisy
    m = rank_metrics(scores, acc, n_boot=200)
    assert m["spearman"].value == pytest.approx(stats.spearmanr(scores, acc).statistic, abs=1e-12)
    assert m["kendall"].value == pytest.approx(stats.kendalltau(scores, acc).statistic, abs=1e-12)
    assert m["pearson"].value == pytest.approx(stats.pearsonr(scores, acc).statistic, abs=1e-12)
    assert m["n"] == 400 and m["n_nonfinite"] == 0


def test_bootstrap_interval_matches_scipy_percentile(noisy):
    scores, acc = noisy
    m = rank_metrics(scores, acc, n_boot=300, seed=7)
    ref = stats.bootstrap((scores, acc), lambda x, y: stats.spearmanr(x, y).statistic, paired=True,
                          vectorized=False, n_resamples=300, method="percentile",
                          rng=np.random.default_rng(7))
    assert m["spearman"].ci_low == pytest.approx(ref.confidence_interval.low, abs=1e-9)
    assert m["spearman"].ci_high == pytest.approx(ref.confidence_interval.high, abs=1e-9)
    for name in ("kendall", "pearson", "top10"):
        assert m[name].ci_low <= m[name].value <= m[name].ci_high


def test_topk_known_example():
    acc = np.arange(100.0)  # true top 10% = 90..99
    scores = acc.copy()
    scores[95:] = -1.0  # the proxy misses 5 of the true top 10
    assert topk_precision(scores, acc, 10) == pytest.approx(0.5)
    assert topk_precision(acc, acc, 5) == 1.0
    assert topk_precision(-acc, acc, 1) == 0.0


def test_topk_ties_give_expected_precision():
    acc = np.arange(100.0)
    assert topk_precision(np.zeros(100), acc, 10) == pytest.approx(0.10)  # chance level
    scores = np.r_[np.zeros(90), np.ones(10)]
    scores[95:] = 0.5  # the true top 10 score 1 or 0.5: still all ranked above the other 90
    assert topk_precision(scores, acc, 10) == pytest.approx(1.0)


def test_nonfinite_scores_are_dropped_and_counted(noisy):
    scores, acc = noisy
    bad = scores.copy()
    bad[[0, 5, 9]] = [np.nan, np.inf, -np.inf]
    m = rank_metrics(bad, acc, n_boot=0)
    keep = np.isfinite(bad)
    assert m["n"] == 397 and m["n_nonfinite"] == 3
    assert m["spearman"].value == pytest.approx(stats.spearmanr(bad[keep], acc[keep]).statistic)
    assert math.isnan(m["spearman"].ci_low)


def test_constant_scores_give_nan_correlations_without_crashing(noisy):
    _, acc = noisy
    m = rank_metrics(np.full_like(acc, 0.1), acc, n_boot=100)
    for name in ("spearman", "kendall", "pearson"):
        assert math.isnan(m[name].value)
    assert m["top10"].value == pytest.approx(0.1)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="equal length"):
        rank_metrics([1, 2, 3], [1, 2])


@pytest.mark.parametrize(("kwargs", "message"), [({"topk": (0,)}, r"percentages in \(0, 100\], got \[0\]"),
                                                 ({"topk": (5, 200)}, r"got \[200\]"),
                                                 ({"n_boot": -5}, "0 for no CI")])
def test_bad_topk_or_resample_count_is_an_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rank_metrics([1, 2, 3, 4], [1, 2, 4, 3], **kwargs)
