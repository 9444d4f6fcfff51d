"""Two saved suite runs side by side (e.g. the same suites under two torch versions): pure logic, no I/O.

Three views, each pairing the runs' cases by their baseline key (:func:`harness.baselines.case_key`):

* quality metrics with their CIs and timings as ratios, judged by the gate's own rules (the change beyond the
  larger of the rule's minimum effect and the combined CIs is "beyond noise"; timings are report-only);
* per-proxy score agreement over the archs both runs scored: *identical* (bit for bit), *close* (every
  relative difference within ``rtol``) or *different*, with the largest relative difference and the Spearman
  correlation of the two runs' scores (a difference that leaves the ranking alone matters less); a relative
  proxy over two different samples is *incomparable*;
* per-searcher trajectory agreement: how many runs queried exactly the same archs in the same order.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats
from tabulate import tabulate

from harness import baselines

# float32 scores summed over a batch in another kernel order move by ~1e-7 relative; 1e-5 leaves room for
# sums of many terms without hiding a changed computation.
RTOL = 1e-5
# In order of severity. A relative proxy (vote) scores an arch against the rest of the sample, so its scores
# of two different samples are incomparable, whatever the torch version.
AGREEMENT = ("incomparable", "identical", "close", "different")


@dataclass(frozen=True)
class ScoreAgreement:
    """One proxy case and seed, scored by both runs."""

    key: str
    seed: int
    n_archs: int  # archs scored by both runs
    status: str  # one of AGREEMENT
    max_rel_diff: float  # over archs with finite scores in both runs
    nonfinite_mismatch: int  # archs finite in one run and not in the other
    rank_corr: float  # Spearman of the two runs' scores over the archs finite in both

    @property
    def proxy(self) -> str:
        return self.key.split("/")[3]

    @property
    def where(self) -> str:
        _, space, dataset, _, device = self.key.split("/")
        return f"{space} {dataset} {device} seed {self.seed}"


@dataclass(frozen=True)
class TrajectoryAgreement:
    key: str
    runs: int  # runs (searcher seeds) present in both
    identical: int  # of those, runs whose queried archs are the same sequence


def _suite_entries(benchmarks: Iterable[Mapping[str, Any]], kind: str) -> list[Mapping[str, Any]]:
    return [b["extra_info"] for b in benchmarks if b.get("extra_info", {}).get("kind") == kind]


def relative_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| / max(|a|, |b|), 0 where a == b (two zeros included)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = np.maximum(np.abs(a), np.abs(b))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(a == b, 0.0, np.abs(a - b) / scale)


def agree_scores(key: str, seed: int, archs_a: Sequence[int], scores_a: Sequence[float | None],
                 archs_b: Sequence[int], scores_b: Sequence[float | None], rtol: float = RTOL) -> ScoreAgreement:
    """Agreement of two runs' scores of one proxy case over the archs both scored (null = not finite)."""
    by_arch_b = dict(zip(archs_b, scores_b, strict=True))
    pairs = [(s, by_arch_b[a]) for a, s in zip(archs_a, scores_a, strict=True) if a in by_arch_b]
    if not pairs:
        raise ValueError(f"{key} seed {seed}: the two runs scored no arch in common")
    a, b = (np.asarray([math.nan if v is None else v for v in col], dtype=float) for col in zip(*pairs))
    finite_a, finite_b = np.isfinite(a), np.isfinite(b)
    both = finite_a & finite_b
    mismatch = int(np.sum(finite_a != finite_b))
    identical = np.all((a == b) | (np.isnan(a) & np.isnan(b)))
    rel = relative_difference(a[both], b[both])
    max_rel = float(rel.max()) if rel.size else 0.0
    if identical:
        status = "identical"
    elif mismatch == 0 and max_rel <= rtol:
        status = "close"
    else:
        status = "different"
    corr = float(stats.spearmanr(a[both], b[both]).statistic) if both.sum() > 2 else math.nan
    return ScoreAgreement(key, seed, len(pairs), status, max_rel, mismatch, corr)


def _is_relative(proxy: str) -> bool:
    """Whether a proxy scores archs relative to the sample (a name no longer registered counts as per-arch)."""
    from harness.proxies import RelativeProxy, get_proxy

    try:
        return isinstance(get_proxy(proxy), RelativeProxy)
    except ValueError:
        return False


def score_agreements(run_a: Mapping[str, Any], run_b: Mapping[str, Any], rtol: float = RTOL) -> list[ScoreAgreement]:
    """Every proxy case and seed present in both runs."""
    index_b = {(baselines.case_key(i), i["seed"]): i for i in _suite_entries(run_b["benchmarks"], "proxy")}
    out = []
    for info in _suite_entries(run_a["benchmarks"], "proxy"):
        key = baselines.case_key(info)
        other = index_b.get((key, info["seed"]))
        if other is None:
            continue
        if set(info["archs"]) != set(other["archs"]) and _is_relative(info["proxy"]):
            common = len(set(info["archs"]) & set(other["archs"]))
            out.append(ScoreAgreement(key, info["seed"], common, "incomparable", math.nan, 0, math.nan))
        else:
            out.append(agree_scores(key, info["seed"], info["archs"], info["scores"], other["archs"],
                                    other["scores"], rtol))
    return sorted(out, key=lambda s: (s.proxy, s.key, s.seed))


