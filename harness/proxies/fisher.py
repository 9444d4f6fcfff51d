"""Fisher (Theis et al. 2018, "Faster gaze prediction with dense networks and Fisher pruning"; Turner et
al. 2020 BlockSwap), as a zero-cost proxy (Abdelfattah et al. 2021).

For each Conv2d/Linear output channel k with activation a (the layer's output) and its loss gradient
dL/da: F_k = 0.5 mean_n (sum_hw a dL/da)^2. zero-cost-nas broadcasts F_k to every weight of channel k and
sums, so score = sum_layers sum_k F_k * (weights per output channel). L = cross-entropy of one minibatch.
Network mode: train, float32. Higher = better.
"""

from harness.proxies import Passes, Proxy, layer_sum


def fisher(passes: Passes) -> float:
    return layer_sum(passes["fisher"])


PROXY = Proxy("fisher", fisher, needs={"fisher"})
