"""How far the scoring protocol moves each proxy: (1) the ``zc2021`` protocol against the correlations Abdelfattah
et al. 2021 published, and its seed-to-seed noise; (2) ``suitezero`` against NAS-Bench-Suite-Zero's own scores;
(3) proxies x protocols on the same archs. Reads the scores from a result store that sweeps filled (nothing is
computed here); with SIX=synflow,snip,grad_norm,fisher,grasp,jacob_cov and S="--store out/study.sqlite":

    python -m harness sweep --protocol zc2021 --dataset cifar10 --proxies $SIX --archs sample:3000 $S
    python -m harness sweep --protocol zc2021 --dataset cifar100,ImageNet16-120 --proxies $SIX --archs sample:1000 $S
    python -m harness sweep --protocol zc2021 --seed 1 --proxies $SIX --archs sample:200 $S
    python -m harness sweep --protocol suitezero --proxies all --archs reference $S       # and --seed 1
    python -m harness sweep --protocol P --proxies $SIX --archs sample:300 $S              # P = nats, suitezero
    python benchmarks/protocol_study.py $S [--published-archs 3000,1000,1000]

Table 1 uses the largest prefix of the suites' fixed sample whose scores the store holds for every proxy (at most
``--published-archs`` per dataset); |Spearman| against the 200-epoch test accuracy, 95% bootstrap CIs. The paper
scored all 15,625 archs against the ``cifar10-valid`` run's test accuracy on cifar10 (the tables here hold the
``cifar10`` run's; the two rank archs alike); cifar100 and ImageNet16-120 use stand-in images (harness.images).
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch
from scipy.stats import spearmanr
from tabulate import tabulate
from torch import nn

from harness.bench import load_oracle
from harness.bench.reference import load_reference_scores
from harness.images import load_batch
from harness.metrics.rank import rank_metrics
from harness.protocol import PROTOCOLS, get_protocol
from harness.scoring import stored_scores
from harness.spaces import fixed_sample
from harness.store import ResultStore

# Abdelfattah et al. 2021, "Zero-Cost Proxies for Lightweight NAS", Table 1: Spearman rho over all NAS-Bench-201
# archs against test accuracy (absolute values as printed).
PUBLISHED = {
    "cifar10": {"fisher": 0.360, "grad_norm": 0.594, "snip": 0.596, "grasp": 0.514, "synflow": 0.737, "jacob_cov": 0.731},
    "cifar100": {"fisher": 0.385, "grad_norm": 0.637, "snip": 0.637, "grasp": 0.547, "synflow": 0.763, "jacob_cov": 0.704},
    "ImageNet16-120": {"fisher": 0.327, "grad_norm": 0.578, "snip": 0.578, "grasp": 0.549, "synflow": 0.751,
                       "jacob_cov": 0.701},
}
TOLERANCE = 0.03


def _ci(est, absolute: bool = False) -> str:
    lo, hi, v = est.ci_low, est.ci_high, est.value
    if absolute and v < 0:
        v, lo, hi = -v, -hi, -lo
    return f"{v:.3f} [{lo:.3f}, {hi:.3f}]"


def prefix_scores(store: ResultStore, oracle, dataset: str, proxies: list[str], batch, limit: int,
                  seed: int) -> tuple[list[int], dict[str, np.ndarray]]:
    """The largest prefix (in steps of 100) of the fixed sample, at most ``limit``, held for every proxy."""
    for n in range(limit, 0, -100):
        archs = fixed_sample(oracle.space, n).tolist()
        found = stored_scores(store, oracle.space, archs, proxies, dataset, batch, seed)
        if len(found) == len(proxies):
            return archs, found
    return [], {}


def published_table(store: ResultStore, oracle, limits: dict[str, int], seed: int, boot: int, data) -> None:
    rows = []
    for dataset, limit in limits.items():
        batch = load_batch(dataset, seed=seed, data=data, protocol=get_protocol("zc2021"))
        proxies = list(PUBLISHED[dataset])
        archs, scores = prefix_scores(store, oracle, dataset, proxies, batch, limit, seed)
        if not archs:
            print(f"zc2021 {dataset}: the store holds no prefix of the fixed sample for {proxies}")
            continue
        acc = oracle.accuracies(dataset, "test", 200)[archs]
        # cifar10: the paper ranked against the cifar10-valid run; the tables hold its validation accuracy
        other = oracle.accuracies(dataset, "valid", 200)[archs] if dataset == "cifar10" else None
        for proxy in proxies:
            est = rank_metrics(scores[proxy], acc, n_boot=boot, seed=0)["spearman"]
            gap = abs(est.value) - PUBLISHED[dataset][proxy]
            valid = abs(_rho(scores[proxy], other)) if other is not None else math.nan
            valid_gap = valid - PUBLISHED[dataset][proxy]
            rows.append([dataset, proxy, len(archs), _ci(est, absolute=True), f"{PUBLISHED[dataset][proxy]:.3f}",
                         f"{gap:+.3f}", _within(gap), f"{valid:.3f}" if other is not None else "-",
                         f"{valid_gap:+.3f} {_within(valid_gap)}" if other is not None else "-"])
    print(f"\n### zc2021 against Abdelfattah et al. 2021 (Table 1), |Spearman| vs test accuracy @200, "
          f"seed {seed}\n")
    print(tabulate(rows, headers=["dataset", "proxy", "archs", "ours [95% CI]", "published", "gap",
                                  f"within ±{TOLERANCE}", "ours vs valid@200", "gap (valid)"], tablefmt="github"))


def _within(gap: float) -> str:
    return "yes" if abs(gap) <= TOLERANCE else "no"


def reference_table(store: ResultStore, oracle, dataset: str, seed: int, noise_seed: int, data) -> None:
    """``suitezero`` against NAS-Bench-Suite-Zero's own scores of the same archs, with our seed-to-seed agreement
    (another init and batch draw) where the store holds the ``noise_seed`` scores: the ceiling that agreement
    with another implementation's inits and images can be expected to reach."""
    reference = load_reference_scores(data)
    ref = reference[reference["dataset"] == dataset]
    archs = [int(i) for i in ref["index"]]
    proxies = [c for c in ref.columns if c not in ("dataset", "index", "arch", "val_accuracy")]
    protocol = get_protocol("suitezero")
    ours, other = ({} if s is None else stored_scores(store, oracle.space, archs, proxies, dataset,
                                                      load_batch(dataset, seed=s, data=data, protocol=protocol), s)
                   for s in (seed, noise_seed))
    acc = oracle.accuracies(dataset, "test", 200)[archs]
    rows = []
    for proxy in proxies:
        theirs = ref[proxy].to_numpy(dtype=np.float64)
        if proxy not in ours:
            rows.append([proxy, "-", "-", "-", f"{_rho(theirs, acc):.3f}"])
            continue
        agree = _rho(ours[proxy], theirs)
        ceiling = f"{_rho(ours[proxy], other[proxy]):.3f}" if proxy in other else "-"
        rows.append([proxy, f"{agree:.3f}", ceiling, f"{_rho(ours[proxy], acc):.3f}", f"{_rho(theirs, acc):.3f}"])
    print(f"\n### suitezero against NAS-Bench-Suite-Zero's scores, {len(archs)} archs of the reference file, "
          f"{dataset}, seed {seed}\n")
    print(tabulate(rows, headers=["proxy", "rho(ours, theirs)", f"rho(ours, ours seed {noise_seed})",
                                  "ours vs test@200", "theirs vs test@200"], tablefmt="github"))


