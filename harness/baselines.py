"""The suites' records and the regression gate: build the ``extra_info`` record of a suite case, summarise
a run per case, compare it with the stored baselines, and read and write the baseline JSON files. Pure
apart from the file I/O at the bottom; no pytest.

A *case* pools everything that only differs by seed: ``proxy/<space>/<dataset>/<proxy>/<device>`` and
``searcher/<space>/<dataset>/<searcher>``. A metric has *regressed* when it moved the wrong way by more
than its tolerance: the larger of a minimum effect (:data:`RULES`) and the combined confidence half-width
of baseline and current value (the two half-widths added in quadrature, each on the side facing the
other). Both conditions matter: the CI alone flags tiny but certain changes of a 1000-arch run, the
minimum effect alone flaps on a 50-arch run. Improvements, new and missing cases are reported, not failed.
A value that is not a finite number, in the run or in the baseline, is a regression: it can neither pass
nor improve. A case measured at another scale than its baseline is *incomparable*: reported, and failed
under ``strict`` (what CI runs).
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tabulate import tabulate

from harness.errors import InputError
from harness.metrics.estimate import Estimate, mean_ci
from harness.metrics.rank import rank_metrics
from harness.metrics.regret import regret_at, regret_auc
from harness.protocol import NATS
from harness.runner import Trajectory
from harness.runs import read_json


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
    "searcher": {"final_mean": Rule("higher", 0.3), "auc_regret": Rule("lower", 0.3),
                 "hv_regret": Rule("lower", 0.02), "seconds": _TIME},
}
# load_batch's source ends with the seed that drew the batch; the collection it drew from is what must agree.
_SEED_SUFFIX = re.compile(r"\s*\(seed \d+\)$")
# Scale fields that must agree for a comparison to mean anything (another budget is another experiment).
# Which seeds ran is noise the gate's intervals account for; how many ran is scale (n_seeds).
COMPARABLE = {"proxy": ("n_archs", "n_seeds", "batch_size", "image_source", "protocol"),
              "searcher": ("runs", "n_seeds", "budget", "budget_kind", "reported_metric", "protocol")}
# The scoring protocol (harness.protocol) as name and parameters; records from before protocols were nats.
DEFAULT_PROTOCOL = NATS.key
# Scale fields that older records and baselines lack, read as the value every run had then.
SCALE_DEFAULTS = {"batch_size": 64, "protocol": DEFAULT_PROTOCOL}  # of baselines recorded without them


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
    status: str  # regression | improvement | unchanged | slower | faster | new | missing | incomparable
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
                 *, batch_size: int, protocol: str = DEFAULT_PROTOCOL, seconds_per_arch: float = math.nan,
                 peak_mem_bytes: int = 0,
                 n_boot: int = 1000, errors: Mapping[int, str] | None = None) -> dict[str, Any]:
    """The record of one proxy case: rank metrics (bootstrap CIs, seeded by ``seed``) of ``scores``
    against ``accuracies`` over ``archs``, plus the raw values so a report can recompute anything, and the
    archs whose score failed (``errors``: arch -> reason; their scores are NaN)."""
    ranks = rank_metrics(scores, accuracies, n_boot=n_boot, seed=seed)
    info: dict[str, Any] = {
        "kind": "proxy", "proxy": proxy, "space": space, "dataset": dataset, "device": device, "seed": int(seed),
        "n_archs": len(archs), "batch_size": int(batch_size), "image_source": image_source, "protocol": protocol,
        "reported_metric": reported_metric,
        "n_nonfinite": int(ranks["n_nonfinite"])}
    for name in RANK_METRICS:
        est = ranks[name]
        info.update({name: _json_float(est.value), f"{name}_ci_low": _json_float(est.ci_low),
                     f"{name}_ci_high": _json_float(est.ci_high)})
    info.update(seconds_per_arch=_json_float(seconds_per_arch), peak_mem_bytes=int(peak_mem_bytes),
                archs=[int(a) for a in archs], scores=[_json_float(v) for v in scores],
                accuracies=[_json_float(v) for v in accuracies], n_errors=len(errors or {}),
                errors={str(a): r for a, r in (errors or {}).items()})
    return info


def searcher_record(trajectories: Sequence[Trajectory], optimum: float,
                    hv_regrets: Sequence[float] | None = None) -> dict[str, Any]:
    """The record of one searcher case (all runs of one searcher, space, dataset, budget and hardware mode):
    final result, regret at fractions of the budget and its area (per run too, for the gate's confidence
    interval); a constrained case's ``optimum`` is the best feasible arch's. Two-objective cases add each
    run's hypervolume regret (``harness.hardware.hv_regret``)."""
    first = trajectories[0]
    fields = ("searcher", "space", "dataset", "budget", "budget_kind", "reported_metric", "mode")
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
                rejected_mean=float(np.mean([t.n_rejected for t in trajectories])),
                trajectories=[t.to_dict() for t in trajectories])
    if hv_regrets is not None:
        info.update(hv_regret=float(np.mean(hv_regrets)), hv_regret_runs=[float(v) for v in hv_regrets])
    return info


