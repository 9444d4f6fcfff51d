"""One function per figure: frames from ``analysis`` in, one PNG out under a deterministic name.

Each function returns the path it wrote, or None when its data is absent (the page then says so). Figures use
the Agg backend, so they render without a display.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from harness.report import analysis
from harness.spaces import SearchSpace

DPI = 110
X_LABEL = {"seconds": "simulated training time (s)", "queries": "queries (architectures evaluated)"}
CI_METRICS = ("spearman", "kendall", "top5")
REGRET_FLOOR = 1e-2  # log axis: a regret of 0 (optimum found) is drawn here


def slug(*parts: str) -> str:
    """A file-name-safe, deterministic name from its parts."""
    return "_".join(re.sub(r"[^A-Za-z0-9_.-]+", "-", str(p)) for p in parts)


def _save(fig: plt.Figure, out_dir: Path, name: str) -> Path:
    path = Path(out_dir) / f"{name}.png"
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return path


def _colours(names: list[str]) -> dict[str, tuple]:
    cmap = plt.get_cmap("tab10")
    return {n: cmap(i % 10) for i, n in enumerate(sorted(names))}


# -- searchers ---------------------------------------------------------------------------------------
def pareto(trajectories: pd.DataFrame, reported: np.ndarray, latencies: Mapping[str, np.ndarray], space: str,
           dataset: str, out_dir: Path) -> Path | None:
    """Every arch (reported accuracy vs latency), the true front, and each two-objective case's front of
    its first seed; one panel per device. ``latencies``: device -> latency per arch; cases are the
    searchers labelled ``[DEVICE-pareto]``."""
    from harness.hardware import front
    from harness.metrics.pareto import pareto_mask

    if trajectories.empty or not latencies:
        return None
    fig, axes = plt.subplots(1, len(latencies), figsize=(6.5 * len(latencies), 4.8), squeeze=False)
    for ax, (device, lat) in zip(axes[0], sorted(latencies.items()), strict=True):
        ax.scatter(lat, reported, s=2, color="0.8", label="all archs", rasterized=True)
        true = np.flatnonzero(pareto_mask(reported, lat))
        order = true[np.argsort(lat[true])]
        ax.step(lat[order], reported[order], where="post", color="black", label="true front")
        sub = trajectories[trajectories["searcher"].str.endswith(f"[{device}-pareto]")]
        colours = _colours(list(sub["searcher"].unique()))
        for searcher, g in sub.groupby("searcher"):
            t = g.sort_values("seed").iloc[0]
            archs = np.asarray(t["trajectory"]["archs"], dtype=np.int64)
            found = front(archs, np.asarray(t["trajectory"]["valid_accs"], dtype=np.float64), lat)
            found = found[np.argsort(lat[found])]
            ax.plot(lat[found], reported[found], "o-", ms=4, color=colours[searcher],
                    label=f"{searcher.split(' [')[0]} (seed {t['seed']})")
        ax.set(xlabel=f"latency on {device} (ms)", ylabel="reported accuracy (%)",
               title=f"{space} / {dataset}: fronts on {device}")
        ax.set_ylim(bottom=max(np.nanmin(reported), np.nanmax(reported) - 30))
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return _save(fig, out_dir, slug("pareto", space, dataset))


def anytime(curves: pd.DataFrame, space: str, dataset: str, out_dir: Path) -> Path | None:
    """Incumbent reported accuracy (left) and regret on a log axis (right) vs budget, mean and 95% CI."""
    sub = curves[(curves["space"] == space) & (curves["dataset"] == dataset)]
    if sub.empty:
        return None
    kind, optimum = sub["budget_kind"].iloc[0], float(sub["optimum"].iloc[0])
    colours = _colours(list(sub["searcher"].unique()))
    fig, (ax_acc, ax_reg) = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
    for searcher, g in sub.groupby("searcher"):
        n = int(g["n"].max())
        ax_acc.plot(g["x"], g["acc_mean"], color=colours[searcher], label=f"{searcher} (n={n})")
        ax_acc.fill_between(g["x"], g["acc_ci_low"], g["acc_ci_high"], color=colours[searcher], alpha=0.2)
        ax_reg.plot(g["x"], g["regret_mean"].clip(lower=REGRET_FLOOR), color=colours[searcher], label=searcher)
        ax_reg.fill_between(g["x"], g["regret_ci_low"].clip(lower=REGRET_FLOOR),
                            g["regret_ci_high"].clip(lower=REGRET_FLOOR), color=colours[searcher], alpha=0.2)
    ax_acc.axhline(optimum, color="black", ls="--", lw=1, label=f"optimum {optimum:.2f}%")
    lo = np.nanmin(sub["acc_ci_low"].to_numpy())
    ax_acc.set_ylim(max(lo, optimum - 10) if np.isfinite(lo) else None, optimum + 0.5)
    ax_acc.set(xlabel=X_LABEL[kind], ylabel="incumbent accuracy (%)", title="incumbent accuracy (mean, 95% CI)")
    ax_reg.set_yscale("log")
    ax_reg.set(xlabel=X_LABEL[kind], ylabel="regret (accuracy points, log)",
               title=f"regret = optimum - incumbent (0 drawn at {REGRET_FLOOR:g})")
    ax_acc.legend(fontsize=8)
    ax_reg.legend(fontsize=8)
    fig.suptitle(f"Anytime performance: {space} / {dataset}")
    return _save(fig, out_dir, slug("anytime", space, dataset))


def final_distribution(trajectories: pd.DataFrame, space: str, dataset: str, out_dir: Path) -> Path | None:
    """Box plot with every seed's final reported accuracy per searcher."""
    sub = trajectories[(trajectories["space"] == space) & (trajectories["dataset"] == dataset)]
    if sub.empty:
        return None
    names = sorted(sub["searcher"].unique())
    data = [sub.loc[sub["searcher"] == n, "final_reported"].to_numpy(dtype=np.float64) for n in names]
    fig, ax = plt.subplots(figsize=(max(5, 1.3 * len(names) + 2), 4.5), layout="constrained")
    ax.boxplot(data, tick_labels=names, showmeans=True)
    rng = np.random.default_rng(0)
    for i, d in enumerate(data, start=1):
        ax.scatter(i + rng.uniform(-0.12, 0.12, len(d)), d, s=10, alpha=0.6, color="tab:blue")
    ax.axhline(float(sub["optimum"].iloc[0]), color="black", ls="--", lw=1, label="optimum")
    ax.set(xlabel="searcher", ylabel="final reported accuracy (%)",
           title=f"Final accuracy per seed: {space} / {dataset}")
    ax.legend(fontsize=8)
    return _save(fig, out_dir, slug("final", space, dataset))


