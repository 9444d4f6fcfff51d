"""Pure computations behind the report: curves, tables, op preferences, dynamics, search-landscape numbers.

Every function takes frames from ``harness.report.load`` (and an oracle for ground truth) and returns frames or
arrays; nothing here reads files or draws.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from harness.bench import Oracle
from harness.metrics.regret import aggregate, anytime
from harness.metrics.regret import final_table as metrics_final_table
from harness.runner import Trajectory
from harness.spaces import SPACE_CLASSES, SearchSpace


# -- ground truth ---------------------------------------------------------------------------------------
def parse_metric(space: str, reported: str | None) -> tuple[str, int]:
    """('test', 200) from a trajectory's reported_metric ('test@200'); the space's default when absent."""
    if reported and "@" in reported:
        metric, epochs = reported.split("@", 1)
        return metric, int(epochs)
    return SPACE_CLASSES[space].reported


def reported_accuracies(oracle: Oracle, dataset: str, reported: str | None = None) -> np.ndarray:
    """The accuracy searchers are judged by (test@200 on TSS, valid@90 on SSS), for every arch index."""
    metric, epochs = parse_metric(oracle.space_name, reported)
    return oracle.accuracies(dataset, metric, epochs)


def code_lookup(space: SearchSpace) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(encodings of every index, mixed-radix weights, code -> index table) for vectorised neighbour maths."""
    enc = space.encode_all()
    weights = space.n_choices ** np.arange(space.n_positions - 1, -1, -1)
    lookup = np.empty(space.size, dtype=np.int64)
    lookup[enc @ weights] = np.arange(space.size)
    return enc, weights, lookup


