"""Saved suite runs: the pytest-benchmark JSON files (``<storage>/<machine>/NNNN_name.json``) the suites
write and the gate, the report and the comparison read. Finding, choosing and reading them lives here only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def latest_run(folder: str | Path) -> Path:
    """The newest saved run under a pytest-benchmark storage folder (``NNNN_name.json``: highest NNNN)."""
    found = sorted(Path(folder).rglob("*.json"), key=lambda p: (p.name, str(p)))
    if not found:
        raise FileNotFoundError(f"no saved runs (*.json) under {folder}")
    return found[-1]


def run_path(path: str | Path) -> Path:
    """A run file as given, or the newest run of a storage folder."""
    path = Path(path)
    return latest_run(path) if path.is_dir() else path


def load_run(path: str | Path) -> dict[str, Any]:
    """A saved pytest-benchmark run: ``benchmarks``, ``machine_info``, ... A folder, a missing file or a file
    that is not such a run is a ValueError / FileNotFoundError naming it."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder: give one saved run (a pytest-benchmark JSON file), e.g. "
                         f"{latest_run(path)}")
    if not path.is_file():
        raise FileNotFoundError(f"saved run {path} not found")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"saved run {path} is not a pytest-benchmark JSON file: {exc}") from None
    if not isinstance(data, dict) or type(data.get("benchmarks")) is not list:
        raise ValueError(f"saved run {path} is not a pytest-benchmark JSON file (no 'benchmarks' list)")
    return data
