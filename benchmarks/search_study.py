"""The search study behind docs/results-search.md: optuna samplers beside the native searchers, hardware-aware
search (a latency limit, and latency as a second objective), and the zero-cost warm-up of random search,
REA and REINFORCE (Abdelfattah et al. 2021), each on NATS-Bench TSS at NATS-Bench's time budgets.

    HARNESS_DATA_DIR=/path/to/data python benchmarks/search_study.py --parts optuna,hardware,warmup \\
        --runs 300 --store scores.sqlite [--warmup synflow:300] [--pool 1000] [--proxy-seconds S] \\
        [--workers 2] > docs/results-search.md

The warm-up draws its N archs per run from a pool: the first ``--pool`` archs of the suites' fixed sample,
scored by the proxy into ``--store`` first (``python -m harness sweep --proxies synflow --archs
sample:1000 --store scores.sqlite``; missing scores are computed here). The proxy's cost per arch is
measured on CPU over 5 archs unless ``--proxy-seconds`` gives it (e.g. a GPU figure). Prints Markdown.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from tabulate import tabulate

from harness.bench import DATASETS, TableOracle
from harness.hardware import Hardware, front, hv_regret
from harness.metrics import mann_whitney, regret_at, regret_auc
from harness.runner import DEFAULT_BUDGETS_S, Trajectory, run_search
from harness.searchers import get_searcher, searcher_names
from harness.spaces import fixed_sample
from harness.warmup import ProxyPool, WarmStart, parse_warmup

PARTS = ("optuna", "hardware", "warmup")
WARMED = ("random", "rea", "reinforce")
FRACTIONS = (0.05, 0.1, 0.25, 0.5, 1.0)  # anytime checkpoints, fractions of the time budget
_ORACLE: TableOracle | None = None
_POOLS: dict[str, ProxyPool] = {}


def _init(data: str | None, pools: dict[str, ProxyPool]) -> None:
    import torch

    torch.set_num_threads(1)
    global _ORACLE, _POOLS
    _ORACLE, _POOLS = TableOracle.load("tss", data), pools


def _runs(task: tuple) -> list[Trajectory]:
    searcher, dataset, seeds, hardware, warm = task
    warmup = None
    if warm is not None:
        n, free = warm
        warmup = WarmStart(_POOLS[dataset], n, free=free)
    return [run_search(searcher, _ORACLE, dataset, s, snapshot_every=0, hardware=hardware, warmup=warmup)
            for s in seeds]


def _run_all(pool: ProcessPoolExecutor, specs: list[tuple], runs: int, chunk: int = 25) -> list[Trajectory]:
    tasks = [(s, d, list(range(i, min(i + chunk, runs))), hw, warm)
             for s, d, hw, warm in specs for i in range(0, runs, chunk)]
    return [t for batch in pool.map(_runs, tasks) for t in batch]


def _mean_std(values) -> str:
    v = np.asarray(values, dtype=np.float64)
    return f"{v.mean():.2f} ± {v.std(ddof=1):.2f}"


def optuna_part(pool, runs: int, oracle: TableOracle) -> str:
    names = [n for n in searcher_names() if len(get_searcher(n).objectives) == 1]
    trajs = _run_all(pool, [(s, d, None, None) for s in names for d in DATASETS], runs)
    finals: dict[tuple[str, str], list[float]] = {}
    for t in trajs:
        finals.setdefault((t.searcher, t.dataset), []).append(t.final_reported)
    lines = [f"## Searchers, optuna samplers included ({runs} runs per cell, test@200 of the incumbent)\n"]
    body = [[s] + [_mean_std(finals[s, d]) for d in DATASETS] for s in names]
    lines.append(tabulate(body, ["searcher"] + [f"{d} ({DEFAULT_BUDGETS_S[d]:,} s)" for d in DATASETS],
                          tablefmt="github"))
    lines.append("\nOne-sided Mann-Whitney U, p of optuna-tpe > X:\n")
    body = [[s] + [f"{mann_whitney(finals['optuna-tpe', d], finals[s, d])[1]:.2e}" for d in DATASETS]
            for s in names if s != "optuna-tpe"]
    lines.append(tabulate(body, ["X"] + list(DATASETS), tablefmt="github"))
    return "\n".join(lines)


def hardware_part(pool, runs: int, oracle: TableOracle, limit: Hardware, pareto: Hardware) -> str:
    single = [n for n in searcher_names() if len(get_searcher(n).objectives) == 1]
    lines = [f"## Hardware-aware search on TSS ({runs} runs per cell)\n",
             f"### Latency limit {limit.device} <= {limit.max_ms:g} ms\n",
             ("Regret against the best feasible arch (computed from the tables); infeasible proposals are "
              "rejected before training (not charged) and never become the incumbent.\n")]
    trajs = _run_all(pool, [(s, d, limit, None) for s in single for d in DATASETS], runs)
    lat = oracle.latencies(limit.device)
    optima = {d: limit.optimum(oracle, oracle.accuracies(d)) for d in DATASETS}
    body = []
    for s in single:
        row = [s]
        for d in DATASETS:
            ts = [t for t in trajs if t.searcher == s and t.dataset == d]
            assert all((lat[t.archs] <= limit.max_ms).all() for t in ts)
            row.append(f"{_mean_std([optima[d][1] - t.final_reported for t in ts])} "
                       f"({np.mean([t.n_rejected for t in ts]):.0f} rej.)")
        body.append(row)
    share = float((lat <= limit.max_ms).mean())
    lines.append(f"Feasible share of the space: {share:.1%}; constrained optimum (unconstrained): "
                 + ", ".join(f"{d} {optima[d][1]:.2f} ({oracle.best(d)[1]:.2f})" for d in DATASETS) + "\n")
    lines.append(tabulate(body, ["searcher"] + [f"{d} regret" for d in DATASETS], tablefmt="github"))
    lines.append("\n(rej. = mean infeasible proposals rejected per run)\n")
    lines.append(f"### Two objectives: accuracy and latency on {pareto.device}\n")
    lines.append("Hypervolume regret = 1 - HV(reported front) / HV(true front), in (test@200, latency) with the "
                 "reference at the space's worst of both; the reported front is the non-dominated set of the "
                 "queried archs by (validation accuracy, latency).\n")
    trajs = _run_all(pool, [(s, d, pareto, None) for s in searcher_names() for d in DATASETS], runs)
    lat = oracle.latencies(pareto.device)
    hv: dict[tuple[str, str], list[float]] = {}
    for t in trajs:
        acc = oracle.accuracies(t.dataset)
        hv.setdefault((t.searcher, t.dataset), []).append(hv_regret(front(t.archs, t.valid_accs, lat), acc, lat))
    body = [[s] + [f"{np.mean(hv[s, d]):.4f} ± {np.std(hv[s, d], ddof=1):.4f}" for d in DATASETS]
            for s in searcher_names()]
    lines.append(tabulate(body, ["searcher"] + [f"{d} HV regret" for d in DATASETS], tablefmt="github"))
    lines.append("\nOne-sided Mann-Whitney U, p of optuna-nsga2 HV regret < X:\n")
    body = [[s] + [f"{mann_whitney(hv['optuna-nsga2', d], hv[s, d], 'less')[1]:.2e}" for d in DATASETS]
            for s in searcher_names() if s != "optuna-nsga2"]
    lines.append(tabulate(body, ["X"] + list(DATASETS), tablefmt="github"))
    return "\n".join(lines)


def warmup_part(pool, runs: int, oracle: TableOracle, proxy: str, n: int, pools: dict[str, ProxyPool],
                free: bool) -> str:
    specs = [(s, d, None, w) for s in WARMED for d in DATASETS for w in (None, (n, free))]
    trajs = _run_all(pool, specs, runs)
    lines = [f"## Zero-cost warm-up: {proxy}, top 10 of {n} archs first ({runs} runs per cell)\n"]
    for d in DATASETS:
        p = pools[d]
        lines.append(f"- {d}: pool of {len(p.scores)} scored archs; {p.seconds_per_arch:.3f} s per arch "
                     f"({p.cost_source}) -> {n * p.seconds_per_arch:,.0f} s of the {DEFAULT_BUDGETS_S[d]:,} s "
                     f"budget {'reported apart (--free-proxy)' if free else 'charged'}")
    lines.append("\nAnytime regret (test@200, mean over runs) at fractions of the budget; p: one-sided "
                 "Mann-Whitney U of warm < cold regret at that fraction.\n")
    verdicts = []
    for d in DATASETS:
        optimum = oracle.best(d)[1]
        body = []
        for s in WARMED:
            cold = [t for t in trajs if t.searcher == s and t.dataset == d and not t.mode]
            warm = [t for t in trajs if t.searcher == s and t.dataset == d and t.mode]
            rc = np.array([regret_at(t, optimum, FRACTIONS) for t in cold])
            rw = np.array([regret_at(t, optimum, FRACTIONS) for t in warm])
            ps = [mann_whitney(rw[:, i][np.isfinite(rw[:, i])], rc[:, i][np.isfinite(rc[:, i])], "less")[1]
                  for i in range(len(FRACTIONS))]
            auc = mann_whitney([regret_auc(t, optimum) for t in warm], [regret_auc(t, optimum) for t in cold],
                               "less")[1]
            body.append([s, "cold", *(f"{np.nanmean(rc[:, i]):.2f}" for i in range(len(FRACTIONS))),
                         f"{np.mean([regret_auc(t, optimum) for t in cold]):.2f}"])
            body.append([s, "warm", *(f"{np.nanmean(rw[:, i]):.2f} (p={p:.1e})" for i, p in enumerate(ps)),
                         f"{np.mean([regret_auc(t, optimum) for t in warm]):.2f} (p={auc:.1e})"])
            if s == "rea":
                verdicts.append((d, ps, auc))
        lines.append(f"### {d} (optimum {optimum:.2f})\n")
        lines.append(tabulate(body, ["searcher", "", *(f"{f:.0%}" for f in FRACTIONS), "AUC"],
                              tablefmt="github"))
        lines.append("")
    lines.append("### The published claim: a warm-up helps REA early in the budget\n")
    for d, ps, auc in verdicts:
        early = [f"{f:.0%}" for f, p in zip(FRACTIONS, ps, strict=True) if f <= 0.25 and p < 0.01]
        lines.append(f"- {d}: " + (f"holds (warm REA's regret lower at p < 0.01 at {', '.join(early)} of the "
                                   "budget)" if early else "not confirmed (no fraction <= 25% with p < 0.01)")
                     + f"; AUC p = {auc:.1e}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma list of {', '.join(PARTS)}")
    parser.add_argument("--runs", type=int, default=300, help="seeds per cell")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data", default=None, help="data root (default: $HARNESS_DATA_DIR)")
    parser.add_argument("--limit", default="pixel3<=5", help="latency limit DEVICE<=MS")
    parser.add_argument("--pareto", default="pixel3", help="device of the two-objective runs")
    parser.add_argument("--warmup", default="synflow:300", help="PROXY:N, N archs drawn per run from the pool")
    parser.add_argument("--pool", type=int, default=1000, help="scored archs (prefix of the fixed sample)")
    parser.add_argument("--store", default=None, help="result store of proxy scores (read, then filled)")
    parser.add_argument("--proxy-seconds", type=float, default=None, help="proxy cost per arch (default: measured)")
    parser.add_argument("--free-proxy", action="store_true", help="report the proxy cost instead of charging it")
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",")]
    bad = [p for p in parts if p not in PARTS]
    if bad:
        parser.error(f"unknown part(s) {bad}; valid parts: {', '.join(PARTS)}")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    oracle = TableOracle.load("tss", args.data)
    limit, pareto = Hardware.limit(args.limit), Hardware(args.pareto)
    pools: dict[str, ProxyPool] = {}
    if "warmup" in parts:
        from harness.images import load_batch
        from harness.store import ResultStore

        proxy, n = parse_warmup(args.warmup)
        store = ResultStore(args.store) if args.store else None
        archs = fixed_sample(oracle.space, args.pool).tolist()
        for d in DATASETS:
            p = ProxyPool.compute(oracle.space, d, proxy, archs, load_batch(d, 64, seed=0, data=args.data),
                                  seed=0, store=store, seconds_per_arch=args.proxy_seconds, score_more=False)
            pools[d] = p
        if store is not None:
            store.close()

    start = time.perf_counter()
    print(f"# Search study (NATS-Bench TSS, `python benchmarks/search_study.py {' '.join(argv or sys.argv[1:])}`)\n")
    with ProcessPoolExecutor(args.workers, initializer=_init, initargs=(args.data, pools)) as pool:
        if "optuna" in parts:  # each part printed when done: a long study shows its results as it goes
            print(optuna_part(pool, args.runs, oracle), end="\n\n", flush=True)
        if "hardware" in parts:
            print(hardware_part(pool, args.runs, oracle, limit, pareto), end="\n\n", flush=True)
        if "warmup" in parts:
            print(warmup_part(pool, args.runs, oracle, proxy, n, pools, args.free_proxy), end="\n\n", flush=True)
    print(f"{time.perf_counter() - start:.0f} s with {args.workers} worker(s).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