def accuracy_loss(queries: pd.DataFrame, reported: np.ndarray, metric: str, train_loss: pd.Series | None,
                  space: str, dataset: str, kind: str, out_dir: Path) -> Path | None:
    """Validation and reported (test) accuracy of every queried arch over time per searcher, and the training
    loss where the ground truth has one (TSS archs < 1000 only; coverage in each panel's title)."""
    sub = queries[(queries["space"] == space) & (queries["dataset"] == dataset)]
    if sub.empty:
        return None
    names = sorted(sub["searcher"].unique())
    rows = 3 if train_loss is not None else 2
    fig, axes = plt.subplots(rows, len(names), figsize=(3.6 * len(names) + 1, 2.8 * rows), squeeze=False,
                             sharex="col", sharey="row", layout="constrained")
    for j, name in enumerate(names):
        g = sub[sub["searcher"] == name]
        x, archs = g["x"].to_numpy(dtype=np.float64), g["arch"].to_numpy()
        axes[0, j].scatter(x, g["valid_acc"], s=3, alpha=0.4)
        axes[0, j].set_title(f"{name}: validation acc")
        axes[1, j].scatter(x, reported[archs], s=3, alpha=0.4, color="tab:green")
        axes[1, j].set_title(f"{name}: {metric} acc")
        axes[0, j].set_ylabel("validation accuracy (%)" if j == 0 else "")
        axes[1, j].set_ylabel(f"{metric} accuracy (%)" if j == 0 else "")
        if train_loss is not None:
            known = np.isin(archs, train_loss.index.to_numpy())
            axes[2, j].scatter(x[known], train_loss.reindex(archs[known]).to_numpy(), s=5, alpha=0.6,
                               color="tab:red")
            axes[2, j].set_title(f"{name}: train loss ({known.sum()}/{len(archs)} queries have one)",
                                 fontsize=9)
            axes[2, j].set_ylabel("training loss (12 epochs)" if j == 0 else "")
        axes[-1, j].set_xlabel(X_LABEL[kind])
    fig.suptitle(f"Accuracy and loss of every queried arch: {space} / {dataset}")
    return _save(fig, out_dir, slug("accuracy_loss", space, dataset))


