"""Plain (Abdelfattah et al. 2021; NAS-Bench-Suite-Zero, Krishnakumar et al. 2022).

score = sum over Conv2d/Linear weights W of W * dL/dW (signed, no absolute value), L = cross-entropy of
one minibatch. Network mode: train, float32. Higher = better (as the benchmark uses it).
"""

from harness.proxies import Passes, Proxy, layer_sum


def plain(passes: Passes) -> float:
    return layer_sum(m.weight.detach() * g for m, g in zip(passes.layers, passes["grad"]))


PROXY = Proxy("plain", plain, needs={"grad"})
