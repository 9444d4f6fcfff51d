"""Saved runs (pytest-benchmark JSON) -> tidy pandas frames, with a list of what the runs lack.

A run may be partial (suites deselected or interrupted, a benchmark without some extra_info): whatever is
there is loaded, and ``RunSet.missing`` says in words what is not, so a report can show it instead of failing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from harness.bench import DATASETS
from harness.bench.table import TSS_TRAIN_INFO, read_table
from harness.config import data_file
from harness.runs import load_run

Source = str | os.PathLike[str] | Mapping[str, Any]

PROXY_KEYS = ("proxy", "space", "dataset", "device", "n_archs", "spearman", "kendall", "seconds_per_arch")
PROXY_SCORE_KEYS = ("archs", "scores", "accuracies")
PROXY_METRICS = ("spearman", "kendall", "pearson", "top1", "top5", "top10")
SEARCHER_KEYS = ("searcher", "space", "dataset", "budget", "budget_kind", "optimum", "final_mean", "final_std")
TRAJECTORY_KEYS = ("seed", "archs", "valid_accs", "incumbent_reported", "final_reported")
MACHINE_FIELDS = ("node", "system", "release", "machine", "python_version", "torch_version", "cuda_version",
                  "gpu_name", "cpu_threads", "omp_wait_policy")


@dataclass
class RunSet:
    """Everything the report reads, as frames; every row carries the label of the run it came from."""

    runs: pd.DataFrame  # one row per run: label, source, datetime, commit, machine fields, n_benchmarks
    proxies: pd.DataFrame  # one row per proxy case (extra_info scalars + bench_mean_s)
    scores: pd.DataFrame  # one row per (proxy case, arch): score, accuracy
    searchers: pd.DataFrame  # one row per searcher case (extra_info scalars)
    trajectories: pd.DataFrame  # one row per searcher run (seed); column ``trajectory`` holds the dict
    queries: pd.DataFrame  # one row per query of every trajectory: x (seconds or query no.), arch, accs
    missing: list[str] = field(default_factory=list)


def _num(value: Any) -> float:
    """JSON number, null or NaN -> float (NaN for null: pytest-benchmark writes NaN or null alike)."""
    return float("nan") if value is None else float(value)


def _read(source: Source, i: int) -> tuple[str, str, dict[str, Any]]:
    """(label, where, data) of one run: a path to a saved JSON, or an already-parsed dict."""
    if isinstance(source, Mapping):
        return f"run{i + 1}", "(in memory)", dict(source)
    path = Path(source)
    data = load_run(path)
    return path.stem, str(path), data


def _unique(label: str, seen: set[str]) -> str:
    out, k = label, 2
    while out in seen:
        out, k = f"{label}#{k}", k + 1
    seen.add(out)
    return out


def _run_row(label: str, where: str, data: dict[str, Any]) -> dict[str, Any]:
    machine = data.get("machine_info") or {}
    cpu = machine.get("cpu") or {}
    commit = data.get("commit_info") or {}
    row = {"run": label, "source": where, "datetime": str(data.get("datetime", ""))[:16].replace("T", " "),
           "commit": str(commit.get("id", ""))[:10] + ("+dirty" if commit.get("dirty") else ""),
           "cpu": cpu.get("brand_raw", machine.get("processor", "")),
           "n_benchmarks": len(data["benchmarks"])}
    row.update({k: "" if machine.get(k) is None else machine[k] for k in MACHINE_FIELDS})
    return row


def _scalars(info: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in info.items() if not isinstance(v, (list, dict))}


def _proxy(label: str, bench: Mapping[str, Any], info: Mapping[str, Any], missing: list[str],
           rows: list[dict], score_rows: list[dict]) -> None:
    name = bench.get("name", "?")
    lacks = [k for k in PROXY_KEYS if k not in info]
    if lacks:
        missing.append(f"{label}: proxy benchmark {name} lacks {', '.join(lacks)}; skipped")
        return
    stats = bench.get("stats") or {}
    rows.append({"run": label, "name": name, **_scalars(info), "bench_mean_s": _num(stats.get("mean"))})
    lacks = [k for k in PROXY_SCORE_KEYS if not isinstance(info.get(k), list)]
    if lacks:
        missing.append(f"{label}: proxy benchmark {name} lacks per-arch {', '.join(lacks)}: "
                       "no scatter, proxy-vs-proxy or top-5% op statistics from it")
        return
    archs, scores, accs = info["archs"], info["scores"], info["accuracies"]
    if not len(archs) == len(scores) == len(accs):
        missing.append(f"{label}: proxy benchmark {name} has archs/scores/accuracies of different lengths "
                       f"({len(archs)}/{len(scores)}/{len(accs)}); per-arch data skipped")
        return
    key = {k: info[k] for k in ("proxy", "space", "dataset", "device")}
    for a, s, acc in zip(archs, scores, accs):
        score_rows.append({"run": label, **key, "arch": int(a), "score": _num(s), "accuracy": _num(acc)})


def searcher_label(info: Mapping[str, Any]) -> str:
    """A searcher case's name in the report: hardware-aware and warm-up runs carry their mode, so that
    they are neither pooled with nor tested as the plain runs of the same searcher."""
    return f"{info['searcher']} [{info['mode']}]" if info.get("mode") else str(info["searcher"])


def _searcher(label: str, bench: Mapping[str, Any], info: Mapping[str, Any], missing: list[str],
              rows: list[dict], traj_rows: list[dict], query_rows: list[dict]) -> None:
    name = bench.get("name", "?")
    lacks = [k for k in SEARCHER_KEYS if k not in info]
    if lacks:
        missing.append(f"{label}: searcher benchmark {name} lacks {', '.join(lacks)}; skipped")
        return
    searcher = searcher_label(info)
    rows.append({"run": label, "name": name, **_scalars(info), "searcher": searcher})
    trajs = info.get("trajectories")
    if not isinstance(trajs, list) or not trajs:
        missing.append(f"{label}: searcher benchmark {name} has no trajectories: no curves or dynamics from it")
        return
    key = {"run": label, "searcher": searcher, "space": info["space"], "dataset": info["dataset"]}
    for t in trajs:
        lacks = [k for k in TRAJECTORY_KEYS if k not in t]
        if lacks:
            missing.append(f"{label}: a trajectory of {name} lacks {', '.join(lacks)}; skipped")
            continue
        kind = t.get("budget_kind", info["budget_kind"])
        n = len(t["archs"])
        times = [_num(v) for v in t.get("times") or [None] * n]
        x = times if kind == "seconds" else list(range(1, n + 1))
        traj_rows.append({**key, "seed": int(t["seed"]), "budget": _num(t.get("budget", info["budget"])),
                          "budget_kind": kind, "reported_metric": t.get("reported_metric",
                                                                        info.get("reported_metric", "")),
                          "optimum": _num(info["optimum"]), "final_reported": _num(t["final_reported"]),
                          "n_queries": n, "trajectory": dict(t)})
        inc_archs = t.get("incumbent_archs") or [None] * n
        for q in range(n):
            query_rows.append({**key, "seed": int(t["seed"]), "query": q + 1, "x": x[q], "time": times[q],
                               "arch": int(t["archs"][q]), "valid_acc": _num(t["valid_accs"][q]),
                               "incumbent_arch": inc_archs[q],
                               "incumbent_reported": _num(t["incumbent_reported"][q])})


def _coverage(frame: pd.DataFrame, what: str, names: Iterable[str]) -> list[str]:
    """Cases of the full grid (every name registered or seen in a space x every dataset seen) that are absent;
    a name seen in one space only (a hardware mode exists for TSS alone) is not expected in the other."""
    if frame.empty:
        return [f"no {what} cases in the run(s)"]
    out = []
    for space in sorted(frame["space"].unique()):
        sub = frame[frame["space"] == space]
        grid = sorted(set(names) | set(sub[what]))
        absent_ds = [d for d in DATASETS if d not in set(sub["dataset"])]
        if absent_ds:
            out.append(f"{what} cases on {space}: none for dataset(s) {', '.join(absent_ds)}")
        for dataset in sorted(sub["dataset"].unique()):
            have = set(sub.loc[sub["dataset"] == dataset, what])
            lacks = [n for n in grid if n not in have]
            if lacks:
                out.append(f"{what} cases on {space}/{dataset}: none for {', '.join(lacks)}")
    return out


def _registered(kind: str) -> list[str]:
    """Registered searcher / proxy names, or none when the registry cannot be imported."""
    try:
        if kind == "searcher":
            from harness.searchers import get_searcher, searcher_names
            # a two-objective searcher runs only in a two-objective mode, never as a plain case
            return [n for n in searcher_names() if len(get_searcher(n).objectives) == 1]
        from harness.proxies import proxy_names
        return list(proxy_names())
    except ImportError:
        return []


def load_runs(sources: Iterable[Source] | Source) -> RunSet:
    """Load saved runs (paths to pytest-benchmark JSON files, or their parsed dicts) into one RunSet."""
    if isinstance(sources, (str, os.PathLike, Mapping)):
        sources = [sources]
    runs, proxies, scores, searchers, trajs, queries = [], [], [], [], [], []
    missing: list[str] = []
    seen: set[str] = set()
    for i, source in enumerate(sources):
        label, where, data = _read(source, i)
        label = _unique(label, seen)
        runs.append(_run_row(label, where, data))
        other = 0
        for bench in data["benchmarks"]:
            info = bench.get("extra_info") or {}
            kind = info.get("kind")
            if kind == "proxy":
                _proxy(label, bench, info, missing, proxies, scores)
            elif kind == "searcher":
                _searcher(label, bench, info, missing, searchers, trajs, queries)
            else:
                other += 1
        if other:
            missing.append(f"{label}: {other} benchmark(s) without kind proxy/searcher not analysed")
    if not runs:
        raise ValueError("no saved runs given")
    proxies_f, searchers_f = pd.DataFrame(proxies), pd.DataFrame(searchers)
    numeric = [c for c in proxies_f.columns if c.startswith(PROXY_METRICS) or c == "seconds_per_arch"]
    proxies_f[numeric] = proxies_f[numeric].apply(pd.to_numeric, errors="coerce")  # null (non-finite) -> NaN
    missing += _coverage(proxies_f, "proxy", _registered("proxy"))
    missing += _coverage(searchers_f, "searcher", _registered("searcher"))
    return RunSet(runs=pd.DataFrame(runs), proxies=proxies_f, scores=pd.DataFrame(scores),
                  searchers=searchers_f, trajectories=pd.DataFrame(trajs), queries=pd.DataFrame(queries),
                  missing=missing)


def load_train_info(data: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Per-arch training info of TSS archs 0..999 (the only training losses there are), indexed by arch."""
    return read_table(data_file(TSS_TRAIN_INFO, data), [], index="nats_index").set_index("nats_index")
