"""What discovering plugins costs: the entry-point scan the registries add, in fresh interpreters, next to the
whole `pytest --collect-only` of the suites it is part of (interleaved rounds; medians).

    python benchmarks/bench_plugins.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from tabulate import tabulate

SCAN = """
import time
import harness.proxies, harness.searchers  # the registries, before any discovery
from harness.proxies import REGISTRY as P
from harness.searchers import REGISTRY as S
from importlib.metadata import entry_points
start = time.perf_counter()
found = [ep for group in (P.group, S.group) for ep in entry_points(group=group)]
for ep in found:
    ep.load()
print(time.perf_counter() - start, len(found))
"""
COLLECT = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "--pyargs",
           "harness.suites", "--proxies", "synflow", "--searchers", "random", "--datasets", "cifar10"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    scan, collect, n_found = [], [], 0
    for _ in range(args.rounds):
        out = subprocess.run([sys.executable, "-c", SCAN], capture_output=True, text=True, check=True).stdout
        seconds, n_found = out.split()
        scan.append(float(seconds))
        start = time.perf_counter()
        subprocess.run(COLLECT, capture_output=True, check=True)
        collect.append(time.perf_counter() - start)
    rows = [["entry-point scan and load (both groups)", f"{statistics.median(scan) * 1000:.1f} ms", n_found],
            ["pytest --collect-only of a suite slice", f"{statistics.median(collect) * 1000:.0f} ms", ""]]
    print(tabulate(rows, headers=["what", f"median of {args.rounds}", "entry points"], tablefmt="github"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
