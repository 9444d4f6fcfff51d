"""Score proxies over a whole search space into a result store, resumably, on local processes or Dask.

Reads the store first and computes only the (arch, proxy) scores it lacks, one arch per unit of work, on one
image batch per dataset; results are written by this process as they arrive, so a sweep killed at any moment
and started again finishes with every score computed once. --scheduler tcp://HOST:PORT sends the work to a
Dask distributed cluster (its workers need this harness and the same torch version).

Examples:
  python -m harness sweep --dataset cifar10 --proxies all --archs sample:1000 --store out/scores.sqlite
  python -m harness sweep --dataset all --proxies synflow,nwot --archs 0-999 --store out/s.sqlite --workers 2
  python -m harness sweep --protocol zc2021 --proxies synflow,snip --archs sample:3000 --store out/zc.sqlite
  python -m harness sweep --plugins ./my_proxy.py --proxies my_proxy --archs sample:200 --store out/mine.sqlite
"""

from __future__ import annotations

import argparse
import sys

from harness.spaces import SPACES
from harness.suite_config import (
    parse_data_dir,
    parse_plugins,
    parse_protocol,
    parse_scheduler,
    parse_store_path,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--space", choices=SPACES, default="tss")
    parser.add_argument("--dataset", default="cifar10",
                        help="cifar10, cifar100, ImageNet16-120, a comma-separated list of them, or 'all'")
    parser.add_argument("--proxies", default="all", help="'all' or a comma-separated list of proxy names")
    parser.add_argument("--archs", default="all",
                        help="'all', N (indices 0..N-1), a-b (indices a..b, both included), sample:N (the suites' "
                             "fixed seeded sample) or 'reference' (the 725 TSS archs of the reference scores)")
    parser.add_argument("--store", required=True, metavar="PATH", type=parse_store_path,
                        help="SQLite result store (created if missing, in a folder that exists)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the image batch and of network init")
    parser.add_argument("--protocol", default="nats", type=parse_protocol, metavar="NAME",
                        help="scoring protocol: nats (default), zc2021, suitezero (docs/protocols.md)")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the protocol's (64; suitezero 32)")
    parser.add_argument("--images-dir", default=None, metavar="PATH", type=parse_data_dir,
                        help="your own image files instead of the data root's samples: cifar-10-batches-py/, "
                             "cifar-100-python/ (torchvision layout), train_data_batch_1 (ImageNet16-120)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--workers", type=int, default=None,
                        help="local worker processes (default: one per core); ignored with --scheduler")
    parser.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT", type=parse_scheduler,
                        help="address of a Dask distributed scheduler to run the work on")
    parser.add_argument("--plugins", default=(), metavar="MODULES", type=parse_plugins,
                        help="your own proxies: comma list of module names or .py files (workers load them too)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _datasets(spec: str) -> list[str]:
    from harness.bench import DATASETS, check_dataset

    if spec.strip() == "all":
        return list(DATASETS)
    names = [check_dataset(d.strip()) for d in spec.split(",") if d.strip()]
    if not names:
        raise ValueError(f"--dataset names no dataset; valid: {', '.join(DATASETS)} or 'all'")
    return names


def run(args: argparse.Namespace) -> int:
    # imported here: `python -m harness --help` loads every command module and should stay quick
    from harness.bench import load_oracle
    from harness.images import load_batch
    from harness.plugins import load_plugins
    from harness.protocol import get_protocol
    from harness.store import ResultStore
    from harness.sweep import Sweep, local_workers, parse_archs, parse_proxies, run_sweep

    # every argument checked, and every batch loaded, before the store is created or any work starts
    if args.batch_size is not None and args.batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.seed < 0:
        raise ValueError(f"--seed must be a non-negative integer, got {args.seed}")
    if not args.scheduler:  # local processes (open_executor reads an empty address the same way)
        local_workers(args.workers)
    load_plugins(args.plugins)
    protocol = get_protocol(args.protocol)
    protocol.check_space(args.space)
    space = load_oracle(args.space, data=args.data).space
    archs = tuple(parse_archs(args.archs, space, args.data))
    proxies = parse_proxies(args.proxies)
    datasets = _datasets(args.dataset)
    sweeps = [(Sweep(space, d, proxies, archs, seed=args.seed, device=args.device, plugins=args.plugins),
               load_batch(d, args.batch_size, args.seed, args.data, args.images_dir, protocol)) for d in datasets]
    with ResultStore(args.store) as store:
        for sweep, batch in sweeps:
            try:
                report = run_sweep(store, sweep, batch, args.workers, args.scheduler,
                                   progress=not args.no_progress)
            except KeyboardInterrupt:
                print(f"interrupted: {store.count()} scores are in {store.path}; run the same command "
                      "again to resume", file=sys.stderr)
                return 130
            noun = "proxy" if len(proxies) == 1 else "proxies"
            print(f"{args.space} {sweep.dataset} ({len(proxies)} {noun}, images {batch.source}): "
                  f"{report.summary()}", flush=True)
        print(f"store {store.path}: {store.count()} scores", flush=True)
    return 0
