"""How well a proxy's scores rank archs by accuracy: rank correlations and top-k% precision, with paired
percentile-bootstrap 95% confidence intervals (``scipy.stats.bootstrap``)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from scipy import stats

from harness.errors import DegenerateWarning, check_seed
from harness.metrics.estimate import Estimate

CORRELATIONS = ("spearman", "kendall", "pearson")
_BOOT_CELLS = 2_000_000  # resample rows x archs held in memory per bootstrap batch
MAX_UNDEFINED_RESAMPLES = 0.05  # share of resamples without a correlation a CI may leave out


def _pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r along the last axis; NaN where either side is constant."""
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    denom = np.sqrt((xc * xc).sum(axis=-1) * (yc * yc).sum(axis=-1))
    # test constancy exactly: the mean of equal floats can differ from them by rounding
    varies = (np.ptp(x, axis=-1) > 0) & (np.ptp(y, axis=-1) > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(varies, (xc * yc).sum(axis=-1) / denom, np.nan)


def _kendall(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Kendall tau-b along the last axis (scipy's O(n log n) routine, one row at a time)."""
    xs, ys = np.atleast_2d(x), np.atleast_2d(y)
    out = np.empty(len(xs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant input: NaN, as wanted
        for i, (a, b) in enumerate(zip(xs, ys)):
            out[i] = stats.kendalltau(a, b).statistic
    return out.reshape(np.shape(x)[:-1])


def _topk_weights(v: np.ndarray, k: int) -> np.ndarray:
    """Membership of the top ``k`` along the last axis, ties at the cut shared fractionally.

    The fractions are the inclusion probabilities under random tie-breaking, so precision computed from them
    is the expected precision: all-equal scores give chance level, not an artefact of sort order.
    """
    cut = -np.partition(-v, k - 1, axis=-1)[..., k - 1 : k]
    above = v > cut
    tied = v == cut
    share = (k - above.sum(axis=-1, keepdims=True)) / tied.sum(axis=-1, keepdims=True)
    return above + tied * share


def topk_precision(scores: np.ndarray, accuracies: np.ndarray, percent: float) -> np.ndarray:
    """Share of the true top-``percent``% archs among the proxy's top-``percent``% (along the last axis)."""
    n = np.shape(scores)[-1]
    k = max(1, round(n * percent / 100))
    return (_topk_weights(scores, k) * _topk_weights(accuracies, k)).sum(axis=-1) / k


def _average_ranks(dense: np.ndarray, m: int) -> np.ndarray:
    """``rankdata(..., 'average')`` along the last axis of integer codes in [0, m) that preserve order.

    Counting instead of sorting makes ranking each bootstrap resample O(n): resampling permutes and repeats
    the original values, so their dense ranks (computed once) stay valid codes.
    """
    rows = dense.reshape(-1, dense.shape[-1])
    offsets = (np.arange(len(rows)) * m)[:, None]
    counts = np.bincount((rows + offsets).ravel(), minlength=len(rows) * m).reshape(len(rows), m)
    average = np.cumsum(counts, axis=1) - (counts - 1) / 2
    return np.take_along_axis(average, rows, axis=1).reshape(dense.shape)


def _statistics(topk: Sequence[float], m_scores: int, m_accs: int):
    """The vectorised statistic over (scores, accuracies, their dense ranks) for scipy.stats.bootstrap."""

    def statistic(s: np.ndarray, a: np.ndarray, ds: np.ndarray, da: np.ndarray, axis: int = -1) -> np.ndarray:
        s, a, ds, da = (np.moveaxis(x, axis, -1) for x in (s, a, ds, da))
        spearman = _pearson(_average_ranks(ds, m_scores), _average_ranks(da, m_accs))
        values = [spearman, _kendall(s, a), _pearson(s, a)]
        values += [topk_precision(s, a, p) for p in topk]
        return np.stack(values)

    return statistic


def _percentile_ci(distribution: np.ndarray, values: np.ndarray, names: Sequence[str],
                   n: int) -> tuple[np.ndarray, np.ndarray]:
    """The percentile 95% CI of each statistic's bootstrap distribution (scipy's own where no resample is
    NaN). A resample that draws a single arch over and over has a constant side and no correlation: up to
    :data:`MAX_UNDEFINED_RESAMPLES` of them are left out; past that the CI is NaN, with a warning."""
    undefined = np.isnan(distribution).mean(axis=-1)
    low, high = np.percentile(distribution, [2.5, 97.5], axis=-1)
    partly = (undefined > 0) & (undefined < 1)
    if partly.any():
        low[partly], high[partly] = np.nanpercentile(distribution[partly], [2.5, 97.5], axis=-1)
    lost = [i for i, name in enumerate(names) if undefined[i] > MAX_UNDEFINED_RESAMPLES and np.isfinite(values[i])]
    low[lost] = high[lost] = np.nan
    if lost:
        _degenerate(f"{n} archs: the bootstrap CI of {', '.join(names[i] for i in lost)} is NaN (up to "
                    f"{max(undefined[lost]):.0%} of the resamples repeat one arch and have no rank correlation); "
                    "use more archs")
    return low, high


def _degenerate(message: str) -> None:
    warnings.warn(message, DegenerateWarning, stacklevel=3)


def rank_metrics(scores: Sequence[float] | np.ndarray, accuracies: Sequence[float] | np.ndarray,
                 n_boot: int = 1000, seed: int = 0,
                 topk: Sequence[float] = (1, 5, 10)) -> dict[str, Estimate | int]:
    """Spearman, Kendall tau-b, Pearson and top-k% precision (``top1`` ...) of ``scores`` against
    ``accuracies``, each an Estimate with a paired percentile-bootstrap 95% CI (``n_boot`` resamples;
    0 for no CI). Pairs with a non-finite score or accuracy are dropped first: ``n`` counts the pairs used,
    ``n_nonfinite`` the pairs dropped. A constant side gives NaN correlations, and too few archs NaN
    intervals; each with a DegenerateWarning that says so (no crash).
    """
    bad_k = [p for p in topk if not 0 < p <= 100]
    if bad_k:
        raise ValueError(f"topk are percentages in (0, 100], got {bad_k}")
    check_seed(seed)
    if n_boot < 0:
        raise ValueError(f"n_boot is a number of resamples (0 for no CI), got {n_boot}")
    s = np.asarray(scores, dtype=np.float64)
    a = np.asarray(accuracies, dtype=np.float64)
    if s.ndim != 1 or s.shape != a.shape:
        raise ValueError(f"scores and accuracies must be 1-D of equal length, got {s.shape} and {a.shape}")
    keep = np.isfinite(s) & np.isfinite(a)
    s, a = s[keep], a[keep]
    names = [*CORRELATIONS, *(f"top{p:g}" for p in topk)]
    out: dict[str, Estimate | int] = {"n": int(keep.sum()), "n_nonfinite": int((~keep).sum())}
    dropped = f" ({out['n_nonfinite']} of {len(keep)} dropped: a non-finite score or accuracy)" \
        if out["n_nonfinite"] else ""
    if len(s) < 2:
        _degenerate(f"{len(s)} arch(s) with a finite score and accuracy{dropped}: every rank metric is NaN")
        return out | {name: Estimate(np.nan, np.nan, np.nan) for name in names}
    for side, v in (("scores", s), ("accuracies", a)):
        if np.ptp(v) == 0:
            _degenerate(f"all {len(v)} {side}{dropped} equal {v[0]:.6g}: the correlations are NaN and top-k "
                        "precision is chance level")
    ds = stats.rankdata(s, method="dense") - 1
    da = stats.rankdata(a, method="dense") - 1
    statistic = _statistics(topk, int(ds.max()) + 1, int(da.max()) + 1)
    values = statistic(s, a, ds, da)
    low = high = np.full(len(names), np.nan)
    if n_boot > 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # degenerate resamples (NaN correlations) are expected
            res = stats.bootstrap((s, a, ds, da), statistic, paired=True, vectorized=True, n_resamples=n_boot,
                                  batch=max(1, _BOOT_CELLS // len(s)), method="percentile",
                                  rng=np.random.default_rng(seed))
        low, high = _percentile_ci(res.bootstrap_distribution, values, names, len(s))
    for i, name in enumerate(names):
        out[name] = Estimate(float(values[i]), float(low[i]), float(high[i]))
    return out
