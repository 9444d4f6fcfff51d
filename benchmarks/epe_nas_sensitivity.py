"""Benchmark: which correlation entries move epe_nas between two runs (torch versions, thread counts).

    python benchmarks/epe_nas_sensitivity.py --save out/e-2130.npz [--arch 14910] [--dataset ImageNet16-120]
    .tox/torch231/bin/python benchmarks/epe_nas_sensitivity.py --save out/e-231.npz --against out/e-2130.npz

epe_nas sums log(|C| + 1e-5) over the entries of each class's Jacobian correlation matrix C
(``harness.proxies.epe_nas.log_correlations``); the derivative 1 / (|C| + 1e-5) makes an entry near zero amplify a last-bit
change of the Jacobian. ``--against`` prints how far the Jacobian moved and the entries whose log term moved
most, with their |C|. ``--save`` keeps the Jacobian so that another torch's run can be compared with it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tabulate import tabulate

from harness.bench import load_oracle
from harness.images import load_batch
from harness.networks import build_network
from harness.proxies import Passes, get_proxy
from harness.proxies.epe_nas import log_correlations


def log_terms(jac: np.ndarray, labels: np.ndarray, n_classes: int) -> dict[tuple[int, int, int], tuple[float, float]]:
    """(class, i, j) -> (|C_ij|, its log term as epe_nas weighs it), over each class's upper triangle."""
    out = {}
    for c in np.unique(labels):
        rows = jac[labels == c]
        if len(rows) < 2:
            continue
        corr = np.abs(np.corrcoef(rows))
        terms = log_correlations(rows) / (len(rows) if n_classes > 100 else 1)
        for i, j in zip(*np.triu_indices(len(rows), 1), strict=True):
            out[int(c), int(i), int(j)] = (corr[i, j], terms[i, j])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", type=int, default=14910, help="TSS arch index")
    parser.add_argument("--dataset", default="ImageNet16-120")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--top", type=int, default=5, help="entries to show")
    parser.add_argument("--data", default=None)
    parser.add_argument("--save", type=Path, help="write the Jacobian and score here (.npz)")
    parser.add_argument("--against", type=Path, help="a --save file of another run to compare with")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    space = load_oracle("tss", data=args.data).space
    batch = load_batch(args.dataset, seed=args.seed, data=args.data).for_arch(args.arch)
    net = build_network(space, args.arch, args.dataset, args.seed, torch.device("cpu"), batch.protocol)
    passes = Passes(net, batch.inputs, batch.targets, F.cross_entropy, {"input_jacobian"})
    jac, labels = passes["input_jacobian"].detach().double().numpy(), batch.targets.numpy()
    score = get_proxy("epe_nas").evaluate(passes)
    print(f"torch {torch.__version__}, {args.dataset}, arch {args.arch}, seed {args.seed}, torch threads "
          f"{args.threads}: epe_nas {score!r}")
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(args.save, jac=jac, labels=labels, score=score)
    if not args.against:
        return
    other = np.load(args.against)
    before = float(other["score"])
    print(f"against {before!r}: relative difference {abs(score - before) / abs(before):.3g}; the Jacobian moved "
          f"{np.abs(jac - other['jac']).sum() / np.abs(other['jac']).sum():.3g} (L1, relative)")
    here, there = (log_terms(j, labels, int(passes.n_classes)) for j in (jac, other["jac"]))
    moved = sorted(((abs(here[k][1] - there[k][1]), abs(here[k][0] - there[k][0]), there[k][0], k) for k in here),
                   reverse=True)
    total = sum(m[0] for m in moved)
    rows = [[f"class {k[0]} ({k[1]},{k[2]})", f"{c:.3g}", f"{dc:.3g}", f"{d:.3g}", f"{d / total:.1%}"]
            for d, dc, c, k in moved[:args.top]]
    print(tabulate(rows, headers=["entry", "|C|", "|C| moved", "log term moved", "share of all"],
                   tablefmt="github"))
    print(f"{len(moved)} entries; median |C| moved {np.median([m[1] for m in moved]):.3g}")


if __name__ == "__main__":
    main()
