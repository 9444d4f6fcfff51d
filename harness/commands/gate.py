"""Compare a saved suite run with the stored baselines; exit 1 on a regression (and, with --strict, on a case
measured at another scale than its baseline).

The run is a pytest-benchmark JSON file (``pytest suites --benchmark-save=NAME`` writes
``.benchmarks/torch-<version>/<machine>/NNNN_NAME.json``). ``--update`` rewrites the baselines of the cases in
the run instead of checking them (a deliberate act: review the diff before committing it).

Examples:
  python -m harness gate .benchmarks/torch-2.13.0+cpu/Linux-CPython-3.11-64bit/0001_default.json --strict
  python -m harness gate RUN.json --baselines my-baselines -v
"""

from __future__ import annotations

import argparse
import datetime
from importlib.metadata import version
from pathlib import Path

from harness import baselines
from harness.runs import load_run


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", type=Path, help="saved pytest-benchmark run (JSON)")
    parser.add_argument("--baselines", type=Path, default=Path("baselines"),
                        help="folder of baseline JSON files (default: %(default)s)")
    parser.add_argument("--update", action="store_true", help="rewrite the baselines from this run")
    parser.add_argument("--strict", action="store_true",
                        help="also fail on incomparable cases (another arch count, runs, batch size, seeds or "
                             "protocol than the baseline); CI runs the gate this way")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="name each baseline case the run did not measure (default: a count per kind)")


def run(args: argparse.Namespace) -> int:
    saved = load_run(args.run)
    try:
        current = baselines.summarise(saved["benchmarks"])
    except ValueError as exc:
        raise ValueError(f"run {args.run}: {exc}") from None
    if not current:
        raise ValueError(f"{args.run} holds no suite benchmarks (no extra_info kind 'proxy' or 'searcher')")
    if args.update:
        date = str(saved.get("datetime") or datetime.date.today().isoformat())[:10]
        torch_version = saved.get("machine_info", {}).get("torch_version") or version("torch")
        written = baselines.write_baselines(args.baselines, current, torch_version, date)
        print(f"wrote {len(written)} baseline(s) to {args.baselines}")
        return 0
    comparisons = baselines.compare(current, baselines.load_baselines(args.baselines))
    run_torch = saved.get("machine_info", {}).get("torch_version")
    note = baselines.torch_version_note(run_torch, baselines.stored_torch_versions(args.baselines))
    if note:
        print(note)
    print(baselines.format_report(comparisons, verbose=args.verbose, strict=args.strict))
    return 1 if baselines.failures(comparisons, strict=args.strict) else 0