# --- The gate --------------------------------------------------------------------------------------------

def _field(info: Mapping[str, Any], name: str, types: type | tuple[type, ...], default: Any = ...) -> Any:
    """``info[name]`` checked against ``types`` (never bool, which JSON readers would take for a number);
    a missing or mistyped field is a ValueError naming it."""
    if name not in info:
        if default is not ...:
            return default
        raise InputError(f"lacks the field {name!r}")
    value = info[name]
    if isinstance(value, bool) or not isinstance(value, types):
        raise InputError(f"field {name!r} is {value!r}, not {_type_names(types)}")
    return value


def _type_names(types: type | tuple[type, ...]) -> str:
    if isinstance(types, tuple) and float in types:
        return "a number"
    names = {str: "a string", int: "an integer", list: "a list", dict: "an object"}
    return names.get(types, getattr(types, "__name__", str(types)))


def _number(info: Mapping[str, Any], name: str, default: Any = ...) -> float:
    """A numeric field; JSON null (how a non-finite value is stored) reads as NaN."""
    value = _field(info, name, (int, float, type(None)), default)
    return math.nan if value is None else float(value)


def _item(value: Any, name: str, types: type | tuple[type, ...]) -> Any:
    """An element of the list field ``name``, checked like a field."""
    if isinstance(value, bool) or not isinstance(value, types):
        raise InputError(f"field {name!r} holds {value!r}, not {_type_names(types)}")
    return value


def case_key(info: Mapping[str, Any]) -> str:
    """The baseline key of one benchmark's ``extra_info`` (seeds pooled)."""
    kind = info["kind"]
    if kind == "proxy":
        parts = ("space", "dataset", "proxy", "device")
    elif kind == "searcher":
        parts = ("space", "dataset", "searcher")
    else:
        raise ValueError(f"unknown benchmark kind {kind!r} in extra_info; valid kinds: proxy, searcher")
    key = "/".join([kind, *(_field(info, p, str) for p in parts)])
    if kind == "proxy":  # a non-default scoring protocol is another case (its own baseline file)
        protocol = _field(info, "protocol", str, DEFAULT_PROTOCOL).split(" ", 1)[0]
        return key + ("" if protocol == NATS.name else f"/{protocol}")
    return key + (f"/{info['mode']}" if kind == "searcher" and info.get("mode") else "")


def _pooled_correlation(records: list[Mapping[str, Any]], name: str) -> Estimate:
    """Mean over seeds; the half-width adds the per-seed bootstrap CI (arch sampling) and the t-interval of
    the seed-to-seed spread (minibatch and init) in quadrature. Any non-finite seed makes the case NaN."""
    per_seed = [Estimate(*(_number(r, k) for k in (name, f"{name}_ci_low", f"{name}_ci_high"))) for r in records]
    values = np.asarray([e.value for e in per_seed])
    if not np.isfinite(values).all():
        return Estimate(math.nan, math.nan, math.nan)
    lows = [e.half_width("low") for e in per_seed]
    highs = [e.half_width("high") for e in per_seed]
    spread = mean_ci(values)
    seed_half = spread.value - spread.ci_low
    value = float(values.mean())
    return Estimate(value, value - math.hypot(float(np.mean(lows)), seed_half),
                    value + math.hypot(float(np.mean(highs)), seed_half))


def _timing(benchmarks: list[Mapping[str, Any]]) -> Estimate | None:
    """Median seconds per round, with the fastest and slowest round as its interval (None: not timed)."""
    timed = [_field(b, "stats", dict) for b in benchmarks if b.get("stats")]
    if not timed:
        return None
    return Estimate(float(np.median([_number(s, "median") for s in timed])),
                    float(min(_number(s, "min") for s in timed)), float(max(_number(s, "max") for s in timed)))


