"""A value with its 95% confidence interval, and the t-interval of a mean: the one estimate type every
metric, the gate and the report use."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
from scipy import stats


class Estimate(NamedTuple):
    value: float
    ci_low: float
    ci_high: float

    def half_width(self, side: str) -> float:
        """Distance from the value to the ``low`` or ``high`` bound (0 where the bound is unknown)."""
        width = abs(self.value - (self.ci_low if side == "low" else self.ci_high))
        return 0.0 if math.isnan(width) else width


def t_interval(a: np.ndarray, confidence: float = 0.95) -> dict[str, np.ndarray]:
    """Mean, sample std, t-based half-width and count over axis 0, ignoring NaN entries (NaN half-width where
    fewer than two values)."""
    a = np.asarray(a, dtype=np.float64)
    n = np.sum(~np.isnan(a), axis=0)
    with warnings.catch_warnings():  # all-NaN columns and single values are expected: they give NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(a, axis=0)
        std = np.nanstd(a, axis=0, ddof=1)
        half = stats.t.ppf(0.5 + confidence / 2, n - 1) * std / np.sqrt(n)
    return {"mean": mean, "std": std, "half": half, "n": n}


def mean_ci(values: Iterable[float | None]) -> Estimate:
    """Mean of the finite values with a t-based 95% CI (zero width for a single value; NaN for none)."""
    x = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if x.size == 0:
        return Estimate(math.nan, math.nan, math.nan)
    if x.size < 2:
        return Estimate(float(x[0]), float(x[0]), float(x[0]))
    t = t_interval(x)
    mean, half = float(t["mean"]), float(t["half"])
    return Estimate(mean, mean - half, mean + half)
