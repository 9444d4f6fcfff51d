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
                        help="pytest and suite options, passed on as they are (all of them: "
                             "pytest --pyargs harness.suites --help)")


def pytest_command(args: list[str]) -> list[str]:
    """The pytest arguments ``python -m harness bench ARGS`` runs."""
    return ["--pyargs", SUITES, *args]


def run(args: argparse.Namespace) -> int:
    return main([*(["--data", args.data] if args.data else []), *args.pytest_args])


def main(argv: list[str]) -> int:
    """Run the suites with ``argv`` passed to pytest verbatim (options such as -q or -p included)."""
    import pytest

    return int(pytest.main(pytest_command(argv)))
