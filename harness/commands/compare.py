"""Put two saved suite runs side by side (e.g. one torch version against another): metrics and timings,
proxy score agreement, searcher trajectory agreement.

Each run is a pytest-benchmark JSON file (``tox`` saves one per env under ``.benchmarks/<env>/``). Run A plays
the baseline: a B metric beyond noise is one whose change exceeds the gate's tolerance (minimum effect or the
combined CIs). Exit 0 whatever the differences: this reports, ``harness gate`` gates.

Examples:
  python -m harness compare .benchmarks/torch2130/*/0001_torch2130.json .benchmarks/torch231/*/0001_torch231.json
  python -m harness compare before.json after.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness import compare
from harness.runs import load_run


def _rtol(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"--rtol must be in [0, 1), got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_a", type=Path, help="saved pytest-benchmark run (JSON), the reference")
    parser.add_argument("run_b", type=Path, help="saved pytest-benchmark run (JSON) compared with A")
    parser.add_argument("--rtol", type=_rtol, default=compare.RTOL,
                        help="relative tolerance of 'close' proxy scores (default: %(default)g)")
    parser.add_argument("--all", action="store_true", help="list every metric, not only those beyond noise")


def run(args: argparse.Namespace) -> int:
    run_a, run_b = load_run(args.run_a), load_run(args.run_b)
    print(f"A: {args.run_a}  {compare.run_label(run_a)}\nB: {args.run_b}  {compare.run_label(run_b)}\n")
    print(compare.format_metrics(compare.compare_runs(run_a, run_b), show_all=args.all))
    scores = compare.score_agreements(run_a, run_b, args.rtol)
    if scores:
        print("\nproxy scores, A vs B")
        print(compare.format_scores(scores, args.rtol))
    trajectories = compare.trajectory_agreements(run_a, run_b)
    if trajectories:
        print("\nsearcher trajectories, A vs B")
        print(compare.format_trajectories(trajectories))
    return 0