def neighbour_indices(space: SearchSpace, indices: np.ndarray) -> np.ndarray:
    """(len(indices), n_positions * (n_choices - 1)) indices of every single-position mutation."""
    enc, weights, lookup = code_lookup(space)
    digits = enc[indices]
    codes = digits @ weights
    out = []
    for pos in range(space.n_positions):
        for shift in range(1, space.n_choices):
            new = (digits[:, pos] + shift) % space.n_choices
            out.append(lookup[codes + (new - digits[:, pos]) * weights[pos]])
    return np.stack(out, axis=1)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise Hamming distances between two sets of encodings: (len(a), len(b))."""
    return (a[:, None, :] != b[None, :, :]).sum(axis=-1)


def mean_pairwise_hamming(encodings: np.ndarray) -> float:
    """Mean Hamming distance over distinct pairs of a set of encodings (NaN for fewer than two)."""
    n = len(encodings)
    if n < 2:
        return float("nan")
    d = hamming(encodings, encodings)
    return float(d[np.triu_indices(n, 1)].mean())


# -- search curves and final tables --------------------------------------------------------------------
def _traj(row: pd.Series) -> Trajectory:
    return Trajectory.from_dict(row["trajectory"])


def anytime_frame(trajectories: pd.DataFrame, n_points: int = 100) -> pd.DataFrame:
    """Incumbent reported accuracy and regret on a common grid, mean and 95% CI over seeds, per searcher.

    The grid spans 0..budget in seconds (TSS) or 1..budget queries (SSS); regret = optimum - incumbent.
    """
    rows = []
    for (space, dataset, searcher), group in trajectories.groupby(["space", "dataset", "searcher"]):
        kind = group["budget_kind"].iloc[0]
        budget = float(group["budget"].max())
        start = 1.0 if kind == "queries" else budget / n_points
        grid = np.linspace(start, budget, n_points)
        curves = np.array([anytime(_traj(r), grid) for _, r in group.iterrows()], dtype=np.float64)
        optimum = float(group["optimum"].iloc[0])
        acc = aggregate(curves)
        reg = aggregate(optimum - curves)
        for k, x in enumerate(grid):
            rows.append({"space": space, "dataset": dataset, "searcher": searcher, "budget_kind": kind,
                         "x": x, "optimum": optimum, "n": int(np.isfinite(curves[:, k]).sum()),
                         **{f"acc_{s}": float(acc[s][k]) for s in ("mean", "ci_low", "ci_high")},
                         **{f"regret_{s}": float(reg[s][k]) for s in ("mean", "ci_low", "ci_high")}})
    return pd.DataFrame(rows)


def final_table(searchers: pd.DataFrame, trajectories: pd.DataFrame) -> pd.DataFrame:
    """Per (space, dataset, searcher and mode): ``harness.metrics.final_table`` of the run's trajectories with
    each case's optimum (the constrained one under a latency limit), Mann-Whitney against random search in the
    same mode (one-sided, over seeds), and the pooled hypervolume regret of two-objective cases."""
    optima = {(r["space"], r["dataset"], r.get("mode") or ""): float(r["optimum"]) for _, r in searchers.iterrows()}
    table = pd.DataFrame(metrics_final_table([_traj(r) for _, r in trajectories.iterrows()], optima))
    table["searcher"] = [f"{s} [{m}]" if m else s for s, m in zip(table["searcher"], table["mode"])]
    hv = searchers.groupby(["space", "dataset", "searcher"])["hv_regret"].mean() if "hv_regret" in searchers \
        else pd.Series(dtype=float)
    table["hv_regret"] = [hv.get((r.space, r.dataset, r.searcher), math.nan) for r in table.itertuples()]
    return table.sort_values(["space", "dataset", "searcher"], ignore_index=True)


def budget_to_near_optimum(trajectories: pd.DataFrame, tol: float = 0.5) -> pd.DataFrame:
    """Per searcher: share of seeds whose incumbent comes within ``tol`` accuracy points of the optimum, and
    the mean fraction of the budget (seconds or queries) they needed."""
    rows = []
    for (space, dataset, searcher), group in trajectories.groupby(["space", "dataset", "searcher"]):
        fracs = []
        for _, r in group.iterrows():
            t = r["trajectory"]
            inc = np.asarray(t["incumbent_reported"], dtype=np.float64)
            hit = np.flatnonzero(r["optimum"] - inc <= tol)
            if hit.size:
                used = (t["times"][hit[0]] if r["budget_kind"] == "seconds" else hit[0] + 1)
                fracs.append(float(used) / r["budget"])
        rows.append({"space": space, "dataset": dataset, "searcher": searcher, "seeds": len(group),
                     "share_reached": len(fracs) / len(group),
                     "budget_fraction_mean": float(np.mean(fracs)) if fracs else math.nan})
    return pd.DataFrame(rows)


# -- proxies -------------------------------------------------------------------------------------------
PROXY_COLUMNS = ("proxy", "device", "n_archs", "n_nonfinite", "spearman", "kendall", "pearson", "top1",
                 "top5", "top10", "seconds_per_arch", "peak_mem_bytes", "image_source")


def proxy_table(proxies: pd.DataFrame, space: str, dataset: str) -> pd.DataFrame:
    """The correlation table of one (space, dataset): the run's values and CIs, one row per proxy, device
    and seed; proxies ordered by their mean Spearman, best first."""
    sub = proxies[(proxies["space"] == space) & (proxies["dataset"] == dataset)].copy()
    cols = [c for c in proxies.columns if c.startswith(PROXY_COLUMNS) or c in ("run", "seed")]
    order = sub.groupby("proxy")["spearman"].mean().sort_values(ascending=False, na_position="last")
    sub["_order"] = sub["proxy"].map({p: i for i, p in enumerate(order.index)})
    return sub.sort_values(["_order", "device", "seed", "run"], ignore_index=True)[cols]


def score_matrix(scores: pd.DataFrame, space: str, dataset: str) -> pd.DataFrame:
    """archs x proxies matrix of scores (first device per proxy; non-finite -> NaN), plus 'accuracy'."""
    sub = scores[(scores["space"] == space) & (scores["dataset"] == dataset)]
    if sub.empty:
        return pd.DataFrame()
    first = sub.groupby("proxy")["device"].transform("first")
    sub = sub[sub["device"] == first].drop_duplicates(["proxy", "arch"])
    wide = sub.pivot(index="arch", columns="proxy", values="score")
    wide = wide.where(np.isfinite(wide.to_numpy(dtype=np.float64)))
    wide["accuracy"] = sub.groupby("arch")["accuracy"].first()
    return wide


def proxy_spearman_matrix(matrix: pd.DataFrame) -> pd.DataFrame:
    """Proxy-vs-proxy Spearman correlation on the archs both scored finitely (pairwise complete)."""
    return matrix.drop(columns="accuracy").corr(method="spearman", min_periods=3)


# -- operation preferences ---------------------------------------------------------------------------
def op_frequencies(encodings: np.ndarray, n_choices: int) -> np.ndarray:
    """(n_positions, n_choices) share of each choice at each position among the given encodings."""
    enc = np.asarray(encodings, dtype=np.int64).reshape(-1, encodings.shape[-1] if len(encodings) else 0)
    if len(enc) == 0:
        raise ValueError("op_frequencies needs at least one arch")
    counts = np.stack([np.bincount(enc[:, p], minlength=n_choices) for p in range(enc.shape[1])])
    return counts / len(enc)


def top_fraction(values: np.ndarray, frac: float) -> np.ndarray:
    """Positions of the best ``frac`` of finite values (at least one), ties at the threshold included so the
    set does not depend on index order."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.flatnonzero(np.isfinite(values))
    k = max(1, round(frac * len(finite)))
    threshold = np.sort(values[finite])[-k]
    return finite[values[finite] >= threshold]


