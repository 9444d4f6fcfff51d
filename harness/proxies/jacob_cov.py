"""Jacobian covariance (Mellor et al. 2021 v1, "Neural architecture search without training"; zero-cost-nas
``jacob_cov``, NAS-Bench-Suite-Zero ``jacov``).

J = d sum(logits) / d x, one row per image; C = corrcoef(J) (images x images); with eigenvalues v of C and
k = 1e-5: score = -sum(log(v + k) + 1 / (v + k)). Network mode: train, float32. Higher = better. NaN, with a
DegenerateWarning saying why, when there is no correlation to take: fewer than 2 images, a constant Jacobian
row, or an eigen-solver failure.
"""

import warnings

import numpy as np

from harness.errors import DegenerateWarning
from harness.proxies import Passes, Proxy

K = 1e-5


def _nan(reason: str) -> float:
    warnings.warn(f"jacob_cov is NaN: {reason}", DegenerateWarning, stacklevel=3)
    return float("nan")


def jacob_cov(passes: Passes) -> float:
    jac = passes["input_jacobian"].detach().cpu().double().numpy()
    jac = jac.reshape(len(jac), -1)
    if len(jac) < 2:
        return _nan(f"it correlates the Jacobians of the batch's images, and the batch holds {len(jac)} "
                    "(use a batch size of at least 2)")
    with np.errstate(all="ignore"):
        corrs = np.corrcoef(jac)
        if not np.isfinite(corrs).all():
            return _nan("an image's input Jacobian is constant (its correlation is undefined)")
        try:
            v = np.linalg.eigvalsh(corrs)
        except np.linalg.LinAlgError as exc:
            return _nan(f"the eigenvalues of the Jacobian correlation did not converge ({exc})")
        return float(-np.sum(np.log(v + K) + 1.0 / (v + K)))


PROXY = Proxy("jacob_cov", jacob_cov, needs={"input_jacobian"})