def _summarise_case(key: str, benchmarks: list[Mapping[str, Any]]) -> CaseSummary:
    infos = [b["extra_info"] for b in benchmarks]
    kind = infos[0]["kind"]
    first = infos[0]
    if kind == "proxy":
        metrics = {name: _pooled_correlation(infos, name) for name in ("spearman", "kendall")}
        scale = {"n_archs": max(_field(i, "n_archs", int) for i in infos),
                 "seeds": sorted(_field(i, "seed", int) for i in infos),
                 "batch_size": _field(first, "batch_size", int, SCALE_DEFAULTS["batch_size"]),
                 "image_source": _SEED_SUFFIX.sub("", _field(first, "image_source", str))}
    else:
        trajectories = [_item(t, "trajectories", dict) for i in infos for t in _field(i, "trajectories", list)]
        metrics = {"final_mean": mean_ci(_number(t, "final_reported") for t in trajectories),
                   "auc_regret": mean_ci(_number({"auc_regret_runs": a}, "auc_regret_runs")
                                          for i in infos for a in _field(i, "auc_regret_runs", list))}
        scale = {"runs": len(trajectories),
                 "seeds": sorted(_item(s, "seeds", int) for i in infos for s in _field(i, "seeds", list)),
                 "budget": _number(first, "budget"), "budget_kind": _field(first, "budget_kind", str),
                 "reported_metric": _field(first, "reported_metric", str)}
        if "hv_regret_runs" in infos[0]:
            metrics["hv_regret"] = mean_ci(v for i in infos for v in _field(i, "hv_regret_runs", list))
    scale["protocol"] = _field(first, "protocol", str, DEFAULT_PROTOCOL)
    seconds = _timing(benchmarks)
    if seconds is not None:
        metrics["seconds"] = seconds
    return CaseSummary(key, kind, metrics, scale)


def summarise(benchmarks: Iterable[Mapping[str, Any]]) -> dict[str, CaseSummary]:
    """Per-case summaries of a run's benchmarks (pytest-benchmark JSON entries with ``extra_info`` and
    ``stats``); entries without a suite ``kind`` (other benchmarks) are ignored. A suite entry that lacks a
    field, or holds a value of the wrong type, is a ValueError naming the benchmark and the field."""
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for i, bench in enumerate(benchmarks):
        info = bench.get("extra_info") if isinstance(bench, Mapping) else None
        if isinstance(info, Mapping) and isinstance(info.get("kind"), str) and info["kind"] in RULES:
            groups[_in_benchmark(bench, i, case_key, info)].append(bench)
    return {key: _in_benchmark(group[0], None, _summarise_case, key, group) for key, group in sorted(groups.items())}


def _in_benchmark(bench: Mapping[str, Any], position: int | None, fn, *args):
    """``fn(*args)``, with the benchmark named in its ValueError."""
    try:
        return fn(*args)
    except ValueError as exc:
        where = f"benchmark {bench.get('name')!r}" if isinstance(bench.get("name"), str) else f"benchmark #{position}"
        raise ValueError(f"{where}: extra_info {exc}") from None


def _non_finite(base: Estimate, cur: Estimate) -> list[str]:
    """What keeps a comparison from being a number: a value that is not finite, or an infinite bound (a NaN
    bound is an unknown interval, read as zero width, which only makes the gate stricter)."""
    found = []
    for side, est in (("baseline", base), ("current", cur)):
        if not math.isfinite(est.value):
            found.append(f"{side} value {est.value}")
        found += [f"{side} {b} {v}" for b, v in (("ci_low", est.ci_low), ("ci_high", est.ci_high)) if math.isinf(v)]
    return found


def _judge(key: str, metric: str, rule: Rule, base: Estimate, cur: Estimate) -> Comparison:
    broken = _non_finite(base, cur)
    if broken:
        return Comparison(key, metric, "regression", base, cur, note="not a finite number: " + ", ".join(broken))
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


def _scale(summary: CaseSummary, name: str) -> Any:
    if name == "n_seeds":
        seeds = summary.scale.get("seeds")
        return len(seeds) if isinstance(seeds, list) else seeds
    return summary.scale.get(name, SCALE_DEFAULTS.get(name))


