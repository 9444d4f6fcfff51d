"""Check: do our proxies rank archs like NAS-Bench-Suite-Zero's published scores? Spearman correlation
between our score and the reference score per proxy, over the archs of ``reference-scores-725.csv.gz``.

    python benchmarks/reference_check.py [--dataset all] [--archs 725] [--protocol suitezero] [--store PATH]

The reference networks use BatchNorm without affine parameters or running statistics and a random augmented
batch of 32 per arch: the ``suitezero`` protocol (the default here). ``--protocol nats`` scores NATS-Bench's own
networks instead (affine BN, one fixed batch), to see how much of the agreement the protocol accounts for.
Also printed: each side's Spearman correlation with the reference file's validation accuracy. With
``--store``, scores are read from and written to a result store (a sweep with ``--archs reference
--protocol suitezero`` fills it on several workers), so an interrupted check resumes. ``--noise-seed N`` adds our
own seed-to-seed agreement, rho(ours seed S, ours seed N) (another image batch and init), for the proxies whose
seed-N scores the store holds (``sweep --archs reference --protocol suitezero --seed N --proxies ...``): the ceiling
that agreement with an implementation using other images and inits can be expected to reach.
"""

from __future__ import annotations

import argparse
import os
import time
from contextlib import nullcontext

import numpy as np
import torch
from scipy.stats import spearmanr
from tabulate import tabulate

from harness.bench import DATASETS, check_dataset, load_oracle
from harness.bench.reference import PROXY_COLUMNS, load_reference_scores
from harness.images import load_batch
from harness.protocol import Protocol, get_protocol
from harness.scoring import score_batch, stored_scores
from harness.store import ResultStore

PROXIES = list(PROXY_COLUMNS.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="all", help="a dataset name or 'all'")
    parser.add_argument("--archs", type=int, default=None, help="only the first N archs of each dataset")
    parser.add_argument("--protocol", default="suitezero", help="scoring protocol (harness.protocol)")
    parser.add_argument("--batch", type=int, default=None, help="default: the protocol's")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--store", default=None, help="result store to read and fill")
    parser.add_argument("--noise-seed", type=int, default=None,
                        help="also show rho(ours, ours with this seed) where the store holds those scores")
    parser.add_argument("--data", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    datasets = list(DATASETS) if args.dataset == "all" else [check_dataset(args.dataset)]
    reference = load_reference_scores(args.data)
    space = load_oracle("tss", data=args.data).space
    protocol = get_protocol(args.protocol)
    with ResultStore(args.store) if args.store else nullcontext() as store:
        for dataset in datasets:
            ref = reference[reference["dataset"] == dataset].head(args.archs)
            batch = load_batch(dataset, args.batch, seed=args.seed, data=args.data, protocol=protocol)
            start = time.perf_counter()
            ours = score_batch(space, [int(i) for i in ref["index"]], PROXIES, dataset, batch, args.seed,
                               store=store)
            seconds = time.perf_counter() - start
            acc = ref["val_accuracy"].to_numpy()
            other = _stored_scores(store, space, [int(i) for i in ref["index"]], dataset, len(batch), protocol,
                                   args.noise_seed, args.data)
            rows = []
            for p in PROXIES:
                theirs = ref[p].to_numpy(dtype=np.float64)
                noise = [f"{_rho(ours[p], other[p]):.3f}" if p in other else "-"] if args.noise_seed is not None else []
                rows.append([p, f"{_rho(ours[p], theirs):.3f}", *noise, f"{_rho(ours[p], acc):.3f}",
                             f"{_rho(theirs, acc):.3f}", int(np.sum(~np.isfinite(ours[p]))),
                             int(np.sum(~np.isfinite(theirs)))])
            print(f"\n{len(ref)} archs, {dataset}, protocol {protocol.name}, batch {len(batch)} ({batch.source}); {seconds:.0f} s "
                  f"(store: {args.store or 'none'}), load average {os.getloadavg()[0]:.1f}")
            noise_header = [] if args.noise_seed is None else [f"rho(ours, ours seed {args.noise_seed})"]
            print(tabulate(rows, headers=["proxy", "rho(ours, reference)", *noise_header, "rho(ours, val acc)",
                                          "rho(reference, val acc)", "non-finite (ours)",
                                          "non-finite (reference)"], tablefmt="github"))


def _stored_scores(store: ResultStore | None, space, archs: list[int], dataset: str, batch_size: int,
                   protocol: Protocol, seed: int | None, data: str | None) -> dict[str, np.ndarray]:
    """Our scores of ``archs`` under another seed, for each proxy the store holds completely."""
    if store is None or seed is None:
        return {}
    return stored_scores(store, space, archs, PROXIES, dataset,
                         load_batch(dataset, batch_size, seed, data, protocol=protocol), seed)


def _rho(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rho over the archs where both sides are finite (rank_metrics' rule: -inf is not a rank)."""
    keep = np.isfinite(a) & np.isfinite(b)
    return float(spearmanr(a[keep], b[keep]).statistic)


if __name__ == "__main__":
    main()