def protocol_table(store: ResultStore, oracle, dataset: str, n: int, seed: int, boot: int, data) -> None:
    """Every protocol on the same first ``n`` archs of the fixed sample: how much the protocol alone moves each
    proxy's Spearman correlation with the 200-epoch test accuracy."""
    archs = fixed_sample(oracle.space, n).tolist()
    acc = oracle.accuracies(dataset, "test", 200)[archs]
    proxies = list(PUBLISHED[dataset])
    found = {name: stored_scores(store, oracle.space, archs, proxies, dataset,
                                 load_batch(dataset, seed=seed, data=data, protocol=p), seed)
             for name, p in PROTOCOLS.items()}
    rows = [[proxy, *(_ci(rank_metrics(found[name][proxy], acc, n_boot=boot, seed=0)["spearman"])
                      if proxy in found[name] else "-" for name in PROTOCOLS)] for proxy in proxies]
    print(f"\n### Proxies x protocols, the first {n} archs of the fixed sample, {dataset}, Spearman [95% CI] vs "
          f"test accuracy @200, seed {seed}\n")
    print(tabulate(rows, headers=["proxy", *PROTOCOLS], tablefmt="github"))


def seed_table(store: ResultStore, oracle, dataset: str, n: int, seeds: tuple[int, int], data) -> None:
    """``zc2021`` under two seeds (initial weights and batch draws) on the first ``n`` archs: the noise of one
    run's correlation, and how far the two seeds rank archs alike."""
    archs = fixed_sample(oracle.space, n).tolist()
    acc = oracle.accuracies(dataset, "test", 200)[archs]
    proxies = list(PUBLISHED[dataset])
    protocol = get_protocol("zc2021")
    a, b = (stored_scores(store, oracle.space, archs, proxies, dataset,
                          load_batch(dataset, seed=s, data=data, protocol=protocol), s) for s in seeds)
    rows = [[proxy, f"{abs(_rho(a[proxy], acc)):.3f}", f"{abs(_rho(b[proxy], acc)):.3f}",
             f"{_rho(a[proxy], b[proxy]):.3f}"] for proxy in proxies if proxy in a and proxy in b]
    if not rows:
        print(f"\nzc2021 {dataset}: the store lacks seed {seeds[1]} scores of the first {n} archs")
        return
    print(f"\n### zc2021 under two seeds, the first {n} archs of the fixed sample, {dataset}\n")
    print(tabulate(rows, headers=["proxy", f"|Spearman| seed {seeds[0]}", f"|Spearman| seed {seeds[1]}",
                                  "rho(seed scores)"], tablefmt="github"))


