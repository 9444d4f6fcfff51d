"""Zen-score (Lin et al. 2021, "Zen-NAS: a zero-shot NAS for high-performance image recognition"), as
NAS-Bench-Suite-Zero computes it.

Conv2d/Linear weights ~ N(0, 1), BN scale 1 / shift 0 / fresh statistics; x, e ~ N(0, 1) of the batch's
shape; f = the feature map before global average pooling. score = log(mean_n sum_chw |f(x) - f(x + 0.01 e)|)
+ sum over BN layers of log sqrt(mean(running_var)) after the two train-mode forwards. Network mode: train,
float32, no gradients. Data-free (only the batch's shape); weights and noise from a fixed seed, so the score
depends on the architecture only. Higher = better.
"""

from harness.proxies import Proxy
from harness.proxies._passes import Passes


def zen(passes: Passes) -> float:
    return passes["zen"]


PROXY = Proxy("zen", zen, needs={"zen"})
