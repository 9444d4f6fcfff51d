"""Compare a saved suite run with the stored baselines; exit 1 on a regression.

The run is a pytest-benchmark JSON file (``pytest suites --benchmark-save=NAME`` writes
``.benchmarks/torch-<version>/<machine>/NNNN_NAME.json``). ``--update`` rewrites the baselines of the cases in
the run instead of checking them (a deliberate act: review the diff before committing it).
"""

from __future__ import annotations

import argparse
import datetime
from importlib.metadata import version
from pathlib import Path

from harness import baselines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", type=Path, help="saved pytest-benchmark run (JSON)")
    parser.add_argument("--baselines", type=Path, default=Path("baselines"),
                        help="folder of baseline JSON files (default: %(default)s)")
    parser.add_argument("--update", action="store_true", help="rewrite the baselines from this run")


def run(args: argparse.Namespace) -> int:
    saved = baselines.load_run(args.run)
    current = baselines.summarise(saved["benchmarks"])
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
    print(baselines.format_report(comparisons))
    return 1 if baselines.regressions(comparisons) else 0
