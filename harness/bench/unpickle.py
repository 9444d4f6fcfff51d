"""A restricted unpickler for NATS-Bench's bz2 pickles: only the globals those files need are resolved.

Any other global (``os.system``, ``builtins.eval``, ...) raises ``pickle.UnpicklingError`` before it is
imported or called, so a tampered benchmark file cannot run code.
"""

from __future__ import annotations

import bz2
import collections
import importlib
import io
import os
import pickle
from typing import Any

from harness.errors import DataNotFoundError, ForbiddenGlobalError

# (module, name) as written in the files -> where that object lives now (numpy 2 moved numpy.core).
ALLOWED_GLOBALS: dict[tuple[str, str], tuple[str, str]] = {
    ("collections", "OrderedDict"): ("collections", "OrderedDict"),
    ("numpy", "dtype"): ("numpy", "dtype"),
    ("numpy.core.multiarray", "scalar"): ("numpy._core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"): ("numpy._core.multiarray", "scalar"),
}


class RestrictedUnpickler(pickle.Unpickler):
    """Resolves only ``ALLOWED_GLOBALS``."""

    def find_class(self, module: str, name: str) -> Any:
        target = ALLOWED_GLOBALS.get((module, name))
        if target is None:
            raise ForbiddenGlobalError(
                f"global {module}.{name} is not allowed in a NATS-Bench file (allowed: "
                + ", ".join(f"{m}.{n}" for m, n in ALLOWED_GLOBALS)
                + ")"
            )
        if target == ("collections", "OrderedDict"):
            return collections.OrderedDict
        return getattr(importlib.import_module(target[0]), target[1])


def load_bz2_pickle(path: str | os.PathLike[str]) -> Any:
    """Load a ``.pickle.pbz2`` file through the restricted unpickler, with clear errors."""
    try:
        with bz2.open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError as exc:
        raise DataNotFoundError(f"NATS-Bench file {path} not found") from exc
    except (OSError, EOFError) as exc:
        raise ValueError(f"NATS-Bench file {path} is not a readable bz2 file: {exc}") from exc
    try:
        return RestrictedUnpickler(io.BytesIO(data)).load()
    except ForbiddenGlobalError as exc:
        raise ForbiddenGlobalError(f"NATS-Bench file {path}: {exc}") from None
    except Exception as exc:  # truncated or foreign content
        raise ValueError(f"NATS-Bench file {path} is corrupt: {type(exc).__name__}: {exc}") from exc


def _nats_pickle_load(file_path: str, ext: str = ".pbz2") -> Any:
    """Drop-in for ``nats_bench.api_utils.pickle_load`` that goes through the restricted unpickler."""
    path = str(file_path)
    if not os.path.isfile(path):
        path += ext
    return load_bz2_pickle(path)


def install_into_nats_bench() -> None:
    """Make the ``nats_bench`` API load every file through the restricted unpickler.

    nats_bench calls ``pickle.load`` directly, so its three module-level references are replaced.
    """
    from nats_bench import api_size, api_topology, api_utils

    for module in (api_utils, api_topology, api_size):
        module.pickle_load = _nats_pickle_load
