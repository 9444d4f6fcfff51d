"""Two-objective quality of a search (accuracy up, latency down): the non-dominated set and its 2-D
hypervolume, exact by a sweep over latency (no sampling)."""

from __future__ import annotations

import numpy as np


def pareto_mask(acc: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Which points no other point beats (higher or equal accuracy at lower or equal latency, one strictly);
    of exact duplicates the first is kept. NaN points are never on the front."""
    acc, lat = np.asarray(acc, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    mask = np.zeros(len(acc), dtype=bool)
    ok = np.flatnonzero(np.isfinite(acc) & np.isfinite(lat))
    order = ok[np.lexsort((-acc[ok], lat[ok]))]  # latency ascending, then accuracy descending
    best = -np.inf
    for i in order:
        if acc[i] > best:
            mask[i], best = True, acc[i]
    return mask


def hypervolume(acc: np.ndarray, lat: np.ndarray, ref_acc: float, ref_lat: float) -> float:
    """Area dominated by the points and bounded by the reference (worst accuracy, worst latency)."""
    acc, lat = np.asarray(acc, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    keep = pareto_mask(acc, lat) & (acc > ref_acc) & (lat < ref_lat)
    a, lo = acc[keep], lat[keep]
    order = np.argsort(lo)
    a, lo = a[order], lo[order]
    widths = np.diff(np.append(lo, ref_lat))
    return float(np.sum((a - ref_acc) * widths))