def compare(current: Mapping[str, CaseSummary], baseline: Mapping[str, CaseSummary]) -> list[Comparison]:
    """Every metric of every case in either mapping, judged by :data:`RULES`; a case whose scale
    (:data:`COMPARABLE`) differs from its baseline's is one ``incomparable`` entry instead."""
    out: list[Comparison] = []
    for key in sorted(set(current) | set(baseline)):
        cur, base = current.get(key), baseline.get(key)
        if base is None:
            out.append(Comparison(key, "*", "new", note=f"scale {cur.scale}"))
            continue
        if cur is None:
            out.append(Comparison(key, "*", "missing", note="in the baselines, not in this run"))
            continue
        differing = [f for f in COMPARABLE[cur.kind] if _scale(cur, f) != _scale(base, f)]
        if cur.kind != base.kind:
            differing.insert(0, "kind")
        if differing:
            note = "; ".join(f"{f}: {_short(_scale(base, f))} -> {_short(_scale(cur, f))}" for f in differing)
            out.append(Comparison(key, "*", "incomparable", note=note))
            continue
        for metric, rule in RULES[cur.kind].items():
            if metric in cur.metrics and metric in base.metrics:
                out.append(_judge(key, metric, rule, base.metrics[metric], cur.metrics[metric]))
    return out


def _short(value: Any, limit: int = 60) -> str:
    """A scale value for one table cell: a run of seeds as a range, long strings cut."""
    if isinstance(value, list) and len(value) > 3 and value == list(range(value[0], value[0] + len(value))):
        return f"{value[0]}-{value[-1]}"
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def regressions(comparisons: Iterable[Comparison]) -> list[Comparison]:
    return [c for c in comparisons if c.status == "regression"]


def failures(comparisons: Iterable[Comparison], strict: bool = False) -> list[Comparison]:
    """What fails the gate: regressions, and under ``strict`` also incomparable cases."""
    failing = ("regression", "incomparable") if strict else ("regression",)
    return [c for c in comparisons if c.status in failing]


def _fmt(est: Estimate | None) -> str:
    if est is None:
        return ""
    return f"{est.value:.4g} [{est.ci_low:.4g}, {est.ci_high:.4g}]"


