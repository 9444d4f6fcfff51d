"""SNIP (Lee et al. 2019, "SNIP: single-shot network pruning based on connection sensitivity"), as a
zero-cost proxy (Abdelfattah et al. 2021).

score = sum over Conv2d/Linear weights W of |W * dL/dW|, L = cross-entropy of one minibatch
(zero-cost-nas takes |dL/dm| of a multiplicative all-ones mask m, which equals |W dL/dW|).
Network mode: train (batch statistics), float32. Higher = better.
"""

from harness.proxies import Passes, Proxy, layer_sum


def snip(passes: Passes) -> float:
    return layer_sum((m.weight.detach() * g).abs() for m, g in zip(passes.layers, passes["grad"]))


PROXY = Proxy("snip", snip, needs={"grad"})
