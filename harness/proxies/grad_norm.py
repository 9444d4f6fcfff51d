"""Gradient norm (Abdelfattah et al. 2021, "Zero-cost proxies for lightweight NAS").

score = sum over Conv2d/Linear layers of ||dL/dW||_2 (Frobenius norm per layer, then summed), L =
cross-entropy of one minibatch. Network mode: train, float32. Higher = better.
"""

from harness.proxies import Passes, Proxy, layer_sum


def grad_norm(passes: Passes) -> float:
    return layer_sum(g.norm() for g in passes["grad"])


PROXY = Proxy("grad_norm", grad_norm, needs={"grad"})
