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
    data = read_json(path, "a pytest-benchmark JSON file")
    if not isinstance(data, dict) or type(data.get("benchmarks")) is not list:
        raise ValueError(f"saved run {path} is not a pytest-benchmark JSON file (no 'benchmarks' list)")
    bad = next((i for i, b in enumerate(data["benchmarks"]) if not isinstance(b, dict)), None)
    if bad is not None:
        raise ValueError(f"saved run {path}: benchmarks[{bad}] is {data['benchmarks'][bad]!r}, not an object")
    return data


def read_json(path: Path, what: str) -> Any:
    """A JSON document, or a ValueError naming the file and what it should have been."""
    raw = path.read_bytes()
    if raw.startswith(b"SQLite format 3\x00"):
        raise ValueError(f"{path} is an SQLite file (a result store?), not {what}")
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not {what}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not {what}: {exc}") from None
