"""Zen-score (Lin et al. 2021, "Zen-NAS: a zero-shot NAS for high-performance image recognition"), as
NAS-Bench-Suite-Zero computes it.

Conv2d/Linear weights ~ N(0, 1), BN scale 1 / shift 0 / fresh statistics; x, e ~ N(0, 1) of the batch's
shape; f = the feature map before global average pooling. score = log(mean_n sum_chw |f(x) - f(x + 0.01 e)|)
+ sum over BN layers of log sqrt(mean(running_var)) after the two train-mode forwards. Network mode: train,
float32, no gradients. Data-free (only the batch's shape); weights and noise from a fixed seed, so the score
depends on the architecture only. Higher = better.
"""

import torch
from torch import nn
from torch.func import functional_call

from harness.proxies import Passes, Proxy

SEED = 0  # Zen-score draws its own weights and inputs; a fixed seed keeps it deterministic
MIXUP = 1e-2


def zen(passes: Passes) -> float:
    net, inputs = passes.net, passes.inputs
    gen = torch.Generator(device=inputs.device).manual_seed(SEED)
    params = {}
    for name, p in net.named_parameters():
        if name.endswith("bias"):
            params[name] = torch.zeros_like(p)
        elif p.dim() == 1:  # BatchNorm scale
            params[name] = torch.ones_like(p)
        else:  # Conv2d / Linear weight ~ N(0, 1)
            params[name] = torch.randn(p.shape, generator=gen, device=p.device, dtype=p.dtype)
    buffers = {name: _fresh_buffer(name, b) for name, b in net.named_buffers()}
    shape, dev = tuple(inputs.shape), inputs.device
    x = torch.randn(shape, generator=gen, device=dev)
    x2 = torch.randn(shape, generator=gen, device=dev)
    features: list[torch.Tensor] = []  # inputs of the global pooling, in call order
    handles = [pool.register_forward_hook(lambda m, inp, out: features.append(inp[0]))
               for pool in _global_pools(net)]
    try:
        with torch.no_grad():
            functional_call(net, {**params, **buffers}, (x,))
            first = features[-1]  # the last global pooling called is the one before the classifier
            functional_call(net, {**params, **buffers}, (x + MIXUP * x2,))
    finally:
        for h in handles:
            h.remove()
    delta = torch.sum(torch.abs(first - features[-1]), dim=[1, 2, 3]).mean()
    log_bn = 0.0
    for name, module in net.named_modules():
        if isinstance(module, nn.BatchNorm2d):
            if f"{name}.running_var" not in buffers:
                raise ValueError(f"zen reads BatchNorm running variances, and {name} keeps none "
                                 "(track_running_stats=False)")
            log_bn += float(torch.log(torch.sqrt(torch.mean(buffers[f"{name}.running_var"]))))
    return float(torch.log(delta)) + log_bn


def _global_pools(net: nn.Module) -> list[nn.Module]:
    """Candidates for the global average pooling whose input Zen-score measures: xautodl's
    ``global_pooling``, else every AdaptiveAvgPool2d to 1x1 (the last one called in a forward is used, so a
    squeeze-and-excitation pool inside a block is passed over)."""
    pool = getattr(net, "global_pooling", None)
    if pool is not None:
        return [pool]
    pools = [m for m in net.modules() if isinstance(m, nn.AdaptiveAvgPool2d) and m.output_size in (1, (1, 1))]
    if not pools:
        raise ValueError(f"zen needs the feature map before global average pooling, and {type(net).__name__} "
                         "has no global_pooling attribute or AdaptiveAvgPool2d(1)")
    return pools


def _fresh_buffer(name: str, b: torch.Tensor) -> torch.Tensor:
    """BN statistics as a freshly built layer has them (mean 0, var 1, no batches seen)."""
    if name.endswith("running_var"):
        return torch.ones_like(b)
    return torch.zeros_like(b)


PROXY = Proxy("zen", zen, mode="train")
