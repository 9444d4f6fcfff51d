"""SynFlow (Tanaka et al. 2020, "Pruning neural networks without any data by iteratively conserving synaptic
flow"; zero-cost proxy of Abdelfattah et al. 2021).

score = sum over Conv2d/Linear weights W of |W * dR/dW|, R = sum(f_|theta|(1)): every parameter replaced by
its absolute value, BatchNorm removed, an all-ones single image as input, in float64 (float32 overflows to
inf on the large cells). Network mode: BN removed, so train/eval does not matter. Higher = better.
"""

from harness.proxies import Proxy
from harness.proxies._passes import Passes, layer_sum


def synflow(passes: Passes) -> float:
    return layer_sum(passes["synflow"])


PROXY = Proxy("synflow", synflow, needs={"synflow"})
