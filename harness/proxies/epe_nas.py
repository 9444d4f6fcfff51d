"""EPE-NAS (Lopes et al. 2021, "EPE-NAS: efficient performance estimation without training for neural
architecture search"), as NAS-Bench-Suite-Zero computes it.

J = d sum(logits) / d x, one row per image. For each class c in the batch, C_c = corrcoef of its images'
rows and s_c = sum(log(|C_c| + 1e-5)) (divided by the number of rows when there are more than 100 classes;
a class with one image then has no correlation matrix and is skipped). score = sum_c |s_c| for <= 100
classes, else sum_{c, c'} |s_c - s_c'| / (number of classes scored). Network mode: train, float32.
Higher = better.
"""

import numpy as np

from harness.proxies import Passes, Proxy

K = 1e-5


def log_correlations(rows: np.ndarray) -> np.ndarray:
    """log(|C| + K) of every entry of the correlation matrix of one class's Jacobian rows: the terms whose sum
    is that class's s_c (before the per-row weighting of more than 100 classes)."""
    return np.log(np.abs(np.corrcoef(rows)) + K)


def epe_nas(passes: Passes) -> float:
    jac = passes["input_jacobian"].detach().cpu().double().numpy()
    labels = passes.targets.detach().cpu().numpy()
    n_classes = int(passes.n_classes)
    per_class = []
    with np.errstate(all="ignore"):
        for c in np.unique(labels):
            rows = jac[labels == c]
            if len(rows) == 1 and n_classes > 100:
                continue
            s = float(np.sum(log_correlations(rows)))
            per_class.append(s / len(rows) if n_classes > 100 else s)
    s = np.asarray(per_class)
    if n_classes <= 100:
        return float(np.sum(np.abs(s)))
    if len(s) == 0:
        return float("nan")
    return float(np.abs(s[:, None] - s[None, :]).sum() / len(s))


PROXY = Proxy("epe_nas", epe_nas, needs={"input_jacobian"})
