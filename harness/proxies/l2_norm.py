"""L2 norm of the weights (NAS-Bench-Suite-Zero, Krishnakumar et al. 2022).

score = sum over Conv2d/Linear layers of ||W||_2 (Frobenius norm of the initial weights). Data-free; no
forward pass (no network mode); each norm in the weights' float32, summed in float64. Higher = better.
"""

from harness.proxies import Passes, Proxy, layer_sum


def l2_norm(passes: Passes) -> float:
    return layer_sum(m.weight.detach().norm() for m in passes.layers)


PROXY = Proxy("l2_norm", l2_norm, mode=None)