def format_report(comparisons: list[Comparison], verbose: bool = False, strict: bool = False) -> str:
    """A tabulate table of every comparison that is neither ``unchanged`` nor ``missing``, then the missing
    cases (a count per kind; their names when ``verbose``), then counts per status."""
    shown = [c for c in comparisons if c.status not in ("unchanged", "missing")]
    order = {"regression": 0, "incomparable": 1, "slower": 2, "improvement": 3, "faster": 4, "new": 5}
    shown.sort(key=lambda c: (order[c.status], c.key, c.metric))
    failing = {"regression", "incomparable"} if strict else {"regression"}
    lines = []
    if shown:
        rows = [[c.status.upper() if c.status in failing else c.status, c.key, c.metric, _fmt(c.baseline),
                 _fmt(c.current), "" if math.isnan(c.change) else f"{c.change:+.4g}",
                 "" if math.isnan(c.tolerance) else f"{c.tolerance:.3g}", c.note] for c in shown]
        lines.append(tabulate(rows, headers=["status", "case", "metric", "baseline [95% CI]",
                                             "current [95% CI]", "change", "tolerance", "note"]))
    missing = sorted(c.key for c in comparisons if c.status == "missing")
    if missing:
        per_kind: dict[str, int] = defaultdict(int)
        for key in missing:
            per_kind[key.split("/", 1)[0]] += 1
        counts = ", ".join(f"{n} {kind}" for kind, n in sorted(per_kind.items()))
        lines.append(f"baseline cases not in this run: {counts}" +
                     (":\n" + "\n".join(f"  {k}" for k in missing) if verbose else " (names with -v)"))
    counts: dict[str, int] = defaultdict(int)
    for c in comparisons:
        counts[c.status] += 1
    lines.append("baseline gate: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    if counts["incomparable"] and not strict:
        lines.append("incomparable cases are measured at another scale than their baselines; --strict fails on them")
    return "\n".join(lines)


def _ci(info: Mapping[str, Any], name: str) -> str:
    value, low, high = (info.get(k) for k in (name, f"{name}_ci_low", f"{name}_ci_high"))
    if value is None:
        return "nan"
    return f"{value:.3f} [{low if low is not None else math.nan:.2f}, {high if high is not None else math.nan:.2f}]"


def _with_protocol(info: Mapping[str, Any]) -> str:
    """A proxy case's label: the proxy, and its scoring protocol where that is not the default."""
    protocol = str(info.get("protocol") or DEFAULT_PROTOCOL).split(" ", 1)[0]
    return info["proxy"] + ("" if protocol == NATS.name else f" [{protocol}]")


def format_run(benchmarks: Iterable[Mapping[str, Any]]) -> str:
    """What a suite run measured, one tabulate table per kind (the pytest terminal summary)."""
    benchmarks = list(benchmarks)
    proxies = [(b["extra_info"], b.get("stats") or {}) for b in benchmarks
               if b.get("extra_info", {}).get("kind") == "proxy"]
    searchers = [(b["extra_info"], b.get("stats") or {}) for b in benchmarks
                 if b.get("extra_info", {}).get("kind") == "searcher"]
    parts = []
    if proxies:
        rows = [[_with_protocol(i), i["space"], i["dataset"], i["device"], i["seed"], i["n_archs"], i["n_nonfinite"],
                 _ci(i, "spearman"), _ci(i, "kendall"), f"{i['top10']:.2f}" if i.get("top10") is not None else "nan",
                 f"{s.get('median', math.nan):.4f}"] for i, s in proxies]
        parts.append(tabulate(rows, headers=["proxy", "space", "dataset", "device", "seed", "archs", "nonfinite",
                                             "spearman [95% CI]", "kendall [95% CI]", "top10%", "s/net"]))
    if searchers:
        rows = [[f"{i['searcher']} [{i['mode']}]" if i.get("mode") else i["searcher"], i["space"], i["dataset"], f"{min(i['seeds'])}-{max(i['seeds'])}", i["runs"],
                 f"{i['budget']:g} {i['budget_kind']}",
                 i["reported_metric"], f"{i['final_mean']:.2f} ± {i['final_std']:.2f}", f"{i['optimum']:.2f}",
                 f"{i['regret_at_0.5']:.2f}", f"{i['regret_at_1.0']:.2f}", f"{i['auc_regret']:.2f}",
                 f"{i['queries_mean']:.0f}", f"{s.get('median', math.nan):.4f}"] for i, s in searchers]
        parts.append(tabulate(rows, headers=["searcher", "space", "dataset", "seeds", "runs", "budget", "reports",
                                             "final mean ± std", "optimum", "regret@50%", "regret@100%",
                                             "AUC regret", "queries", "s/run"]))
    return "\n\n".join(parts)


# --- I/O ---------------------------------------------------------------------------------------------

def baseline_path(directory: str | Path, key: str) -> Path:
    return Path(directory) / (key.replace("/", ".") + ".json")


def _estimate(raw: Any, metric: str) -> Estimate:
    """A metric's value and CI bounds; JSON null (how a non-finite value is stored) reads as NaN."""
    if not isinstance(raw, dict):
        raise InputError(f"metrics.{metric} is {raw!r}, not an object")
    try:
        return Estimate(*(_number(raw, k) for k in ("value", "ci_low", "ci_high")))
    except ValueError as exc:
        raise ValueError(f"metrics.{metric}: {exc}") from None


def _baseline(raw: Any) -> CaseSummary:
    if not isinstance(raw, dict):
        raise InputError(f"holds {type(raw).__name__}, not an object")
    kind = _field(raw, "kind", str)
    if kind not in RULES:
        raise ValueError(f"field 'kind' is {kind!r}; valid kinds: {', '.join(RULES)}")
    metrics = _field(raw, "metrics", dict)
    unknown = sorted(set(metrics) - set(RULES[kind]))
    if unknown:
        raise ValueError(f"metrics {unknown} are not {kind} metrics ({', '.join(RULES[kind])})")
    return CaseSummary(_field(raw, "key", str), kind, {m: _estimate(e, m) for m, e in metrics.items()},
                       _field(raw, "scale", dict))


def load_baselines(directory: str | Path) -> dict[str, CaseSummary]:
    """Every baseline in ``directory``. An absent folder, or one without baseline files, is an error: a
    mistyped path must not pass the gate as "all new" (a first run records them with --update)."""
    directory = Path(directory)
    record = "record baselines first (pytest --baseline-update, or harness gate RUN --update)"
    if not directory.is_dir():
        raise FileNotFoundError(f"baselines folder {directory} does not exist: check --baselines, or {record}")
    paths = sorted(directory.glob("*.json"))
    if not paths:
        raise FileNotFoundError(f"baselines folder {directory} holds no baseline files (*.json): check "
                                f"--baselines, or {record}")
    out: dict[str, CaseSummary] = {}
    for path in paths:
        try:
            summary = _baseline(read_json(path, "a baseline JSON file"))
        except ValueError as exc:
            message = str(exc)
            raise ValueError(message if str(path) in message else f"baseline file {path}: {message}") from None
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
            metrics[name] = {k: (None if math.isnan(v) else round(v, 6)) for k, v in est._asdict().items()}
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
