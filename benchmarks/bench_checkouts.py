"""Is a change slower? score_all of the six zero-cost-nas proxies (or any list) in two checkouts of the harness,
interleaved arch by arch (ABBA order) in two warm worker processes, so machine drift hits both alike.

    python benchmarks/bench_checkouts.py BEFORE_DIR AFTER_DIR [--archs 16] [--proxies ...]

Prints the per-arch median seconds of each and the median of the per-arch ratios after / before.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from tabulate import tabulate

SIX = "synflow,snip,grasp,fisher,grad_norm,jacob_cov"
WORKER = r"""
import json, sys, time
from harness.bench import load_oracle
from harness.images import load_batch
from harness.scoring import score_all
from harness.spaces import fixed_sample
proxies = sys.argv[1].split(",")
oracle = load_oracle("tss")
batch = load_batch("cifar10", 64, seed=0)
score_all(oracle.space, 0, proxies, "cifar10", batch)  # warm-up
print("ready", flush=True)
for line in sys.stdin:
    arch = int(line)
    start = time.perf_counter()
    values = score_all(oracle.space, arch, proxies, "cifar10", batch)
    print(json.dumps([time.perf_counter() - start, values]), flush=True)
"""


def start(checkout: Path, proxies: str) -> subprocess.Popen:
    worker = subprocess.Popen([sys.executable, "-c", WORKER, proxies], cwd=checkout, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert worker.stdout.readline().strip() == "ready", f"worker in {checkout} did not start"
    return worker


def ask(worker: subprocess.Popen, arch: int) -> tuple[float, dict]:
    worker.stdin.write(f"{arch}\n")
    worker.stdin.flush()
    seconds, values = json.loads(worker.stdout.readline())
    return seconds, values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--archs", type=int, default=16)
    parser.add_argument("--proxies", default=SIX)
    args = parser.parse_args(argv)
    from harness.bench import load_oracle
    from harness.spaces import fixed_sample

    archs = [int(a) for a in fixed_sample(load_oracle("tss").space, args.archs + 1)[1:]]
    workers = {"before": start(args.before, args.proxies), "after": start(args.after, args.proxies)}
    times: dict[str, list[float]] = {"before": [], "after": []}
    differ = 0
    for i, arch in enumerate(archs):
        order = ("before", "after") if i % 2 == 0 else ("after", "before")
        got = {name: ask(workers[name], arch) for name in order}
        for name in order:
            times[name].append(got[name][0])
        differ += got["before"][1] != got["after"][1]
    for w in workers.values():
        w.stdin.close()
        w.wait()
    ratios = [a / b for a, b in zip(times["after"], times["before"])]
    print(tabulate([[n, f"{statistics.median(t):.3f}"] for n, t in times.items()]
                   + [["after / before (median of per-arch ratios)", f"{statistics.median(ratios):.3f}"]],
                   headers=["", f"s/arch, {len(archs)} archs, {args.proxies}"], tablefmt="github"))
    print(f"archs whose values differ between the checkouts: {differ}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
