"""Benchmark: TableOracle load time and random lookups per second (a table, not a timed test).

    python benchmarks/bench_oracle.py [--data DIR] [--lookups N]
"""

from __future__ import annotations

import argparse
import functools
import time

import numpy as np
from tabulate import tabulate

from harness.bench import DATASETS, TableOracle
from harness.spaces import SPACES


def _rate(fn, indices: np.ndarray) -> float:
    start = time.perf_counter()
    for i in indices:
        fn(int(i))
    return len(indices) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--lookups", type=int, default=200_000)
    args = parser.parse_args()
    rows = []
    for space in SPACES:
        start = time.perf_counter()
        oracle = TableOracle.load(space, args.data)
        load_s = time.perf_counter() - start
        idx = np.random.default_rng(0).integers(oracle.space.size, size=args.lookups)
        metric = oracle.space.reported
        lookups = (functools.partial(oracle.accuracy, dataset=DATASETS[0], metric=metric[0], epochs=metric[1]),
                   functools.partial(oracle.simulate_train_eval, dataset=DATASETS[0]), oracle.space.arch)
        rows.append([space, f"{load_s:.3f}", *(f"{_rate(fn, idx):,.0f}" for fn in lookups)])
    print(tabulate(rows, headers=["space", "load s", "accuracy()/s", "simulate_train_eval()/s", "arch()/s"],
                   tablefmt="github"))


if __name__ == "__main__":
    main()