# -- proxies -----------------------------------------------------------------------------------------
def proxy_correlation(table: pd.DataFrame, space: str, dataset: str, out_dir: Path) -> Path | None:
    """Bar chart of Spearman, Kendall and top-5% agreement per proxy, with the bootstrap 95% CIs."""
    if table.empty:
        return None
    first = table.sort_values(["device", "seed"]).iloc[0]
    table = table[(table["device"] == first["device"]) & (table["seed"] == first["seed"])]
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(table) + 2), 4.5), layout="constrained")
    width = 0.8 / len(CI_METRICS)
    x = np.arange(len(table))
    for k, m in enumerate(CI_METRICS):
        if m not in table:
            continue
        v = table[m].to_numpy(dtype=np.float64)
        lo = table.get(f"{m}_ci_low", pd.Series(v)).to_numpy(dtype=np.float64)
        hi = table.get(f"{m}_ci_high", pd.Series(v)).to_numpy(dtype=np.float64)
        err = np.nan_to_num(np.stack([v - lo, hi - v]), nan=0.0).clip(min=0)
        ax.bar(x + (k - 1) * width, v, width, yerr=err, capsize=2, label=m)
    ax.set_xticks(x, table["proxy"], rotation=45, ha="right")
    ax.axhline(0, color="black", lw=0.8)
    ax.set(xlabel="proxy", ylabel="rank agreement with accuracy",
           title=f"Proxy vs accuracy (95% bootstrap CI): {space} / {dataset}, {first['device']}, "
                 f"seed {first['seed']}")
    ax.legend(fontsize=8)
    return _save(fig, out_dir, slug("proxy_correlation", space, dataset))


def proxy_scatter(matrix: pd.DataFrame, space: str, dataset: str, out_dir: Path) -> Path | None:
    """Rank of score vs rank of accuracy per proxy (ranks among the archs the proxy scored finitely)."""
    proxies = [c for c in matrix.columns if c != "accuracy"]
    if not proxies:
        return None
    cols = min(4, len(proxies))
    rows = -(-len(proxies) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols, 3.1 * rows), squeeze=False, layout="constrained")
    for ax, proxy in zip(axes.ravel(), proxies):
        ok = matrix[proxy].notna() & matrix["accuracy"].notna()
        s, a = matrix.loc[ok, proxy].to_numpy(), matrix.loc[ok, "accuracy"].to_numpy()
        with warnings.catch_warnings():  # a constant score gives NaN, which the title shows
            warnings.simplefilter("ignore", stats.ConstantInputWarning)
            rho = stats.spearmanr(s, a).statistic if len(s) > 2 else float("nan")
        if len(s):
            ax.scatter(stats.rankdata(s) / len(s), stats.rankdata(a) / len(a), s=4, alpha=0.5)
        ax.set(title=f"{proxy} (n={len(s)}, rho={rho:.2f})", xlabel="score rank (fraction)",
               ylabel="accuracy rank (fraction)")
    for ax in axes.ravel()[len(proxies):]:
        ax.axis("off")
    fig.suptitle(f"Score vs accuracy, rank-transformed: {space} / {dataset}")
    return _save(fig, out_dir, slug("proxy_scatter", space, dataset))


def proxy_heatmap(corr: pd.DataFrame, space: str, dataset: str, out_dir: Path) -> Path | None:
    """Proxy-vs-proxy Spearman correlation of the per-arch scores."""
    if corr.shape[0] < 2:
        return None
    n = corr.shape[0]
    fig, ax = plt.subplots(figsize=(0.6 * n + 3, 0.6 * n + 2), layout="constrained")
    im = ax.imshow(corr.to_numpy(dtype=np.float64), vmin=-1, vmax=1, cmap="coolwarm")
    ax.set_xticks(range(n), corr.columns, rotation=45, ha="right")
    ax.set_yticks(range(n), corr.index)
    for i in range(n):
        for j in range(n):
            v = corr.iat[i, j]
            ax.text(j, i, "" if pd.isna(v) else f"{v:.2f}", ha="center", va="center", fontsize=7)
    fig.colorbar(im, ax=ax, label="Spearman rho")
    ax.set(xlabel="proxy", ylabel="proxy", title=f"Proxy-vs-proxy Spearman: {space} / {dataset}")
    return _save(fig, out_dir, slug("proxy_heatmap", space, dataset))


