"""Write a Markdown report with figures from saved benchmark runs (pytest-benchmark JSON).

Give the run files (``.benchmarks/torch-<version>/<machine>/NNNN_name.json``), or a storage folder to take its newest run;
several runs are merged (e.g. a CPU and a GPU proxy run). The page is OUT/README.md, the figures sit beside it.

Examples:
  python -m harness report .benchmarks/torch-2.13.0+cpu --out reports/latest
  python -m harness report cpu-run.json gpu-run.json --out reports/both
"""

from __future__ import annotations

import argparse

from harness.plugins import load_plugins
from harness.report import write_report
from harness.runs import run_path
from harness.suite_config import parse_plugins


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="+", metavar="RUN.json",
                        help="saved run files, or folders (their newest run is used)")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for README.md and the figures")
    parser.add_argument("--plugins", default=(), metavar="MODULES", type=parse_plugins,
                        help="modules / .py files of your own proxies and searchers, so the report knows them")


def run(args: argparse.Namespace) -> int:
    load_plugins(args.plugins)
    runs = [run_path(p) for p in args.runs]
    page = write_report(runs, args.out, data=args.data)
    print(f"wrote {page} ({len(list(page.parent.glob('*.png')))} figures) from {', '.join(map(str, runs))}")
    return 0