def bias_ablation(store: ResultStore, oracle, dataset: str, n: int, seed: int, data) -> None:
    """Why fisher drops under zc2021: the same first ``n`` archs, images and weights with the cell
    convolutions' biases set to zero (computed here, not read from the store)."""
    from harness.networks import build_network
    from harness.proxies import get_proxy

    archs = fixed_sample(oracle.space, n).tolist()
    acc = oracle.accuracies(dataset, "test", 200)[archs]
    batch = load_batch(dataset, seed=seed, data=data, protocol=get_protocol("zc2021"))
    stored = stored_scores(store, oracle.space, archs, ["fisher"], dataset, batch, seed).get("fisher")
    fisher, unbiased = get_proxy("fisher"), []
    for arch in archs:
        net = build_network(oracle.space, arch, dataset, seed, protocol=batch.protocol)
        with torch.no_grad():
            for cell in net.cells:
                for m in cell.modules():
                    if isinstance(m, nn.Conv2d) and m.bias is not None:
                        m.bias.zero_()
        drawn = batch.for_arch(arch)
        unbiased.append(fisher(net, drawn.inputs, drawn.targets))
    with_bias = f"{abs(_rho(stored, acc)):.3f}" if stored is not None else "-"
    print(f"\n### fisher under zc2021 with and without the cell convolutions' bias, the first {n} archs, {dataset}\n")
    print(tabulate([["fisher", with_bias, f"{abs(_rho(np.asarray(unbiased), acc)):.3f}"]],
                   headers=["proxy", "|Spearman| as built", "|Spearman| cell biases zeroed"], tablefmt="github"))


def _rho(a: np.ndarray, b: np.ndarray) -> float:
    keep = np.isfinite(a) & np.isfinite(b)
    return float(spearmanr(a[keep], b[keep]).statistic)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--published-archs", default="3000,1000,1000",
                        help="at most this many archs of the fixed sample per dataset (cifar10,cifar100,ImageNet16-120)")
    parser.add_argument("--dataset", default="cifar10", help="dataset of the other tables")
    parser.add_argument("--protocol-archs", type=int, default=300, help="archs of the proxies x protocols table")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--noise-seed", type=int, default=1, help="the second seed of the noise columns")
    parser.add_argument("--noise-archs", type=int, default=200, help="archs of the zc2021 two-seed table")
    parser.add_argument("--boot", type=int, default=1000)
    parser.add_argument("--bias-ablation", type=int, default=0, metavar="N",
                        help="also score fisher on the first N archs with zc2021's cell biases zeroed (computed)")
    parser.add_argument("--data", default=None)
    args = parser.parse_args()
    oracle = load_oracle("tss", data=args.data)
    limits = dict(zip(PUBLISHED, (int(n) for n in args.published_archs.split(","))))
    with ResultStore(args.store) as store:
        published_table(store, oracle, limits, args.seed, args.boot, args.data)
        seed_table(store, oracle, args.dataset, args.noise_archs, (args.seed, args.noise_seed), args.data)
        reference_table(store, oracle, args.dataset, args.seed, args.noise_seed, args.data)
        protocol_table(store, oracle, args.dataset, args.protocol_archs, args.seed, args.boot, args.data)
        if args.bias_ablation:
            bias_ablation(store, oracle, args.dataset, args.bias_ablation, args.seed, args.data)


if __name__ == "__main__":
    main()
