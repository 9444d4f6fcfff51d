"""ZiCo (Li, Yang, Bhardwaj and Marculescu, "ZiCo: Zero-shot NAS via Inverse Coefficient of Variation on
Gradients", ICLR 2023).

The batch is split into ``CHUNKS`` mini-batches; each gives the gradient of the loss with respect to every
Conv2d / Linear weight. Per layer, the score adds log(sum over weights of mean|g| / std(g)) over the
mini-batches (weights whose gradient does not vary are left out, as in the paper's code). High mean and low
variance of gradients predict fast convergence; higher = better. Train mode, float32, its own backward passes
(no shared pass of the harness).
"""

import math

import torch

from harness.proxies import Proxy, logits_of, weight_layers

CHUNKS = 2


def zico(net: torch.nn.Module, inputs: torch.Tensor, targets: torch.Tensor, loss_fn) -> float:
    layers = weight_layers(net)
    grads: list[list[torch.Tensor]] = [[] for _ in layers]
    for x, y in zip(inputs.chunk(CHUNKS), targets.chunk(CHUNKS)):
        loss = loss_fn(logits_of(net(x)), y)
        for i, g in enumerate(torch.autograd.grad(loss, [m.weight for m in layers], allow_unused=True)):
            if g is not None:
                grads[i].append(g.detach().double())
    score = 0.0
    for per_batch in grads:
        if len(per_batch) < 2:
            continue
        g = torch.stack(per_batch)
        std, mean_abs = g.std(dim=0, unbiased=False), g.abs().mean(dim=0)
        varies = std > 0
        total = float((mean_abs[varies] / std[varies]).sum())
        if total > 0:
            score += math.log(total)
    return score


PROXY = Proxy.from_function("zico", zico, mode="train")
