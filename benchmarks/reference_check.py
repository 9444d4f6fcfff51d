"""Check: do our proxies rank archs like NAS-Bench-Suite-Zero's published scores? Spearman correlation
between our score and the reference score per proxy, over archs of ``reference-scores-725.csv.gz``.

    python benchmarks/reference_check.py [--archs 725] [--dataset cifar10] [--batch 32] [--data DIR]

The reference networks use BatchNorm without affine parameters or running statistics and a batch of 32;
ours are NATS-Bench's own networks (affine BN), so a proxy that depends on BN details can rank differently.
Also printed: each side's Spearman correlation with the reference file's validation accuracy.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr
from tabulate import tabulate
from tqdm import tqdm

from harness.bench import load_oracle
from harness.config import data_file
from harness.images import load_batch
from harness.scoring import score_all

REFERENCE = "nats-bench/reference-scores-725.csv.gz"
# reference column -> our proxy
COLUMNS = {"flops": "flops", "params": "params", "synflow": "synflow", "grasp": "grasp", "fisher": "fisher",
           "grad_norm": "grad_norm", "l2_norm": "l2_norm", "plain": "plain", "nwot": "nwot",
           "epe_nas": "epe_nas", "jacov": "jacob_cov", "snip": "snip"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", type=int, default=725, help="first N archs of the reference file")
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ref = pd.read_csv(data_file(REFERENCE, args.data))
    ref = ref[ref["dataset"] == args.dataset].head(args.archs)
    if ref.empty:
        raise SystemExit(f"no reference rows for dataset {args.dataset!r}")
    space = load_oracle("tss", data=args.data).space
    batch = load_batch(args.dataset, args.batch, seed=args.seed, data=args.data)
    ours = {p: [] for p in COLUMNS.values()}
    start = time.perf_counter()
    for arch in tqdm(ref["arch"], desc="archs"):
        for p, v in score_all(space, arch, list(ours), args.dataset, batch, args.seed).items():
            ours[p].append(v)
    seconds = time.perf_counter() - start
    acc = ref["val_accuracy"].to_numpy()
    rows = []
    for col, p in COLUMNS.items():
        mine, theirs = np.asarray(ours[p]), ref[col].to_numpy(dtype=np.float64)
        rows.append([p, f"{_rho(mine, theirs):.3f}", f"{_rho(mine, acc):.3f}", f"{_rho(theirs, acc):.3f}",
                     int(np.sum(~np.isfinite(mine)))])
    print(f"{len(ref)} archs, {args.dataset}, batch {args.batch} ({batch.source}); "
          f"{seconds / len(ref):.2f} s/arch, load average {os.getloadavg()[0]:.1f}")
    print(tabulate(rows, headers=["proxy", "rho(ours, reference)", "rho(ours, val acc)",
                                  "rho(reference, val acc)", "non-finite (ours)"], tablefmt="github"))


def _rho(a: np.ndarray, b: np.ndarray) -> float:
    return float(spearmanr(a, b, nan_policy="omit").statistic)


if __name__ == "__main__":
    main()
