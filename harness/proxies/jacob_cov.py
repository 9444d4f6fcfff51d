"""Jacobian covariance (Mellor et al. 2021 v1, "Neural architecture search without training"; zero-cost-nas
``jacob_cov``, NAS-Bench-Suite-Zero ``jacov``).

J = d sum(logits) / d x, one row per image; C = corrcoef(J) (images x images); with eigenvalues v of C and
k = 1e-5: score = -sum(log(v + k) + 1 / (v + k)). Network mode: train, float32. Higher = better. NaN when
the correlation is undefined (a constant Jacobian row) or the eigen-solver fails.
"""

import numpy as np

from harness.proxies import Passes, Proxy

K = 1e-5


def jacob_cov(passes: Passes) -> float:
    jac = passes["input_jacobian"].detach().cpu().double().numpy()
    with np.errstate(all="ignore"):
        corrs = np.corrcoef(jac)
        if not np.isfinite(corrs).all():
            return float("nan")
        v = np.linalg.eigvalsh(corrs)
        return float(-np.sum(np.log(v + K) + 1.0 / (v + K)))


PROXY = Proxy("jacob_cov", jacob_cov, needs={"input_jacobian"})