def trajectory_agreements(run_a: Mapping[str, Any], run_b: Mapping[str, Any]) -> list[TrajectoryAgreement]:
    """Per searcher case: runs (by seed) present in both runs, and how many queried the same archs in order."""

    def runs(run: Mapping[str, Any]) -> dict[str, dict[int, list[int]]]:
        out: dict[str, dict[int, list[int]]] = defaultdict(dict)
        for info in _suite_entries(run["benchmarks"], "searcher"):
            for t in info["trajectories"]:
                out[baselines.case_key(info)][t["seed"]] = [int(a) for a in t["archs"]]
        return out

    a, b = runs(run_a), runs(run_b)
    out = []
    for key in sorted(set(a) & set(b)):
        seeds = set(a[key]) & set(b[key])
        out.append(TrajectoryAgreement(key, len(seeds), sum(a[key][s] == b[key][s] for s in seeds)))
    return out


def compare_runs(run_a: Mapping[str, Any], run_b: Mapping[str, Any]) -> list[baselines.Comparison]:
    """Every metric of every case, B judged against A by the gate's rules (A plays the baseline)."""
    return baselines.compare(baselines.summarise(run_b["benchmarks"]), baselines.summarise(run_a["benchmarks"]))


def run_label(run: Mapping[str, Any]) -> str:
    info = run.get("machine_info", {})
    return f"torch {info.get('torch_version', '?')} ({str(run.get('datetime', '?'))[:16]})"


def _est(est: baselines.Estimate | None) -> str:
    if est is None:
        return ""
    return f"{est.value:.4g} [{est.ci_low:.4g}, {est.ci_high:.4g}]"


def _change(c: baselines.Comparison) -> str:
    if math.isnan(c.change):
        return ""
    if c.metric == "seconds":
        return f"x{c.current.value / c.baseline.value:.2f}" if c.baseline.value else ""
    return f"{c.change:+.4g}"


_VERDICT = {"unchanged": "within noise", "regression": "WORSE beyond noise", "improvement": "better beyond noise",
            "slower": "slower (report-only)", "faster": "faster (report-only)"}


def format_metrics(comparisons: Sequence[baselines.Comparison], show_all: bool = False) -> str:
    """The case table (every row with ``show_all``, else those beyond noise or unpaired) and a summary."""
    shown = [c for c in comparisons if show_all or c.status != "unchanged"]
    lines = []
    if shown:
        rows = [[c.key, c.metric, _est(c.baseline), _est(c.current), _change(c),
                 "" if math.isnan(c.tolerance) else f"{c.tolerance:.3g}", _VERDICT.get(c.status, c.status),
                 c.note] for c in shown]
        lines.append(tabulate(rows, headers=["case", "metric", "A [95% CI]", "B [95% CI]", "B - A (time: B/A)",
                                             "noise", "verdict", "note"]))
    counts: dict[str, int] = defaultdict(int)
    for c in comparisons:
        counts[_VERDICT.get(c.status, c.status)] += 1
    lines.append("metrics: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    ratios = [c.current.value / c.baseline.value for c in comparisons if c.metric == "seconds"
              and c.baseline and c.current and c.baseline.value > 0 and c.current.value > 0]
    if ratios:
        lines.append(f"timing B/A over {len(ratios)} cases: geometric mean x{math.exp(np.mean(np.log(ratios))):.2f}, "
                     f"range x{min(ratios):.2f} to x{max(ratios):.2f}")
    return "\n".join(lines)


def format_scores(agreements: Sequence[ScoreAgreement], rtol: float = RTOL) -> str:
    """One row per proxy, rolled up over its cases (datasets, devices, seeds): the worst agreement wins."""
    by_proxy: dict[str, list[ScoreAgreement]] = defaultdict(list)
    for s in agreements:
        by_proxy[s.proxy].append(s)
    rows = []
    for proxy, group in sorted(by_proxy.items()):
        worst = max(group, key=lambda s: (AGREEMENT.index(s.status), s.max_rel_diff))
        counts = ", ".join(f"{sum(s.status == st for s in group)} {st}" for st in AGREEMENT
                           if any(s.status == st for s in group))
        rows.append([proxy, len(group), sum(s.n_archs for s in group), counts, f"{worst.max_rel_diff:.3g}",
                     worst.where if worst.max_rel_diff > 0 else "",
                     sum(s.nonfinite_mismatch for s in group), f"{np.nanmin([s.rank_corr for s in group]):.6f}"
                     if any(math.isfinite(s.rank_corr) for s in group) else ""])
    table = tabulate(rows, headers=["proxy", "cases", "archs", "agreement", "max rel diff", "worst case",
                                    "nonfinite mismatch", "min spearman(A,B)"], disable_numparse=True)
    return (f"{table}\nidentical: bit for bit; close: every |A-B|/max(|A|,|B|) <= rtol {rtol:g}; "
            "different: beyond that; incomparable: a relative proxy over two different samples")


def format_trajectories(agreements: Sequence[TrajectoryAgreement]) -> str:
    by_searcher: dict[str, list[TrajectoryAgreement]] = defaultdict(list)
    for t in agreements:
        by_searcher[t.key.split("/")[3]].append(t)
    rows = [[name, len(group), sum(t.runs for t in group), sum(t.identical for t in group)]
            for name, group in sorted(by_searcher.items())]
    return tabulate(rows, headers=["searcher", "cases", "runs", "runs with identical queries"])
