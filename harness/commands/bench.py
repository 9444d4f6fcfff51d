"""Run the benchmark suites: exactly `pytest --pyargs harness.suites ARGS...`, from any folder.

Every pytest, pytest-benchmark and suite option passes through, e.g.
  python -m harness bench --proxies myproxy,synflow --searchers rea --benchmark-save=mine
  python -m harness bench --plugins ./my_proxy.py --proxies my_proxy,synflow --baseline-check --baselines my-baselines
"""

from __future__ import annotations

import argparse

SUITES = "harness.suites"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER, metavar="ARGS",
                        help="pytest and suite options (all of them: pytest --pyargs harness.suites --help)")


def pytest_command(args: argparse.Namespace) -> list[str]:
    """The pytest arguments this command runs."""
    data = ["--data", args.data] if args.data else []
    return ["--pyargs", SUITES, *data, *args.pytest_args]


def run(args: argparse.Namespace) -> int:
    import pytest

    return int(pytest.main(pytest_command(args)))
