"""Benchmark: where GraSP's time goes, and how much a perfect BatchNorm double backward could save.

    python benchmarks/grasp_breakdown.py [--archs 15] [--batch 64] [--threads 2] [--data DIR]

GraSP (the slowest of the six zero-cost-nas proxies) is one train-mode forward, a backward with
``create_graph`` and a double backward for H g. This prints the median seconds per arch of each phase, then
the same pass with BatchNorm's double backward replaced by a stub that costs one multiply and returns a
WRONG value: its time is a lower bound for any BatchNorm kernel, not a score. The difference is the most a
faster BatchNorm double backward could save; the rest is convolutions and the other layers.
"""

from __future__ import annotations

import argparse
import functools
import os
import time
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from tabulate import tabulate
from torch import nn

from harness.bench import load_oracle
from harness.images import load_batch
from harness.networks import build_network
from harness.proxies._passes import logits_of, train_mode, weight_layers


class _BackwardWithStubDouble(torch.autograd.Function):
    """BatchNorm's exact backward, whose own backward is a one-multiply stub (timing bound only)."""

    @staticmethod
    def forward(ctx, gy, x, weight, mean, invstd, eps):
        ctx.save_for_backward(weight, invstd)
        gx, _, _ = torch.ops.aten.native_batch_norm_backward(
            gy, x, weight, None, None, mean, invstd, True, eps, [True, False, False])
        return gx

    @staticmethod
    def backward(ctx, ggx):
        weight, invstd = ctx.saved_tensors
        return ggx * (weight * invstd)[None, :, None, None], None, None, None, None, None


class _BatchNormStub(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        y, mean, invstd = torch.ops.aten.native_batch_norm(x, weight, bias, None, None, True, 0.1, eps)
        ctx.save_for_backward(x, weight, mean, invstd)
        ctx.eps = eps
        return y

    @staticmethod
    def backward(ctx, gy):
        x, weight, mean, invstd = ctx.saved_tensors
        return _BackwardWithStubDouble.apply(gy, x, weight, mean, invstd, ctx.eps), None, None, None


def _stubbed_forward(module: nn.BatchNorm2d, x: torch.Tensor) -> torch.Tensor:
    return _BatchNormStub.apply(x, module.weight, module.bias, module.eps)


@contextmanager
def stub_batchnorm(net: nn.Module):
    norms = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in norms:
        m.forward = functools.partial(_stubbed_forward, m)
    try:
        yield
    finally:
        for m in norms:
            del m.forward


def grasp_phases(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> list[float]:
    """Seconds of forward, create-graph backward and double backward (GraSP's H g)."""
    weights = [m.weight for m in weight_layers(net)]
    with train_mode(net):
        t0 = time.perf_counter()
        loss = F.cross_entropy(logits_of(net(inputs)), targets)
        t1 = time.perf_counter()
        grads = torch.autograd.grad(loss, weights, create_graph=True)
        t2 = time.perf_counter()
        z = sum((g.detach() * g).sum() for g in grads)
        torch.autograd.grad(z, weights)
        t3 = time.perf_counter()
    return [t1 - t0, t2 - t1, t3 - t2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", type=int, default=15, help="the first N of bench_proxies' 50 archs")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    space = load_oracle("tss", data=args.data).space
    batch = load_batch("cifar10", args.batch, seed=args.seed, data=args.data)
    archs = np.random.default_rng(args.seed).choice(space.size, size=50, replace=False)[:args.archs]  # bench_proxies'

    exact, stub = [], []
    for arch in archs:
        net = build_network(space, int(arch), "cifar10", args.seed)
        exact.append(grasp_phases(net, batch.inputs, batch.targets))
        with stub_batchnorm(net):
            stub.append(grasp_phases(net, batch.inputs, batch.targets))
    exact_a, stub_a = np.array(exact), np.array(stub)
    rows = [[label, *(f"{v:.3f}" for v in np.median(a, axis=0)), f"{np.median(a.sum(axis=1)):.3f}"]
            for label, a in (("exact GraSP", exact_a), ("BatchNorm double backward stubbed", stub_a))]
    print(f"{args.archs} TSS archs, cifar10, batch {args.batch}, torch threads {args.threads}, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}, load average {os.getloadavg()[0]:.1f}")
    print(tabulate(rows, headers=["median s/arch", "forward", "backward (create_graph)", "double backward",
                                  "total"], tablefmt="github"))


if __name__ == "__main__":
    main()
