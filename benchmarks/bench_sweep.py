"""Sweep throughput: archs per minute on 1 and 2 local workers and on a 2-worker Dask LocalCluster, the result
store's overhead per score, and the projected time of a full TSS sweep (15,625 archs x 3 datasets).

    HARNESS_DATA_DIR=... python benchmarks/bench_sweep.py --archs 200

Each configuration sweeps the same archs into a fresh store, so every arch is computed; times include
starting the workers (a few seconds, which weighs on small --archs).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

from harness.bench import DATASETS, load_oracle
from harness.images import load_batch
from harness.store import ResultStore, Row
from harness.sweep import Sweep, parse_archs, parse_proxies, run_sweep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", default="200", help="N (indices 0..N-1) or a-b (default 200)")
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--proxies", default="all")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--data", default=None, help="data root (default: $HARNESS_DATA_DIR)")
    parser.add_argument("--configs", default="local1,local2,dask2",
                        help="which of local1, local2, dask2 to run (comma-separated)")
    args = parser.parse_args()

    space = load_oracle("tss", data=args.data).space
    archs = tuple(parse_archs(args.archs, space))
    proxies = parse_proxies(args.proxies)
    batch = load_batch(args.dataset, args.batch_size, 0, args.data)
    sweep = Sweep(space, args.dataset, proxies, archs)
    print(f"{len(archs)} TSS archs x {len(proxies)} proxies ({', '.join(proxies)}) on {args.dataset}, "
          f"batch {args.batch_size} from {batch.source}")

    rows, best_rate = [], 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for config in [c.strip() for c in args.configs.split(",") if c.strip()]:
            path = Path(tmp) / f"{config}.sqlite"
            with ResultStore(path) as store:
                if config == "dask2":
                    report = _dask_sweep(store, sweep, batch)
                elif config in ("local1", "local2"):
                    report = run_sweep(store, sweep, batch, workers=int(config[-1]), progress=False)
                else:
                    raise SystemExit(f"unknown config {config!r}; valid: local1, local2, dask2")
            rate = report.computed_archs / report.seconds * 60
            best_rate = max(best_rate, rate)
            rows.append([config, report.computed_archs, f"{report.seconds:.1f}", f"{rate:.1f}"])
        print(tabulate(rows, headers=["executor", "archs", "seconds", "archs/min"]))

        # The store's share: write and read back the scores just computed, the way a sweep does
        # (one transaction per arch) and the way a suite does (one get_many per proxy).
        with ResultStore(Path(tmp) / "local1.sqlite") as source:
            keys = sweep.keys(batch)
            values = {p: source.get_many(k, archs) for p, k in keys.items()}
        n_scores = len(archs) * len(proxies)
        with ResultStore(Path(tmp) / "overhead.sqlite") as store:
            t0 = time.perf_counter()
            for arch in archs:
                store.put_many(Row(keys[p], arch, values[p][arch]) for p in proxies)
            put_s = (time.perf_counter() - t0) / n_scores
            t0 = time.perf_counter()
            for p in proxies:
                store.get_many(keys[p], archs)
            get_s = (time.perf_counter() - t0) / n_scores
        compute_s = float(rows[0][2]) / n_scores if rows and rows[0][0] == "local1" else math.nan
    print()
    print(tabulate([["put (1 transaction per arch)", f"{put_s * 1e6:.1f}"],
                    ["get (get_many per proxy)", f"{get_s * 1e6:.1f}"],
                    ["compute, 1 worker (incl. start)", f"{compute_s * 1e6:.0f}"]],
                   headers=["per score", "microseconds"]))
    if not math.isnan(compute_s):
        print(f"store overhead: {(put_s + get_s) / compute_s:.3%} of the compute time per score")

    full = space.size * len(DATASETS)
    hours = full / best_rate / 60
    print(f"\nprojected full sweep ({space.size:,} archs x {len(DATASETS)} datasets = {full:,} arch-"
          f"datasets, {len(proxies)} proxies) at the best rate here ({best_rate:.1f} archs/min): "
          f"{hours:.1f} h ({hours / 24:.2f} days)")


def _dask_sweep(store: ResultStore, sweep: Sweep, batch):
    """The sweep on a fresh 2-process LocalCluster on loopback; cluster start is timed too."""
    from distributed import LocalCluster

    t0 = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        report = run_sweep(store, sweep, batch, scheduler=cluster.scheduler_address, progress=False)
        return dataclasses.replace(report, seconds=time.perf_counter() - t0)


if __name__ == "__main__":
    main()
