"""Benchmark: seconds per arch of each zero-cost proxy alone, of all of them one at a time, and of
``score_all`` with shared passes (the six zero-cost-nas proxies, and every per-arch proxy).

    python benchmarks/bench_proxies.py [--archs 50] [--batch 64] [--threads 2] [--device cpu] [--data DIR]

Fixed TSS archs (a seeded sample), CIFAR-10 real images. ``alone`` times exclude building the net (as
``score`` does); ``score_all`` times include its one build. Targets: six-proxy score_all <= 1.0 s/arch,
all proxies <= 2.0 s/arch (medians), on CPU: on ``--device cuda`` the table has no targets (``score`` times
are CUDA-synchronised; ``score_all`` returns Python floats, which waits for the device). The load average is printed (the numbers are wall times), and so is
the OpenMP wait policy the runtime started with (``harness.OMP_WAIT_POLICY``: the environment's, else
OpenMP's default, which spins briefly and then sleeps; ``OMP_WAIT_POLICY=PASSIVE``, which ``make test``
uses, is about 20% slower here when nothing else runs).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from tabulate import tabulate
from tqdm import tqdm

import harness
from harness.bench import load_oracle
from harness.images import load_batch
from harness.proxies import Proxy, get_proxy, proxy_names
from harness.scoring import check_device, score, score_all

ZC_SIX = ["grad_norm", "snip", "grasp", "fisher", "jacob_cov", "synflow"]
TARGETS = {"score_all (six zero-cost-nas)": 1.0, "score_all (all per-arch)": 2.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", type=int, default=50)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--data", default=None)
    parser.add_argument("--score-all-only", action="store_true",
                        help="time only the two score_all rows (skip each proxy alone)")
    args = parser.parse_args()
    device = str(check_device(args.device))
    targets = TARGETS if device == "cpu" else {}
    torch.set_num_threads(args.threads)
    oracle = load_oracle("tss", data=args.data)
    space = oracle.space
    batch = load_batch("cifar10", args.batch, seed=args.seed, data=args.data)
    archs = np.random.default_rng(args.seed).choice(space.size, size=args.archs, replace=False)
    per_arch = [n for n in proxy_names() if isinstance(get_proxy(n), Proxy)]
    alone_rows = [] if args.score_all_only else [*per_arch, "all one at a time (sum)"]
    times: dict[str, list[float]] = {label: [] for label in [*alone_rows, *TARGETS]}
    load_before = os.getloadavg()[0]
    for arch in tqdm([int(a) for a in archs], desc="archs"):
        if alone_rows:
            alone = {n: score(n, space, arch, "cifar10", batch, device=device).seconds for n in per_arch}
            for n, s in alone.items():
                times[n].append(s)
            times["all one at a time (sum)"].append(sum(alone.values()))
        for label, names in zip(TARGETS, (ZC_SIX, per_arch)):
            start = time.perf_counter()
            score_all(space, arch, names, "cifar10", batch, device=device)
            times[label].append(time.perf_counter() - start)
    rows = []
    for label, values in times.items():
        target = targets.get(label)
        med = float(np.median(values))
        verdict = "" if target is None else ("met" if med <= target else "MISSED")
        rows.append([label, f"{med:.3f}", f"{np.percentile(values, 90):.3f}",
                     "" if target is None else f"<= {target}", verdict])
    where = torch.cuda.get_device_name(device) if device != "cpu" else f"torch threads {args.threads}"
    print(f"{args.archs} TSS archs, cifar10, batch {args.batch}, {device} ({where}), "
          f"load average {load_before:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs, "
          f"OpenMP wait policy {harness.OMP_WAIT_POLICY}, "
          f"GOMP_SPINCOUNT={os.environ.get('GOMP_SPINCOUNT', '(unset)')}")
    print(tabulate(rows, headers=["proxy / mode", "median s/arch", "p90 s/arch", "target", ""],
                   tablefmt="github"))


if __name__ == "__main__":
    main()
