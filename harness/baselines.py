"""The suites' records and the regression gate: build the ``extra_info`` record of a suite case, summarise
a run per case, compare it with the stored baselines, and read and write the baseline JSON files. Pure
apart from the file I/O at the bottom; no pytest.

A *case* pools everything that only differs by seed: ``proxy/<space>/<dataset>/<proxy>/<device>`` and
``searcher/<space>/<dataset>/<searcher>``. A metric has *regressed* when it moved the wrong way by more
than its tolerance: the larger of a minimum effect (:data:`RULES`) and the combined confidence half-width
of baseline and current value (the two half-widths added in quadrature, each on the side facing the
other). Both conditions matter: the CI alone flags tiny but certain changes of a 1000-arch run, the
minimum effect alone flaps on a 50-arch run. Improvements, new and missing cases are reported, not failed.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats
from tabulate import tabulate

from harness.metrics.rank import rank_metrics
from harness.metrics.regret import regret_at, regret_auc
from harness.runner import Trajectory


@dataclass(frozen=True)
class Rule:
    """How one metric is judged: which way is better, and the smallest change worth failing on."""

    direction: str  # "higher" or "lower" is better
    min_effect: float
    relative: bool = False  # min_effect is a fraction of the baseline value (timings: machines differ)
    gates: bool = True  # False: a change is reported (slower / faster) but never fails the gate

    def tolerance(self, baseline_value: float) -> float:
        return self.min_effect * abs(baseline_value) if self.relative else self.min_effect


# Time is reported, not gated: the committed baselines come from another machine and load, so a timing
# verdict there would flap. Timing regressions are pytest-benchmark's --benchmark-compare-fail against a saved
# run of the same machine; here a run twice as slow (or fast) as the baseline is only flagged.
_TIME = Rule("lower", 1.0, relative=True, gates=False)
RULES: dict[str, dict[str, Rule]] = {
    "proxy": {"spearman": Rule("higher", 0.05), "kendall": Rule("higher", 0.05), "seconds": _TIME},
    "searcher": {"final_mean": Rule("higher", 0.3), "auc_regret": Rule("lower", 0.3), "seconds": _TIME},
}
# load_batch's source ends with the seed that drew the batch; the collection it drew from is what must agree.
_SEED_SUFFIX = re.compile(r"\s*\(seed \d+\)$")
# Scale fields that must agree for a comparison to mean anything (another budget is another experiment).
COMPARABLE = {"proxy": ("image_source",), "searcher": ("budget", "budget_kind", "reported_metric")}


@dataclass(frozen=True)
class Estimate:
    value: float
    ci_low: float
    ci_high: float

    def half_width(self, side: str) -> float:
        """Distance from the value to the ``low`` or ``high`` bound (0 where the bound is unknown)."""
        bound = self.ci_low if side == "low" else self.ci_high
        width = abs(self.value - bound)
        return 0.0 if math.isnan(width) else width


@dataclass(frozen=True)
class CaseSummary:
    key: str
    kind: str
    metrics: dict[str, Estimate]
    scale: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Comparison:
    key: str
    metric: str
    status: str  # regression | improvement | unchanged | new | missing | incomparable
    baseline: Estimate | None = None
    current: Estimate | None = None
    tolerance: float = math.nan
    note: str = ""

    @property
    def change(self) -> float:
        if self.baseline is None or self.current is None:
            return math.nan
        return self.current.value - self.baseline.value


# --- Suite records: the ``extra_info`` a suite case stores and the gate reads ---------------------------

RANK_METRICS = ("spearman", "kendall", "pearson", "top1", "top5", "top10")
REGRET_FRACTIONS = (0.25, 0.5, 1.0)


def _json_float(value: float) -> float | None:
    """JSON has no NaN/inf in strict parsers: a non-finite value is stored as null."""
    return float(value) if math.isfinite(value) else None


def proxy_record(proxy: str, space: str, dataset: str, device: str, seed: int, archs: Sequence[int],
                 scores: Sequence[float], accuracies: Sequence[float], image_source: str, reported_metric: str,
                 seconds_per_arch: float = math.nan, peak_mem_bytes: int = 0,
                 n_boot: int = 1000) -> dict[str, Any]:
    """The record of one proxy case: rank metrics (bootstrap CIs, seeded by ``seed``) of ``scores``
    against ``accuracies`` over ``archs``, plus the raw values so a report can recompute anything."""
    ranks = rank_metrics(scores, accuracies, n_boot=n_boot, seed=seed)
    info: dict[str, Any] = {
        "kind": "proxy", "proxy": proxy, "space": space, "dataset": dataset, "device": device, "seed": int(seed),
        "n_archs": len(archs), "image_source": image_source, "reported_metric": reported_metric,
        "n_nonfinite": int(ranks["n_nonfinite"])}
    for name in RANK_METRICS:
        est = ranks[name]
        info.update({name: _json_float(est.value), f"{name}_ci_low": _json_float(est.ci_low),
                     f"{name}_ci_high": _json_float(est.ci_high)})
    info.update(seconds_per_arch=_json_float(seconds_per_arch), peak_mem_bytes=int(peak_mem_bytes),
                archs=[int(a) for a in archs], scores=[_json_float(v) for v in scores],
                accuracies=[_json_float(v) for v in accuracies])
    return info


def searcher_record(trajectories: Sequence[Trajectory], optimum: float) -> dict[str, Any]:
    """The record of one searcher case (all runs of one searcher, space, dataset and budget): final result,
    regret at fractions of the budget and its area (per run too, for the gate's confidence interval)."""
    first = trajectories[0]
    fields = ("searcher", "space", "dataset", "budget", "budget_kind", "reported_metric")
    for t in trajectories:
        if any(getattr(t, f) != getattr(first, f) for f in fields):
            raise ValueError(f"one searcher record needs runs of one case; got {t.searcher}/{t.space}/"
                             f"{t.dataset} budget {t.budget} next to {first.searcher}/{first.space}/"
                             f"{first.dataset} budget {first.budget}")
    finals = np.asarray([t.final_reported for t in trajectories])
    at = np.asarray([regret_at(t, optimum, REGRET_FRACTIONS) for t in trajectories])
    aucs = [regret_auc(t, optimum) for t in trajectories]
    info: dict[str, Any] = {f: getattr(first, f) for f in fields}
    info.update(kind="searcher", seeds=[t.seed for t in trajectories], runs=len(trajectories),
                optimum=float(optimum), final_mean=float(np.mean(finals)),
                final_std=float(np.std(finals, ddof=1)) if len(finals) > 1 else 0.0,
                regret_mean=float(optimum - np.mean(finals)))
    for i, fraction in enumerate(REGRET_FRACTIONS):
        info[f"regret_at_{fraction}"] = float(np.nanmean(at[:, i]))
    info.update(auc_regret=float(np.nanmean(aucs)), auc_regret_runs=aucs,
                queries_mean=float(np.mean([t.n_queries for t in trajectories])),
                trajectories=[t.to_dict() for t in trajectories])
    return info


# --- The gate --------------------------------------------------------------------------------------------

def case_key(info: Mapping[str, Any]) -> str:
    """The baseline key of one benchmark's ``extra_info`` (seeds pooled)."""
    kind = info["kind"]
    if kind == "proxy":
        return f"proxy/{info['space']}/{info['dataset']}/{info['proxy']}/{info['device']}"
    if kind == "searcher":
        return f"searcher/{info['space']}/{info['dataset']}/{info['searcher']}"
    raise ValueError(f"unknown benchmark kind {kind!r} in extra_info; valid kinds: proxy, searcher")


def _mean_ci(values: Iterable[float]) -> Estimate:
    """Mean with a t-based 95% CI (zero width for a single value)."""
    x = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if x.size == 0:
        return Estimate(math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if x.size < 2:
        return Estimate(mean, mean, mean)
    half = float(stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return Estimate(mean, mean - half, mean + half)


def _pooled_correlation(records: list[Mapping[str, Any]], name: str) -> Estimate:
    """Mean over seeds; the half-width adds the per-seed bootstrap CI (arch sampling) and the t-interval of
    the seed-to-seed spread (minibatch and init) in quadrature."""
    per_seed = [Estimate(*(math.nan if r[k] is None else float(r[k])
                           for k in (name, f"{name}_ci_low", f"{name}_ci_high"))) for r in records]
    values = np.asarray([e.value for e in per_seed])
    if np.isnan(values).any():
        return Estimate(math.nan, math.nan, math.nan)
    lows = [e.half_width("low") for e in per_seed]
    highs = [e.half_width("high") for e in per_seed]
    spread = _mean_ci(values)
    seed_half = spread.value - spread.ci_low
    value = float(values.mean())
    return Estimate(value, value - math.hypot(float(np.mean(lows)), seed_half),
                    value + math.hypot(float(np.mean(highs)), seed_half))


def _timing(benchmarks: list[Mapping[str, Any]]) -> Estimate | None:
    """Median seconds per round, with the fastest and slowest round as its interval (None: not timed)."""
    timed = [b["stats"] for b in benchmarks if b.get("stats")]
    if not timed:
        return None
    return Estimate(float(np.median([s["median"] for s in timed])), float(min(s["min"] for s in timed)),
                    float(max(s["max"] for s in timed)))


def _summarise_case(key: str, benchmarks: list[Mapping[str, Any]]) -> CaseSummary:
    infos = [b["extra_info"] for b in benchmarks]
    kind = infos[0]["kind"]
    if kind == "proxy":
        metrics = {name: _pooled_correlation(infos, name) for name in ("spearman", "kendall")}
        scale = {"n_archs": max(i["n_archs"] for i in infos), "seeds": sorted(i["seed"] for i in infos),
                 "image_source": _SEED_SUFFIX.sub("", infos[0]["image_source"])}
    else:
        trajectories = [t for i in infos for t in i["trajectories"]]
        metrics = {"final_mean": _mean_ci(t["final_reported"] for t in trajectories),
                   "auc_regret": _mean_ci(a for i in infos for a in i["auc_regret_runs"])}
        scale = {"runs": len(trajectories), "seeds": sorted(s for i in infos for s in i["seeds"]),
                 **{k: infos[0][k] for k in COMPARABLE["searcher"]}}
    seconds = _timing(benchmarks)
    if seconds is not None:
        metrics["seconds"] = seconds
    return CaseSummary(key, kind, metrics, scale)


def summarise(benchmarks: Iterable[Mapping[str, Any]]) -> dict[str, CaseSummary]:
    """Per-case summaries of a run's benchmarks (pytest-benchmark JSON entries with ``extra_info`` and
    ``stats``); entries without a suite ``kind`` (other benchmarks) are ignored."""
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for bench in benchmarks:
        if bench.get("extra_info", {}).get("kind") in RULES:
            groups[case_key(bench["extra_info"])].append(bench)
    return {key: _summarise_case(key, group) for key, group in sorted(groups.items())}


def _judge(key: str, metric: str, rule: Rule, base: Estimate, cur: Estimate) -> Comparison:
    if math.isnan(base.value) and math.isnan(cur.value):
        return Comparison(key, metric, "unchanged", base, cur, note="not a number in both")
    if math.isnan(cur.value):
        return Comparison(key, metric, "regression", base, cur, note="now not a number")
    if math.isnan(base.value):
        return Comparison(key, metric, "improvement", base, cur, note="was not a number")
    sign = 1.0 if rule.direction == "higher" else -1.0
    gain = sign * (cur.value - base.value)
    # The half-widths that face each other: baseline's towards the current value and vice versa.
    worse_side, better_side = ("low", "high") if rule.direction == "higher" else ("high", "low")
    if gain < 0:
        ci = math.hypot(base.half_width(worse_side), cur.half_width(better_side))
    else:
        ci = math.hypot(base.half_width(better_side), cur.half_width(worse_side))
    tolerance = max(rule.tolerance(base.value), ci)
    status = "regression" if gain < -tolerance else "improvement" if gain > tolerance else "unchanged"
    if not rule.gates and status != "unchanged":
        status = "slower" if status == "regression" else "faster"
        return Comparison(key, metric, status, base, cur, tolerance,
                          note="report-only: timings are gated by pytest-benchmark's compare")
    return Comparison(key, metric, status, base, cur, tolerance)


def compare(current: Mapping[str, CaseSummary], baseline: Mapping[str, CaseSummary]) -> list[Comparison]:
    """Every metric of every case in either mapping, judged by :data:`RULES`."""
    out: list[Comparison] = []
    for key in sorted(set(current) | set(baseline)):
        cur, base = current.get(key), baseline.get(key)
        if base is None:
            out.append(Comparison(key, "*", "new", note=f"scale {cur.scale}"))
            continue
        if cur is None:
            out.append(Comparison(key, "*", "missing", note="in the baselines, not in this run"))
            continue
        differing = [f for f in COMPARABLE[cur.kind] if cur.scale.get(f) != base.scale.get(f)]
        if differing:
            note = "; ".join(f"{f}: {base.scale.get(f)!r} -> {cur.scale.get(f)!r}" for f in differing)
            out.append(Comparison(key, "*", "incomparable", note=note))
            continue
        for metric, rule in RULES[cur.kind].items():
            if metric in cur.metrics and metric in base.metrics:
                out.append(_judge(key, metric, rule, base.metrics[metric], cur.metrics[metric]))
    return out


def regressions(comparisons: Iterable[Comparison]) -> list[Comparison]:
    return [c for c in comparisons if c.status == "regression"]


def _fmt(est: Estimate | None) -> str:
    if est is None:
        return ""
    return f"{est.value:.4g} [{est.ci_low:.4g}, {est.ci_high:.4g}]"


def format_report(comparisons: list[Comparison]) -> str:
    """A tabulate table of every comparison that is not ``unchanged``, then counts per status."""
    shown = [c for c in comparisons if c.status not in ("unchanged", "missing")]
    order = {"regression": 0, "incomparable": 1, "slower": 2, "improvement": 3, "faster": 4, "new": 5}
    shown.sort(key=lambda c: (order[c.status], c.key, c.metric))
    lines = []
    if shown:
        rows = [[c.status.upper() if c.status == "regression" else c.status, c.key, c.metric, _fmt(c.baseline),
                 _fmt(c.current), "" if math.isnan(c.change) else f"{c.change:+.4g}",
                 "" if math.isnan(c.tolerance) else f"{c.tolerance:.3g}", c.note] for c in shown]
        lines.append(tabulate(rows, headers=["status", "case", "metric", "baseline [95% CI]",
                                             "current [95% CI]", "change", "tolerance", "note"]))
    missing = sorted(c.key for c in comparisons if c.status == "missing")
    if missing:
        lines.append(f"{len(missing)} baseline case(s) not in this run: {', '.join(missing)}")
    counts: dict[str, int] = defaultdict(int)
    for c in comparisons:
        counts[c.status] += 1
    lines.append("baseline gate: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    return "\n".join(lines)


def _ci(info: Mapping[str, Any], name: str) -> str:
    value, low, high = (info.get(k) for k in (name, f"{name}_ci_low", f"{name}_ci_high"))
    if value is None:
        return "nan"
    return f"{value:.3f} [{low if low is not None else math.nan:.2f}, {high if high is not None else math.nan:.2f}]"


def format_run(benchmarks: Iterable[Mapping[str, Any]]) -> str:
    """What a suite run measured, one tabulate table per kind (the pytest terminal summary)."""
    benchmarks = list(benchmarks)
    proxies = [(b["extra_info"], b.get("stats") or {}) for b in benchmarks
               if b.get("extra_info", {}).get("kind") == "proxy"]
    searchers = [(b["extra_info"], b.get("stats") or {}) for b in benchmarks
                 if b.get("extra_info", {}).get("kind") == "searcher"]
    parts = []
    if proxies:
        rows = [[i["proxy"], i["space"], i["dataset"], i["device"], i["seed"], i["n_archs"], i["n_nonfinite"],
                 _ci(i, "spearman"), _ci(i, "kendall"), f"{i['top10']:.2f}" if i.get("top10") is not None else "nan",
                 f"{s.get('median', math.nan):.4f}"] for i, s in proxies]
        parts.append(tabulate(rows, headers=["proxy", "space", "dataset", "device", "seed", "archs", "nonfinite",
                                             "spearman [95% CI]", "kendall [95% CI]", "top10%", "s/net"]))
    if searchers:
        rows = [[i["searcher"], i["space"], i["dataset"], f"{min(i['seeds'])}-{max(i['seeds'])}", i["runs"],
                 f"{i['budget']:g} {i['budget_kind']}",
                 i["reported_metric"], f"{i['final_mean']:.2f} ± {i['final_std']:.2f}", f"{i['optimum']:.2f}",
                 f"{i['regret_at_0.5']:.2f}", f"{i['regret_at_1.0']:.2f}", f"{i['auc_regret']:.2f}",
                 f"{i['queries_mean']:.0f}", f"{s.get('median', math.nan):.4f}"] for i, s in searchers]
        parts.append(tabulate(rows, headers=["searcher", "space", "dataset", "seeds", "runs", "budget", "reports",
                                             "final mean ± std", "optimum", "regret@50%", "regret@100%",
                                             "AUC regret", "queries", "s/run"]))
    return "\n\n".join(parts)


# --- I/O ---------------------------------------------------------------------------------------------

def latest_run(folder: str | Path) -> Path:
    """The newest saved run under a pytest-benchmark storage folder (``NNNN_name.json``: highest NNNN)."""
    found = sorted(Path(folder).rglob("*.json"), key=lambda p: (p.name, str(p)))
    if not found:
        raise FileNotFoundError(f"no saved runs (*.json) under {folder}")
    return found[-1]


def load_run(path: str | Path) -> dict[str, Any]:
    """A saved pytest-benchmark run (``.benchmarks/<machine>/NNNN_name.json``): ``benchmarks``,
    ``machine_info``, ..."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder: give one saved run (a pytest-benchmark JSON file), e.g. "
                         f"{latest_run(path)}")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not a pytest-benchmark JSON file: {exc}") from None
    benchmarks = data.get("benchmarks") if isinstance(data, dict) else None
    if type(benchmarks) is not list:
        raise ValueError(f"{path} is not a pytest-benchmark JSON file (no 'benchmarks' list)")
    return data


def baseline_path(directory: str | Path, key: str) -> Path:
    return Path(directory) / (key.replace("/", ".") + ".json")


def _estimate(raw: Mapping[str, Any]) -> Estimate:
    # JSON has no NaN in strict mode: missing values are stored as null.
    return Estimate(*(math.nan if raw.get(k) is None else float(raw[k]) for k in ("value", "ci_low", "ci_high")))


def load_baselines(directory: str | Path) -> dict[str, CaseSummary]:
    """Every baseline in ``directory``. An absent folder is an error (a mistyped path must not pass the gate
    as "all new"); an empty folder is a first run with nothing to compare yet."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"baselines folder {directory} does not exist: check --baselines, or record "
                                "baselines first (pytest --baseline-update, or harness gate RUN --update)")
    out: dict[str, CaseSummary] = {}
    for path in sorted(directory.glob("*.json")):
        try:
            raw = json.loads(path.read_text())
            summary = CaseSummary(raw["key"], raw["kind"], {m: _estimate(e) for m, e in raw["metrics"].items()},
                                  raw["scale"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"baseline file {path} is malformed: {exc!r}") from None
        out[summary.key] = summary
    return out


def write_baselines(directory: str | Path, summaries: Mapping[str, CaseSummary], torch_version: str,
                    date: str) -> list[Path]:
    """Write (overwrite) one JSON file per case; baselines of cases not in ``summaries`` are kept."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for key, summary in summaries.items():
        metrics = {}
        for name, est in summary.metrics.items():
            rule = RULES[summary.kind][name]
            metrics[name] = {k: (None if math.isnan(v) else round(v, 6)) for k, v in asdict(est).items()}
            metrics[name].update(direction=rule.direction, min_effect=rule.min_effect, relative=rule.relative)
        doc = {"key": key, "kind": summary.kind, "metrics": metrics, "scale": summary.scale,
               "torch_version": torch_version, "date": date}
        path = baseline_path(directory, key)
        path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
        written.append(path)
    return written


def stored_torch_versions(directory: str | Path) -> set[str]:
    """The torch versions the baselines in ``directory`` were recorded under (their ``torch_version``)."""
    versions = set()
    for path in Path(directory).glob("*.json"):
        try:
            versions.add(json.loads(path.read_text()).get("torch_version"))
        except (json.JSONDecodeError, AttributeError):
            continue  # load_baselines names a malformed file
    return {v for v in versions if v}


def torch_version_note(run_torch: str | None, stored: set[str]) -> str:
    """A line for the gate's report when the run's torch differs from the baselines' (empty when not): quality
    metrics are still gated, since a torch version must not change them beyond noise; timings never are."""
    others = sorted(stored - {run_torch})
    if run_torch is None or not others:
        return ""
    return (f"torch differs: this run used torch {run_torch}, the baselines were recorded under torch "
            f"{', '.join(others)}; quality metrics are gated as usual, timings are report-only (slower/faster)")
