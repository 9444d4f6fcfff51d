"""FLOPs (NAS-Bench-Suite-Zero's ``flops`` baseline), in millions per image.

score = multiply-accumulates of one image through every Conv2d and Linear, / 1e6, counted by
``torch.utils.flop_counter.FlopCounterMode`` (which counts 2 per multiply-accumulate, halved here) so it
matches NATS-Bench's ``flops`` (M), which counts Conv2d + Linear multiply-accumulates (plus the classifier
bias, < 1e-4 M). Network mode: eval, float32, batch of one. Higher = better.
"""

from harness.proxies import Proxy
from harness.proxies._passes import Passes


def flops(passes: Passes) -> float:
    return passes["flops"] / 1e6


PROXY = Proxy("flops", flops, needs={"flops"})
