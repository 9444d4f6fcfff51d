"""Benchmark: how much plain's and GraSP's sums cancel, and whether that explains a difference between two
torch versions (or two thread counts) of the same scores.

    python benchmarks/cancellation.py --save out/c-2130.npz [--archs 4638 11247] [--threads 2] [--data DIR]
    .tox/torch231/bin/python benchmarks/cancellation.py --save out/c-231.npz --against out/c-2130.npz

plain = sum W * g and GraSP = -sum W * (H g) over every Conv2d/Linear weight: signed sums of terms that
cancel. With ``ratio = sum|terms| / |sum|``, a change of the sum that is small beside the terms' own scale,
``|sum_B - sum_A| / sum|terms|``, shows up in the sum ``ratio`` times larger:
``|sum_B - sum_A| / |sum_A| = ratio * |sum_B - sum_A| / sum|terms|``. ``--against`` prints both sides and how
far the elementwise terms moved (``sum|terms_B - terms_A| / sum|terms_A|``). ``--save`` keeps every term
(float32) so that another torch's run can be compared with it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tabulate import tabulate

from harness.bench import load_oracle
from harness.images import Batch, load_batch
from harness.networks import build_network
from harness.proxies import Passes
from harness.spaces import SearchSpace

TERMS = {"plain": ("grad", 1.0), "grasp": ("hessian_grad", -1.0)}


def terms(space: SearchSpace, arch: int, batch: Batch, seed: int) -> dict[str, np.ndarray]:
    """Every term of plain's and GraSP's sums on ``arch``'s net, flattened, float32, as the proxies form them."""
    data = batch.for_arch(arch)
    net = build_network(space, arch, batch.dataset, seed, torch.device("cpu"), batch.protocol)
    passes = Passes(net, data.inputs, data.targets, F.cross_entropy, {p for p, _ in TERMS.values()})
    return {name: np.concatenate([(sign * m.weight.detach() * t).flatten().numpy()
                                  for m, t in zip(passes.layers, passes[pass_name])])
            for name, (pass_name, sign) in TERMS.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", type=int, nargs="+", default=[4638, 11247], help="TSS arch indices")
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", default=None)
    parser.add_argument("--save", type=Path, help="write every term here (.npz)")
    parser.add_argument("--against", type=Path, help="a --save file of another run to compare with")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    space = load_oracle("tss", data=args.data).space
    batch = load_batch(args.dataset, seed=args.seed, data=args.data)
    here = {f"{name}/{arch}": t for arch in args.archs for name, t in terms(space, arch, batch, args.seed).items()}
    other = dict(np.load(args.against)) if args.against else {}
    rows = []
    for key, t in here.items():
        t64 = t.astype(np.float64)
        total, abs_total = float(t64.sum()), float(np.abs(t64).sum())
        row = [key, f"{total:.9g}", f"{abs_total:.6g}", f"{abs_total / abs(total):,.0f}"]
        if key in other:
            a = other[key].astype(np.float64)
            a_total = float(a.sum())
            moved = float(np.abs(t - a).sum() / np.abs(a).sum())
            row += [f"{a_total:.9g}", f"{abs(total - a_total) / abs(a_total):.2e}",
                    f"{abs(total - a_total) / abs_total:.2e}", f"{moved:.2e}"]
        rows.append(row)
    print(f"torch {torch.__version__}, {args.dataset}, seed {args.seed}, torch threads {args.threads}")
    headers = ["proxy/arch", "sum", "sum |terms|", "ratio"]
    if other:
        headers += ["sum (against)", "rel diff of sum", "diff / sum|terms|", "terms moved (L1)"]
    print(tabulate(rows, headers=headers, tablefmt="github"))
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(args.save, **here)


if __name__ == "__main__":
    main()