def op_preferences(oracle: Oracle, scores: pd.DataFrame, queries: pd.DataFrame, dataset: str,
                   frac: float = 0.05, reported: str | None = None) -> dict[str, np.ndarray]:
    """Op frequency matrices: the true top ``frac`` (oracle), each proxy's top ``frac`` of its scored sample,
    each searcher's visited archs and its final incumbents."""
    space = oracle.space
    enc = space.encode_all()
    out = {f"true top {frac:.0%}": op_frequencies(enc[top_fraction(reported_accuracies(oracle, dataset,
                                                                                          reported), frac)],
                                                    space.n_choices)}
    matrix = score_matrix(scores, space.name, dataset) if not scores.empty else pd.DataFrame()
    for proxy in [c for c in matrix.columns if c != "accuracy"]:
        col = matrix[proxy].dropna()
        if len(col):
            archs = col.index.to_numpy()[top_fraction(col.to_numpy(), frac)]
            out[f"{proxy} top {frac:.0%}"] = op_frequencies(enc[archs], space.n_choices)
    if not queries.empty:
        sub = queries[(queries["space"] == space.name) & (queries["dataset"] == dataset)]
        for searcher, group in sub.groupby("searcher"):
            out[f"{searcher} visited"] = op_frequencies(enc[group["arch"].to_numpy()], space.n_choices)
            last = group.sort_values("query").groupby(["run", "seed"]).tail(1)["incumbent_arch"]
            last = last.fillna(-1).to_numpy(dtype=np.int64)
            if (last >= 0).any():
                out[f"{searcher} final"] = op_frequencies(enc[last[last >= 0]], space.n_choices)
    return out


# -- search dynamics ---------------------------------------------------------------------------------
def _snapshots(trajectory: Mapping[str, Any]) -> list[tuple[int, dict]]:
    return [(int(q), s) for q, s in trajectory.get("snapshots") or [] if isinstance(s, dict)]


def population_frame(trajectories: pd.DataFrame, space: SearchSpace) -> pd.DataFrame:
    """From population snapshots (REA's state: population, ages, fitness): mean/max fitness, mean age and
    the fittest member's age (how long a good parent keeps breeding), distinct members and their mean
    pairwise Hamming distance."""
    enc = space.encode_all()
    rows = []
    for _, r in trajectories.iterrows():
        for q, state in _snapshots(r["trajectory"]):
            if not state.get("population") or "fitness" not in state:
                continue
            archs = np.asarray(state["population"], dtype=np.int64)
            fitness = np.asarray(state["fitness"], dtype=np.float64)
            ages = np.asarray(state.get("ages") or [np.nan], dtype=np.float64)
            rows.append({"space": r["space"], "dataset": r["dataset"], "searcher": r["searcher"],
                         "seed": r["seed"], "query": q, "fitness_mean": float(np.nanmean(fitness)),
                         "fitness_max": float(np.nanmax(fitness)), "age_mean": float(np.nanmean(ages)),
                         "age_fittest": float(ages[np.nanargmax(fitness)]) if len(ages) == len(fitness)
                         else math.nan,
                         "distinct": len(set(archs.tolist())), "size": len(archs),
                         "hamming_mean": mean_pairwise_hamming(enc[archs])})
    return pd.DataFrame(rows)


def policy_frame(trajectories: pd.DataFrame) -> pd.DataFrame:
    """From policy snapshots (REINFORCE / PPO state: probs per position, entropy per position in nats):
    long rows of each choice's probability, with the policy's total entropy."""
    rows = []
    for _, r in trajectories.iterrows():
        for q, state in _snapshots(r["trajectory"]):
            if state.get("probs") is None:
                continue
            probs = np.asarray(state["probs"], dtype=np.float64)
            ent = state.get("entropy")
            ent = float(np.sum(ent)) if ent is not None else float(stats.entropy(probs, axis=1).sum())
            for pos in range(probs.shape[0]):
                for c in range(probs.shape[1]):
                    rows.append({"space": r["space"], "dataset": r["dataset"], "searcher": r["searcher"],
                                 "seed": r["seed"], "query": q, "position": pos, "choice": c,
                                 "prob": float(probs[pos, c]), "entropy": ent})
    return pd.DataFrame(rows)


def visited_diversity(queries: pd.DataFrame, space: SearchSpace, window: int = 50,
                      step: int = 10) -> pd.DataFrame:
    """Every ``step`` queries: share of distinct archs visited so far, and the mean pairwise Hamming distance
    of the last ``window`` queries (exploration); per searcher and seed."""
    enc = space.encode_all()
    rows = []
    for key, group in queries.groupby(["space", "dataset", "searcher", "run", "seed"]):
        archs = group.sort_values("query")["arch"].to_numpy()
        for q in range(step, len(archs) + 1, step):
            rows.append({"space": key[0], "dataset": key[1], "searcher": key[2], "seed": key[4], "query": q,
                         "distinct_share": len(set(archs[:q].tolist())) / q,
                         "window_hamming": mean_pairwise_hamming(enc[archs[max(0, q - window):q]])})
    return pd.DataFrame(rows)


