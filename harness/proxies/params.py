"""Parameter count (NAS-Bench-Suite-Zero's ``params`` baseline), in millions.

score = (number of parameters of every layer, BatchNorm included) / 1e6: NATS-Bench's ``params`` (MB)
exactly. Data-free: no forward pass, so no network mode; an integer count, returned as a float. Higher =
better (bigger nets train to higher accuracy on NATS-Bench).
"""

from harness.proxies import Passes, Proxy


def params(passes: Passes) -> float:
    return sum(p.numel() for p in passes.net.parameters()) / 1e6


PROXY = Proxy("params", params, mode=None)
