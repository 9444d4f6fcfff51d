"""FLOPs (NAS-Bench-Suite-Zero's ``flops`` baseline), in millions per image.

score = multiply-accumulates of one image through every Conv2d and Linear, / 1e6, counted by
``torch.utils.flop_counter.FlopCounterMode`` (which counts 2 per multiply-accumulate, halved here) so it
matches NATS-Bench's ``flops`` (M), which counts Conv2d + Linear multiply-accumulates (plus the classifier
bias, < 1e-4 M). Network mode: eval, float32, batch of one. Higher = better.
"""

import torch
from torch.utils.flop_counter import FlopCounterMode

from harness.proxies import Passes, Proxy


def flops(passes: Passes) -> float:
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        passes.net(passes.inputs[:1])
    return counter.get_total_flops() / 2 / 1e6


PROXY = Proxy("flops", flops, mode="eval")  # eval: no BN statistics change, and one image is fine for BN
