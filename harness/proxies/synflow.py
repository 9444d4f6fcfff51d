"""SynFlow (Tanaka et al. 2020, "Pruning neural networks without any data by iteratively conserving synaptic
flow"; zero-cost proxy of Abdelfattah et al. 2021).

score = sum over Conv2d/Linear weights W of |W * dR/dW|, R = sum(f_|theta|(1)): every parameter replaced by
its absolute value, BatchNorm removed, an all-ones single image as input, in float64 (float32 overflows to
inf on the large cells). Network mode: BN removed, so train/eval does not matter. Higher = better.
"""

import torch
from torch import nn
from torch.func import functional_call

from harness.proxies import Passes, Proxy, layer_sum, logits_of


def synflow(passes: Passes) -> float:
    net, layers = passes.net, passes.layers
    params = {name: p.detach().abs() for name, p in net.named_parameters()}
    names = _weight_names(net, layers)
    for name in names:
        params[name].requires_grad_(True)
    x = torch.ones((1,) + tuple(passes.inputs.shape[1:]), dtype=passes.inputs.dtype, device=passes.inputs.device)
    with torch.enable_grad():
        out = logits_of(functional_call(net, params, (x,)))
        g = torch.autograd.grad(out.sum(), [params[nm] for nm in names], allow_unused=True)
    return layer_sum((params[nm].detach() * gi).abs() if gi is not None else torch.zeros_like(params[nm])
                     for nm, gi in zip(names, g))


def _weight_names(net: nn.Module, layers: list[nn.Module]) -> list[str]:
    by_module = {m: name for name, m in net.named_modules()}
    return [f"{by_module[m]}.weight" if by_module[m] else "weight" for m in layers]


PROXY = Proxy("synflow", synflow, bn=False, mode=None, dtype=torch.float64)
