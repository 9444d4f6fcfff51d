"""Show, verify or convert the benchmark data (the harness's dataset preparation step).

Without flags: which source is active and what it holds. --verify: every cell a number in its range, every
arch string the one its index decodes to, every column complete, the published optima, and (table source)
the image samples and reference scores readable; each problem named with its file, column and row.
--convert TORCH_HOME --out DIR: turn official NATS-Bench folders into the compact tables.

Examples:
  python -m harness data --verify
  python -m harness data --source nats
  python -m harness data --convert ~/.torch --out my-data
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
from tabulate import tabulate

from harness.bench import DATASETS, NatsBenchOracle, TableOracle
from harness.bench.convert import table_from_nats
from harness.bench.natsbench import FOLDERS
from harness.bench.reference import load_reference_scores
from harness.config import DATA_ENV, data_dir
from harness.images import load_batch
from harness.spaces import SPACES

# Published optima of NATS-Bench TSS test accuracy after 200 epochs (Dong et al., TPAMI 2021, Table 4),
# used to verify a data source, never as results.


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", choices=("table", "nats"), default="table",
                        help="table: compact tables under the data root; nats: official files under $TORCH_HOME")
    parser.add_argument("--verify", action="store_true", help="check completeness, the published optima and the other data files")
    parser.add_argument("--convert", metavar="TORCH_HOME", help="folder holding the official NATS-Bench folders")
    parser.add_argument("--out", metavar="DIR", help="where --convert writes nats-bench/{tss,sss}.csv.gz")


def _load(source: str, space: str, data):
    if source == "table":
        return TableOracle.load(space, data)
    return NatsBenchOracle(space, os.environ.get("TORCH_HOME") if data is None else data)


def summary_rows(oracle) -> list[list]:
    """One row per (dataset, metric): archs with a value and the best one."""
    rows = []
    for d in DATASETS:
        for metric, epochs in oracle.space.metrics_for(d):
            acc = oracle.accuracies(d, metric, epochs)
            known = int(np.isfinite(acc).sum())
            best = f"{np.nanmax(acc):.4f}" if known else "-"
            rows.append([oracle.space_name, d, f"{metric}@{epochs}", known, best])
    return rows


def verify(oracle) -> list[str]:
    """Problems found; empty when the source is complete and matches the published optima."""
    problems = []
    space, size = oracle.space_name, oracle.space.size
    for d in DATASETS:
        for metric, epochs in oracle.space.metrics_for(d):
            acc = oracle.accuracies(d, metric, epochs)
            if np.isfinite(acc).sum() != size:
                problems.append(f"{space} {d} {metric}@{epochs}: {int(np.isfinite(acc).sum())} of {size} archs")
        published = oracle.space.published_optima.get(d)
        if published is not None and np.isfinite(oracle.accuracies(d, *oracle.space.reported)).any():
            _, best = oracle.best(d, *oracle.space.reported)
            if abs(best - published) > 0.01:
                problems.append(f"{space} {d}: optimum {best:.4f} differs from the published {published}")
    if isinstance(oracle, TableOracle):  # the time and cost columns too (the accuracies are counted above)
        columns = dict(oracle.columns)
        for d in DATASETS if oracle.space.has_times else ():
            try:
                columns[f"{d}/valid_s_per_epoch"] = oracle.valid_times(d)[0]
            except (ValueError, OSError) as exc:
                problems.append(f"{space} {d} validation times: {exc}")
        for name, values in columns.items():
            known = int(np.isfinite(values).sum())
            if "_acc_" not in name and known != size:
                problems.append(f"{space} {name}: {known} of {size} archs")
    return problems


def verify_files(data) -> list[str]:
    """Problems reading the image samples every proxy needs and the reference scores, one per file."""
    problems = []
    checks = [(f"images for {d}", lambda d=d: load_batch(d, 64, seed=0, data=data)) for d in DATASETS]
    for what, check in [*checks, ("reference scores", lambda: load_reference_scores(data))]:
        try:
            check()
        except (ValueError, OSError) as exc:
            problems.append(f"{what}: {exc}")
    return problems


def run(args: argparse.Namespace) -> int:
    if args.convert:
        if not args.out:
            raise ValueError("--convert needs --out DIR")
        out = Path(args.out) / "nats-bench"
        present = [space for space, folder in FOLDERS.items()
                   if (Path(args.convert) / folder / "meta.pickle.pbz2").is_file()]
        if not present:
            raise FileNotFoundError(f"--convert {args.convert}: no official NATS-Bench folder there (expected "
                                    f"{' or '.join(FOLDERS.values())}, each with meta.pickle.pbz2); nothing written")
        out.mkdir(parents=True, exist_ok=True)
        for space, folder in FOLDERS.items():
            if space not in present:
                print(f"skip {space}: {Path(args.convert) / folder} not found")
                continue
            frame = table_from_nats(NatsBenchOracle(space, args.convert))
            target = out / f"{space}.csv.gz"
            frame.to_csv(target, index=False)
            found = int(frame.iloc[:, 2:].notna().any(axis=1).sum())  # archs whose record was read
            missing = f"; the other {len(frame) - found} have no record file and are left empty" \
                if found < len(frame) else ""
            print(f"wrote {target}: {len(frame)} rows, {found} archs with a record{missing}")
        print(f"point {DATA_ENV} at {Path(args.out).resolve()} to use them; the proxies also read images/ "
              f"there (copy your data root's images/ folder into it, or give suites and sweeps --images-dir)")
        return 0
    origin = (args.data or os.environ.get("TORCH_HOME", "~/.torch (TORCH_HOME unset)")) if args.source == "nats" \
        else str(data_dir(args.data))
    print(f"source: {args.source} ({origin})")
    rows, problems = [], []
    for space in SPACES:
        try:
            oracle = _load(args.source, space, args.data)
        except ValueError as exc:  # a bad cell or arch string: every one is a problem of its own
            if not args.verify:
                raise
            problems += str(exc).splitlines()
            continue
        rows += summary_rows(oracle)
        if args.verify:
            problems += verify(oracle)
    if args.verify and args.source == "table":
        problems += verify_files(args.data)
    print(tabulate(rows, headers=["space", "dataset", "metric", "archs", "best"], tablefmt="github"))
    if args.verify:
        for p in problems:
            print(f"PROBLEM: {p}")
        print("verify: OK" if not problems else f"verify: {len(problems)} problem(s)")
        return 1 if problems else 0
    return 0