def proxy_time(proxies: pd.DataFrame, out_dir: Path) -> Path | None:
    """Seconds per arch of every proxy on every device (mean over datasets), one panel per space."""
    if proxies.empty:
        return None
    spaces = sorted(proxies["space"].unique())
    fig, axes = plt.subplots(1, len(spaces), figsize=(7 * len(spaces), 4.5), squeeze=False,
                             layout="constrained")
    for ax, space in zip(axes[0], spaces):
        t = proxies[proxies["space"] == space].pivot_table(index="proxy", columns="device",
                                                           values="seconds_per_arch", aggfunc="mean")
        width = 0.8 / t.shape[1]
        for k, device in enumerate(t.columns):
            ax.bar(np.arange(len(t)) + k * width, t[device], width, label=device)
        ax.set_xticks(np.arange(len(t)) + 0.4 - width / 2, t.index, rotation=45, ha="right")
        ax.set_yscale("log")
        ax.set(xlabel="proxy", ylabel="seconds per arch (log)", title=f"Proxy cost per arch: {space}")
        ax.legend(title="device", fontsize=8)
    return _save(fig, out_dir, "proxy_time")


# -- op preferences and dynamics ------------------------------------------------------------------------
def op_preferences(freqs: Mapping[str, np.ndarray], space: SearchSpace, dataset: str,
                   out_dir: Path) -> Path | None:
    """One heatmap per source: share of each op (TSS) / channel count (SSS) at each edge / layer."""
    if not freqs:
        return None
    cols = min(4, len(freqs))
    rows = -(-len(freqs) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols + 2, 3.2 * rows + 0.6), squeeze=False,
                             layout="constrained")
    labels = space.position_labels()
    for k, (ax, (name, f)) in enumerate(zip(axes.ravel(), freqs.items())):
        im = ax.imshow(f, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        ax.set_xticks(range(space.n_choices), space.choices, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(space.n_positions), labels if k % cols == 0 else [], fontsize=7)
        ax.set_title(name, fontsize=9)
    for ax in axes.ravel()[len(freqs):]:
        ax.axis("off")
    fig.colorbar(im, ax=axes.ravel().tolist(), label="share of archs")
    fig.suptitle(f"{space.choice_noun.capitalize()} preferences per {space.position_noun}: {space.name} / {dataset}")
    return _save(fig, out_dir, slug("ops", space.name, dataset))


def _seed_mean(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Mean over seeds per snapshot query, keeping queries at least half the seeds snapshot (drops the
    odd end-of-run snapshots, which each seed takes at a different query)."""
    counts = frame.groupby("query")["seed"].nunique()
    keep = counts[counts >= counts.max() / 2].index
    return frame[frame["query"].isin(keep)].groupby("query")[columns].mean()


def population(pop: pd.DataFrame, space: str, dataset: str, out_dir: Path) -> Path | None:
    """Population mean/max fitness, mean age and diversity over queries (mean over seeds)."""
    sub = pop[(pop["space"] == space) & (pop["dataset"] == dataset)] if not pop.empty else pop
    if sub.empty:
        return None
    fig, axes = plt.subplots(1, 4, figsize=(18, 4), layout="constrained")
    for searcher, g in sub.groupby("searcher"):
        m = _seed_mean(g, ["fitness_mean", "fitness_max", "age_mean", "age_fittest", "hamming_mean",
                           "distinct", "size"])
        axes[0].plot(m.index, m["fitness_mean"], label=f"{searcher} mean")
        axes[0].plot(m.index, m["fitness_max"], ls="--", label=f"{searcher} max")
        axes[1].plot(m.index, m["age_mean"], label=f"{searcher} mean")
        axes[1].plot(m.index, m["age_fittest"], ls="--", label=f"{searcher} fittest member")
        axes[2].plot(m.index, m["hamming_mean"], label=searcher)
        axes[3].plot(m.index, m["distinct"] / m["size"], label=searcher)
    axes[0].set(xlabel="query", ylabel="validation accuracy (%)", title="population fitness")
    axes[1].set(xlabel="query", ylabel="age (queries)", title="population age")
    axes[2].set(xlabel="query", ylabel="Hamming distance (positions)", title="mean pairwise distance")
    axes[3].set(xlabel="query", ylabel="distinct archs / population size", title="distinct members")
    for ax in axes:
        ax.legend(fontsize=7)
    fig.suptitle(f"Evolution population dynamics: {space} / {dataset} (mean over seeds)")
    return _save(fig, out_dir, slug("population", space, dataset))


def policy(pol: pd.DataFrame, space: SearchSpace, dataset: str, searcher: str, out_dir: Path) -> Path | None:
    """Per-position choice probabilities (mean over seeds) and total policy entropy over queries."""
    sub = pol[(pol["space"] == space.name) & (pol["dataset"] == dataset) & (pol["searcher"] == searcher)] \
        if not pol.empty else pol
    if sub.empty:
        return None
    n = space.n_positions + 1
    fig, axes = plt.subplots(1, n, figsize=(3.2 * n, 3.4), layout="constrained")
    labels = space.position_labels()
    counts = sub.groupby("query")["seed"].nunique()
    sub = sub[sub["query"].isin(counts[counts >= counts.max() / 2].index)]
    m = sub.groupby(["position", "choice", "query"])["prob"].mean()
    for pos in range(space.n_positions):
        for c in range(space.n_choices):
            if (pos, c) in m.index.droplevel(2):
                s = m.loc[(pos, c)]
                axes[pos].plot(s.index, s.to_numpy(), label=space.choices[c])
        axes[pos].set(title=labels[pos], xlabel="query", ylabel="probability" if pos == 0 else "", ylim=(0, 1))
    axes[0].legend(fontsize=6)
    ent = sub.groupby("query")["entropy"].mean()
    axes[-1].plot(ent.index, ent.to_numpy(), color="black")
    axes[-1].set(title="policy entropy", xlabel="query", ylabel="entropy (nats)")
    fig.suptitle(f"{searcher} policy over time: {space.name} / {dataset} (mean over seeds)")
    return _save(fig, out_dir, slug("policy", space.name, dataset, searcher))


def diversity(div: pd.DataFrame, space: str, dataset: str, window: int, out_dir: Path) -> Path | None:
    """Share of distinct archs among those visited so far, and the mean pairwise Hamming distance of the
    last ``window`` queries, per searcher (mean over seeds)."""
    sub = div[(div["space"] == space) & (div["dataset"] == dataset)] if not div.empty else div
    if sub.empty:
        return None
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
    for searcher, g in sub.groupby("searcher"):
        m = g.groupby("query")[["distinct_share", "window_hamming"]].mean()
        a.plot(m.index, m["distinct_share"], label=searcher)
        b.plot(m.index, m["window_hamming"], label=searcher)
    a.set(xlabel="query", ylabel="distinct archs / queries", title="distinct archs visited")
    b.set(xlabel="query", ylabel="mean pairwise Hamming distance (positions)",
          title=f"spread of the last {window} queries")
    a.legend(fontsize=8)
    b.legend(fontsize=8)
    fig.suptitle(f"Exploration: {space} / {dataset} (mean over seeds)")
    return _save(fig, out_dir, slug("diversity", space, dataset))


def landscape(reported: np.ndarray, space: SearchSpace, dataset: str, frac: float,
              out_dir: Path) -> Path | None:
    """The landscape around good archs: accuracies of mutants of top archs vs random archs, and accuracy vs
    Hamming distance to the optimum (the fitness-distance picture)."""
    ok = np.flatnonzero(np.isfinite(reported))
    if ok.size == 0:
        return None
    top = analysis.top_fraction(reported, frac)
    mutants = analysis.neighbour_indices(space, top).ravel()
    enc = space.encode_all()
    dist = (enc[ok] != enc[ok[np.argmax(reported[ok])]]).sum(axis=1)
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
    lo = np.percentile(reported[ok], 5)  # the long tail of broken cells would squash the interesting end
    bins = np.linspace(lo, reported[ok].max(), 50)
    a.hist(reported[ok], bins=bins, density=True, alpha=0.5, label="all archs (= random sampling)")
    a.hist(reported[mutants][np.isfinite(reported[mutants])], bins=bins, density=True, alpha=0.5,
           label=f"single mutations of the top {frac:.0%}")
    a.axvline(reported[top].min(), color="black", ls="--", lw=1, label=f"top {frac:.0%} threshold")
    a.set(xlabel="reported accuracy (%; archs below the 5th percentile not shown)", ylabel="density",
          title="what one mutation of a good arch gives")
    a.legend(fontsize=8)
    groups = [reported[ok][dist == d] for d in range(space.n_positions + 1)]
    b.boxplot(groups, positions=range(space.n_positions + 1), showfliers=False)
    b.set(xlabel="Hamming distance to the optimum (positions)", ylabel="reported accuracy (%)",
          title="fitness vs distance to the optimum")
    fig.suptitle(f"Search landscape: {space.name} / {dataset}")
    return _save(fig, out_dir, slug("landscape", space.name, dataset))
