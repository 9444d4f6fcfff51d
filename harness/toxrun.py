"""The command each tox env runs: the benchmark suites under that env's torch, saved in the env's own
pytest-benchmark storage and checked against the stored baselines.

Run as :data:`USAGE`; extra pytest options also come from ``$SUITE_ARGS`` (shell words, placed before the
command line's own).

First-run story: pytest-benchmark's ``--benchmark-compare-fail`` is a usage error when there is nothing to
compare with, so the timing gate (mean 25% slower than this env's previous run fails) is added only once the
storage holds a saved run. The first run just saves; every run is checked against the baselines.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

# What pytest collects: the suites package (as `python -m harness bench` does).
SUITES = "harness.suites"
USAGE = "usage: python -m harness.toxrun ENV_NAME STORAGE [PYTEST_ARGS...]"
TIMING_GATE = ("--benchmark-compare", "--benchmark-compare-fail=mean:25%")


def has_saved_runs(storage: Path) -> bool:
    """Whether pytest-benchmark saved a run there (``<storage>/<machine>/NNNN_name.json``)."""
    return any(storage.glob("*/*.json"))


def suite_command(env_name: str, storage: Path, has_saved_runs: bool, extra_args: Sequence[str] = ()) -> list[str]:
    """The pytest command line of one tox env; ``extra_args`` come last, so they can override the defaults."""
    if not env_name or any(c.isspace() or c in "/\\" for c in env_name):
        raise ValueError(f"tox env name {env_name!r} cannot name a saved run (empty, blank or a path)")
    timing = list(TIMING_GATE) if has_saved_runs else []
    return [sys.executable, "-m", "pytest", "--pyargs", SUITES, f"--benchmark-storage=file://{Path(storage).absolute()}",
            f"--benchmark-save={env_name}", "--baseline-check", *timing, *extra_args]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) < 2:
        print(USAGE, file=sys.stderr)
        return 2
    env_name, storage, *extra = argv
    storage_path = Path(storage)
    extra = shlex.split(os.environ.get("SUITE_ARGS", "")) + extra
    command = suite_command(env_name, storage_path, has_saved_runs(storage_path), extra)
    print("+ " + shlex.join(command), flush=True)
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
