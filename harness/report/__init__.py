"""Reports from saved runs: ``write_report(runs, out_dir)`` loads them, computes, draws and writes
``out_dir/README.md`` with the figures beside it (the CLI's ``report`` command and pytest's ``--report``)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harness.baselines import DEFAULT_PROTOCOL
from harness.bench import DATASETS, Oracle, load_oracle
from harness.config import data_dir
from harness.errors import DataNotFoundError
from harness.report import analysis, figures, page
from harness.report.load import RunSet, Source, load_runs, load_train_info
from harness.spaces import SPACE_CLASSES

SPACE_ORDER = tuple(SPACE_CLASSES)
TOP_FRACTION = 0.05  # "good" archs for op preferences
NEAR_OPTIMUM = 0.5  # accuracy points: "reached the optimum" for budget-to-optimum numbers
WINDOW, TOP = 10, 3  # exploitation: mutation of one of the TOP best of the last WINDOW queries (REA's setting)
DIVERSITY_WINDOW = 50
SECTIONS = {"searchers": "Searchers", "proxies": "Proxies",
            "ops": f"Operation preferences (top {TOP_FRACTION:.0%})", "dynamics": "Search dynamics",
            "landscape": "Search landscape: single mutations and search behaviour"}


def _oracles(oracle: Oracle | Mapping[str, Oracle] | None, spaces: list[str], data,
             missing: list[str]) -> dict[str, Oracle]:
    given = {oracle.space_name: oracle} if isinstance(oracle, Oracle) else dict(oracle or {})
    out = {}
    for space in spaces:
        try:
            out[space] = given[space] if space in given else load_oracle(space, data=data)
        except (DataNotFoundError, ValueError) as exc:
            missing.append(f"ground truth for {space} unavailable ({exc}): no op preferences, accuracy/loss "
                           "or landscape numbers for it")
    return out


def _pairs(rs: RunSet) -> list[tuple[str, str]]:
    seen = set()
    for frame in (rs.searchers, rs.proxies):
        if not frame.empty:
            seen |= set(zip(frame["space"], frame["dataset"]))
    return [(s, d) for s in SPACE_ORDER for d in DATASETS if (s, d) in seen]


def _subset(frame: pd.DataFrame, space: str, dataset: str) -> pd.DataFrame:
    return frame[(frame["space"] == space) & (frame["dataset"] == dataset)] if not frame.empty else frame


@dataclass
class _Report:
    """What every section of one report reads: the runs, the ground truth and the run-wide tables."""

    rs: RunSet
    out: Path
    oracles: dict[str, Oracle]
    train_info: pd.DataFrame | None
    curves: pd.DataFrame
    final: pd.DataFrame
    near: pd.DataFrame

    def metric(self, space: str, dataset: str) -> str | None:
        """The reported metric the searchers of (space, dataset) were judged by (None: the space's default)."""
        t = _subset(self.rs.trajectories, space, dataset)
        return str(t["reported_metric"].iloc[0]) if not t.empty and t["reported_metric"].iloc[0] else None

    def reported(self, space: str, dataset: str) -> np.ndarray | None:
        o = self.oracles.get(space)
        return analysis.reported_accuracies(o, dataset, self.metric(space, dataset)) if o else None


def _searcher_section(r: _Report, space: str, dataset: str) -> str:
    t, q = _subset(r.rs.trajectories, space, dataset), _subset(r.rs.queries, space, dataset)
    reported = r.reported(space, dataset)
    figs: dict[str, Path | None] = {"anytime": None, "final": None, "accuracy_loss": None}
    if not t.empty:
        loss = r.train_info[f"{dataset}_hp12_train_loss"] if r.train_info is not None and SPACE_CLASSES[space].has_train_info \
            else None
        metric = "@".join(map(str, analysis.parse_metric(space, r.metric(space, dataset))))
        figs["anytime"] = figures.anytime(r.curves, space, dataset, r.out)
        figs["final"] = figures.final_distribution(t, space, dataset, r.out)
        devices = sorted({s.split(" [")[1][: -len("-pareto]")] for s in t["searcher"].unique()
                          if s.endswith("-pareto]")})
        if reported is not None and devices and space in r.oracles:
            figs["pareto"] = figures.pareto(t, reported, {d: r.oracles[space].latencies(d) for d in devices},
                                            space, dataset, r.out)
        if reported is not None:
            figs["accuracy_loss"] = figures.accuracy_loss(q, reported, metric, loss, space, dataset,
                                                          t["budget_kind"].iloc[0], r.out)
    return page.searchers(space, dataset, r.final, r.near, figs, NEAR_OPTIMUM)


def _proxy_section(r: _Report, space: str, dataset: str) -> str:
    tbl = analysis.proxy_table(r.rs.proxies, space, dataset)
    matrix = analysis.score_matrix(r.rs.scores, space, dataset) if not r.rs.scores.empty else pd.DataFrame()
    figs = {"correlation": figures.proxy_correlation(tbl, space, dataset, r.out), "scatter": None,
            "heatmap": None}
    if not matrix.empty:
        figs["scatter"] = figures.proxy_scatter(matrix, space, dataset, r.out)
        figs["heatmap"] = figures.proxy_heatmap(analysis.proxy_spearman_matrix(matrix), space, dataset, r.out)
    return page.proxies(space, dataset, tbl, figs)


def _ops_section(r: _Report, space: str, dataset: str) -> str:
    o = r.oracles[space]
    freqs = analysis.op_preferences(o, r.rs.scores, r.rs.queries, dataset, TOP_FRACTION, r.metric(space, dataset))
    return page.ops(o.space, dataset, freqs, o.space.position_labels(),
                    figures.op_preferences(freqs, o.space, dataset, r.out))


def _dynamics_section(r: _Report, space: str, dataset: str) -> str:
    o = r.oracles[space]
    t, q = _subset(r.rs.trajectories, space, dataset), _subset(r.rs.queries, space, dataset)
    pol = analysis.policy_frame(t)
    figs = {"population": figures.population(analysis.population_frame(t, o.space), space, dataset, r.out),
            "diversity": figures.diversity(analysis.visited_diversity(q, o.space, DIVERSITY_WINDOW), space,
                                           dataset, DIVERSITY_WINDOW, r.out)}
    for searcher in sorted(pol["searcher"].unique()) if not pol.empty else []:
        figs[f"policy {searcher}"] = figures.policy(pol, o.space, dataset, searcher, r.out)
    return page.dynamics(space, dataset, figs)


def _landscape_section(r: _Report, space: str, dataset: str) -> str:
    o, metric = r.oracles[space], r.metric(space, dataset)
    q = _subset(r.rs.queries, space, dataset)
    behaviour = analysis.exploitation(q, o.space, WINDOW, TOP) if not q.empty else pd.DataFrame()
    return page.landscape(space, dataset, analysis.mutation_landscape(o, dataset, reported=metric),
                        analysis.landscape_correlations(o, dataset, metric), behaviour, r.near,
                        figures.landscape(r.reported(space, dataset), o.space, dataset, TOP_FRACTION, r.out),
                        WINDOW, TOP, NEAR_OPTIMUM)


def write_report(runs: Iterable[Source] | Source, out_dir: str | os.PathLike[str],
                 oracle: Oracle | Mapping[str, Oracle] | None = None,
                 data: str | os.PathLike[str] | None = None) -> Path:
    """Write the report of saved runs (JSON paths or parsed dicts) into ``out_dir``; returns the page's path.

    ``oracle`` (one, or one per space) saves reloading the ground truth; otherwise it is loaded from the data
    root (``data`` or ``$HARNESS_DATA_DIR``). Missing ground truth or run parts are listed on the page.
    """
    rs = load_runs(runs)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    missing = list(rs.missing)
    pairs = _pairs(rs)
    oracles = _oracles(oracle, sorted({s for s, _ in pairs}), data, missing)
    train_info = None
    if any(SPACE_CLASSES[s].has_train_info for s in oracles):
        try:
            train_info = load_train_info(data)
        except (DataNotFoundError, ValueError) as exc:
            missing.append(f"TSS training losses unavailable ({exc})")
    trajs = rs.trajectories
    r = _Report(rs, out, oracles, train_info,
                curves=analysis.anytime_frame(trajs) if not trajs.empty else pd.DataFrame(),
                final=analysis.final_table(rs.searchers, trajs) if not rs.searchers.empty else pd.DataFrame(),
                near=analysis.budget_to_near_optimum(trajs, NEAR_OPTIMUM) if not trajs.empty else pd.DataFrame())

    sections: dict[str, list[str]] = {key: [] for key in SECTIONS}
    for space, dataset in pairs:
        if not _subset(rs.searchers, space, dataset).empty:
            sections["searchers"].append(_searcher_section(r, space, dataset))
        if not _subset(rs.proxies, space, dataset).empty:
            sections["proxies"].append(_proxy_section(r, space, dataset))
        if space in oracles:
            sections["ops"].append(_ops_section(r, space, dataset))
            if not _subset(trajs, space, dataset).empty:
                sections["dynamics"].append(_dynamics_section(r, space, dataset))
            sections["landscape"].append(_landscape_section(r, space, dataset))
    if not rs.proxies.empty:
        sections["proxies"].append(page.proxy_time(rs.proxies, figures.proxy_time(rs.proxies, out)))

    images = sorted(set(rs.proxies["image_source"].dropna().astype(str))) if "image_source" in rs.proxies else []
    protocols = sorted(set(rs.proxies["protocol"].fillna(DEFAULT_PROTOCOL))) if "protocol" in rs.proxies else \
        [DEFAULT_PROTOCOL] * (not rs.proxies.empty)
    parts = [page.header(rs.runs, {s: _source(o, data) for s, o in oracles.items()}, images, protocols),
             page.missing(missing)]
    parts += [f"## {SECTIONS[key]}\n\n" + "\n".join(body) for key, body in sections.items() if body]
    path = out / "README.md"
    path.write_text("\n".join(parts))
    return path


def _source(oracle: Oracle, data) -> str:
    """Where an oracle's ground truth came from, relative to the data root (no machine paths on the page)."""
    source = Path(getattr(oracle, "source", type(oracle).__name__))
    try:
        return f"$HARNESS_DATA_DIR/{source.relative_to(data_dir(data)).as_posix()}"
    except (ValueError, DataNotFoundError):
        return str(source)


__all__ = ["RunSet", "load_runs", "write_report"]