# -- the search landscape ---------------------------------------------------------------------------
def mutation_landscape(oracle: Oracle, dataset: str, fracs: Sequence[float] = (0.01, 0.05, 0.1),
                       reported: str | None = None) -> pd.DataFrame:
    """Exact over all archs: probability that a single mutation of a top-x% arch is itself top-x%, vs the
    same for a uniformly random parent (and the base rate x), and the mean accuracy lost by the mutation."""
    acc = reported_accuracies(oracle, dataset, reported)
    finite = np.isfinite(acc)
    parents = np.flatnonzero(finite)
    nbr = neighbour_indices(oracle.space, parents)
    rows = []
    for frac in fracs:
        good = np.zeros(len(acc), dtype=bool)
        good[top_fraction(acc, frac)] = True
        top_parents = good[parents]
        rows.append({"top": frac, "p_good_base": float(good[finite].mean()),
                     "p_good_after_mutating_good": float(good[nbr[top_parents]].mean()),
                     "p_good_after_mutating_random": float(good[nbr].mean()),
                     "lift": float(good[nbr[top_parents]].mean() / good[finite].mean()),
                     "mean_drop_mutating_good": float(np.nanmean(acc[parents[top_parents], None]
                                                                 - acc[nbr[top_parents]]))})
    return pd.DataFrame(rows)


def landscape_correlations(oracle: Oracle, dataset: str, reported: str | None = None) -> dict[str, float]:
    """Fitness-distance correlation (Spearman and Pearson of accuracy vs Hamming distance to the optimum;
    strongly negative = the optimum is reachable by local moves) and the parent/neighbour accuracy
    correlation (how much one mutation preserves fitness)."""
    acc = reported_accuracies(oracle, dataset, reported)
    ok = np.flatnonzero(np.isfinite(acc))
    enc = oracle.space.encode_all()
    best = ok[np.argmax(acc[ok])]
    dist = (enc[ok] != enc[best]).sum(axis=1)
    nbr = neighbour_indices(oracle.space, ok)
    parent = np.repeat(acc[ok], nbr.shape[1])
    child = acc[nbr].ravel()
    both = np.isfinite(child)
    return {"fdc_spearman": float(stats.spearmanr(dist, acc[ok]).statistic),
            "fdc_pearson": float(stats.pearsonr(dist, acc[ok]).statistic),
            "neighbour_spearman": float(stats.spearmanr(parent[both], child[both]).statistic),
            "neighbour_pearson": float(stats.pearsonr(parent[both], child[both]).statistic)}


def exploitation(queries: pd.DataFrame, space: SearchSpace, window: int = 10, top: int = 3) -> pd.DataFrame:
    """Per searcher: share of queries that are single mutations of one of the ``top`` best (validation
    accuracy) of the previous ``window`` queries (REA's tournament parents live there), share of queries
    that revisit an arch, and the mean Hamming distance of a query to the incumbent before it."""
    enc = space.encode_all()
    rows = []
    for (sp, ds, searcher), group in queries.groupby(["space", "dataset", "searcher"]):
        mut, rev, dist, n = 0, 0, [], 0
        for _, g in group.groupby(["run", "seed"]):
            g = g.sort_values("query")
            archs, valid = g["arch"].to_numpy(), g["valid_acc"].to_numpy(dtype=np.float64)
            inc = g["incumbent_arch"].fillna(-1).to_numpy(dtype=np.int64)
            seen = set(archs[:window].tolist())
            for q in range(window, len(archs)):
                prev = np.arange(q - window, q)
                best = prev[np.argsort(-np.nan_to_num(valid[prev], nan=-np.inf), kind="stable")[:top]]
                mut += bool(((enc[archs[best]] != enc[archs[q]]).sum(axis=1) == 1).any())
                rev += archs[q] in seen
                seen.add(archs[q])
                if inc[q - 1] >= 0:
                    dist.append(int((enc[inc[q - 1]] != enc[archs[q]]).sum()))
                n += 1
        rows.append({"space": sp, "dataset": ds, "searcher": searcher, "queries": n,
                     "mutation_of_top_share": mut / n if n else math.nan,
                     "revisit_share": rev / n if n else math.nan,
                     "distance_to_incumbent_mean": float(np.mean(dist)) if dist else math.nan})
    return pd.DataFrame(rows)
