"""Benchmark: wall time of 300 runs of each native searcher on cifar10 TSS at 20,000 s (target: all five in
< 30 s on 2 cores), the per-query overhead of the optuna-backed searchers against REA (interleaved run by
run in one process, so load affects both alike), and the per-query cost of ``simulate_train_eval`` on both
oracle backends.

    python benchmarks/bench_searchers.py [--data DIR] [--runs 300] [--workers 2] [--optuna-runs 20]

Each worker process pays a one-time warm-up (loading the table; torch's first optimizer import, ~5 s),
reported on its own line and included in the total. A two-objective searcher (and REA beside it) runs
with latency on ``PARETO_DEVICE`` as its second objective.
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from tabulate import tabulate

from harness.bench import NatsBenchOracle, TableOracle
from harness.config import data_dir
from harness.hardware import Hardware
from harness.runner import run_search
from harness.searchers import get_searcher, searcher_names
from harness.searchers._optuna import OptunaSearcher

OFFICIAL_ARCHS = (0, 11, 284)  # the only records in <data>/nats-bench/official

PARETO_DEVICE = "pixel3"
_ORACLE: TableOracle | None = None


def _native() -> list[str]:
    """Searchers implemented here (the optuna-backed ones are timed against REA instead)."""
    return [n for n in searcher_names() if not issubclass(get_searcher(n), OptunaSearcher)]


def _hardware(name: str) -> Hardware | None:
    return Hardware(PARETO_DEVICE) if len(get_searcher(name).objectives) > 1 else None


def _init(data: str | None) -> None:
    import torch

    torch.set_num_threads(1)
    global _ORACLE
    _ORACLE = TableOracle.load("tss", data)
    for name in _native():  # warm-up: imports and first-use costs, outside the timed runs
        run_search(name, _ORACLE, "cifar10", seed=0, max_queries=2)


def _ready(_: int) -> None:
    time.sleep(0.5)  # long enough that each worker takes one, so all are started and warm


def _queries(task: tuple[str, list[int]]) -> tuple[int, float]:
    """(queries made, CPU seconds spent): CPU time stays meaningful when other jobs share the cores."""
    name, seeds = task
    cpu = time.process_time()
    n = sum(run_search(name, _ORACLE, "cifar10", s, snapshot_every=0).n_queries for s in seeds)
    return n, time.process_time() - cpu


def _optuna_overhead(table: TableOracle, runs: int) -> list[list[str]]:
    """Per optuna searcher: CPU us per query of it and of REA, alternating run by run over the same seeds."""
    rows = []
    for name in (n for n in searcher_names() if n not in _native()):
        hw = _hardware(name)
        for warm in (name, "rea"):
            run_search(warm, table, "cifar10", seed=0, max_queries=2, hardware=hw)
        cpu, queries = {name: 0.0, "rea": 0.0}, {name: 0, "rea": 0}
        for seed in range(runs):
            for searcher in (name, "rea"):
                start = time.process_time()
                queries[searcher] += run_search(searcher, table, "cifar10", seed, snapshot_every=0,
                                                hardware=hw).n_queries
                cpu[searcher] += time.process_time() - start
        us = {s: cpu[s] / queries[s] * 1e6 for s in cpu}
        rows.append([name, hw.mode if hw else "", f"{us[name]:.0f}", f"{us['rea']:.0f}",
                     f"{us[name] / us['rea']:.0f}", f"{(us[name] - us['rea']) / 1e3:.2f}"])
    return rows


def _per_call_us(fn, archs, calls: int) -> float:
    start = time.perf_counter()
    for i in range(calls):
        fn(archs[i % len(archs)])
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    load = os.getloadavg()[0]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--calls", type=int, default=20_000, help="simulate_train_eval calls per backend")
    parser.add_argument("--optuna-runs", type=int, default=20, help="interleaved runs per optuna searcher")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    rows, total, total_cpu = [], 0.0, 0.0
    start = time.perf_counter()
    with ProcessPoolExecutor(args.workers, initializer=_init, initargs=(args.data,)) as pool:
        list(pool.map(_ready, range(args.workers)))
        warm = time.perf_counter() - start
        total += warm
        rows.append(["(worker start-up + warm-up)", f"{warm:.2f}", "", "", "", ""])
        for name in _native():
            chunks = np.array_split(np.arange(args.runs), 4 * args.workers)
            t0 = time.perf_counter()
            results = list(pool.map(_queries, [(name, c.tolist()) for c in chunks]))
            dt = time.perf_counter() - t0
            n_queries, cpu = sum(r[0] for r in results), sum(r[1] for r in results)
            total, total_cpu = total + dt, total_cpu + cpu
            rows.append([name, f"{dt:.2f}", f"{cpu:.2f}", f"{args.runs / dt:.1f}",
                         f"{n_queries / args.runs:.0f}", f"{cpu / n_queries * 1e6:.0f}"])
    rows.append(["total", f"{total:.2f}", f"{total_cpu:.2f}", "", "", ""])
    print(f"{args.runs} runs per searcher, cifar10 TSS, 20,000 s budget, {args.workers} worker(s); "
          f"load average at start: {load:.1f}\n")
    print(tabulate(rows, headers=["searcher", "wall s", "CPU s", "runs/s", "queries/run", "CPU us/query"],
                   tablefmt="github"))

    table = TableOracle.load("tss", args.data)
    print(f"\noptuna searchers against REA, CPU per query, {args.optuna_runs} runs each interleaved, cifar10 "
          "TSS, 20,000 s budget\n")
    print(tabulate(_optuna_overhead(table, args.optuna_runs),
                   headers=["searcher", "mode", "CPU us/query", "REA CPU us/query", "x REA", "overhead ms/query"],
                   tablefmt="github"))
    nats = NatsBenchOracle("tss", data_dir(args.data) / "nats-bench" / "official")
    cold_start = time.perf_counter()
    for a in OFFICIAL_ARCHS:  # first touch reads and decompresses the record file
        nats.simulate_train_eval(a, "cifar10")
    cold = (time.perf_counter() - cold_start) / len(OFFICIAL_ARCHS) * 1e6
    t_us = _per_call_us(lambda a: table.simulate_train_eval(a, "cifar10"), OFFICIAL_ARCHS, args.calls)
    n_us = _per_call_us(lambda a: nats.simulate_train_eval(a, "cifar10"), OFFICIAL_ARCHS, args.calls)
    print(f"\nsimulate_train_eval per call on archs {OFFICIAL_ARCHS}, cifar10 ({args.calls:,} calls)\n")
    print(tabulate([["TableOracle", f"{t_us:.2f}", "1.0"],
                    ["NatsBenchOracle (cached record)", f"{n_us:.2f}", f"{n_us / t_us:.1f}"],
                    ["NatsBenchOracle (first call, reads file)", f"{cold:.0f}", f"{cold / t_us:.0f}"]],
                   headers=["backend", "us/call", "x TableOracle"], tablefmt="github"))


if __name__ == "__main__":
    main()
