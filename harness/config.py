"""Where the benchmark data lives: one setting, read here and nowhere else.

The data root is the environment variable ``HARNESS_DATA_DIR`` (the pytest option ``--data`` and the CLI flag
``--data`` override it). It holds ``nats-bench/`` (ground-truth tables) and ``images/`` (image samples).
"""

from __future__ import annotations

import os
from pathlib import Path

from harness.errors import DataNotFoundError

DATA_ENV = "HARNESS_DATA_DIR"


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The data root: ``override`` if given, else ``$HARNESS_DATA_DIR``; it must exist."""
    raw = override if override is not None else os.environ.get(DATA_ENV)
    if not raw:
        raise DataNotFoundError(
            f"no benchmark data folder configured: set {DATA_ENV} (or pass --data) to the folder that holds "
            "nats-bench/ and images/"
        )
    root = Path(raw).expanduser().resolve()  # absolute: worker processes and pytester runs change the cwd
    if not root.is_dir():
        raise DataNotFoundError(f"benchmark data folder {root} (from {DATA_ENV} / --data) does not exist")
    return root


def data_file(relative: str, override: str | os.PathLike[str] | None = None) -> Path:
    """A file under the data root, with an error naming the setting when it is missing."""
    path = data_dir(override) / relative
    if not path.is_file():
        raise DataNotFoundError(
            f"benchmark data file {relative} not found under {path.parent} "
            f"(data root from {DATA_ENV} / --data)"
        )
    return path
