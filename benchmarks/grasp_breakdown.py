"""Benchmark: where GraSP's time goes, with the stock layers and with the harness's train-pass layers.

    python benchmarks/grasp_breakdown.py [--archs 15] [--batch 64] [--threads 2] [--data DIR]

GraSP (the slowest of the six zero-cost-nas proxies) is one train-mode forward, a backward with
``create_graph`` and a double backward for H g. This prints the median seconds per arch of each phase,
once with PyTorch's own BatchNorm and average pooling and once inside ``fast_layers`` (the harness's
train pass: hand-written BatchNorm double backward, stride-1 pooling as shifted adds), alternating the
two on every arch so that the machine's drift hits both alike.
"""

from __future__ import annotations

import argparse
import os
import time
from contextlib import nullcontext

import numpy as np
import torch
import torch.nn.functional as F
from tabulate import tabulate
from torch import nn

import harness
from harness.bench import load_oracle
from harness.images import load_batch
from harness.networks import build_network
from harness.proxies import logits_of, train_mode, weight_layers
from harness.proxies._fast_layers import fast_layers


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

    layers = {"stock BatchNorm and pooling": nullcontext, "harness train pass (fast_layers)": fast_layers}
    times: dict[str, list[list[float]]] = {label: [] for label in layers}
    for i, arch in enumerate(archs):
        net = build_network(space, int(arch), "cifar10", args.seed)
        for label in list(layers)[::(-1) ** i]:  # alternate which goes first
            with layers[label](net):
                times[label].append(grasp_phases(net, batch.inputs, batch.targets))
    rows = [[label, *(f"{v:.3f}" for v in np.median(t, axis=0)), f"{np.median(np.sum(t, axis=1)):.3f}"]
            for label, t in times.items()]
    print(f"{args.archs} TSS archs, cifar10, batch {args.batch}, torch threads {args.threads}, "
          f"OpenMP wait policy {harness.OMP_WAIT_POLICY}, load average {os.getloadavg()[0]:.1f}")
    print(tabulate(rows, headers=["median s/arch", "forward", "backward (create_graph)", "double backward",
                                  "total"], tablefmt="github"))


if __name__ == "__main__":
    main()
