"""Multi-trial searchers, one module each; a module registers by defining ``SEARCHER = <Searcher class>``.

Modules are discovered on the first lookup (``pkgutil.iter_modules``), not at import, so importing the
package costs nothing and adding a searcher needs no edit here.
"""

from __future__ import annotations

import importlib
import pkgutil

from harness.errors import unknown_name
from harness.searchers.base import Searcher, SearchExhausted

_REGISTRY: dict[str, type[Searcher]] = {}


def _discover() -> dict[str, type[Searcher]]:
    if not _REGISTRY:
        for module in pkgutil.iter_modules(__path__):
            if module.name.startswith("_") or module.name == "base":
                continue
            cls = getattr(importlib.import_module(f"{__name__}.{module.name}"), "SEARCHER", None)
            if cls is None:
                continue
            if cls.name in _REGISTRY:
                raise RuntimeError(f"searcher name {cls.name!r} registered twice ({module.name})")
            _REGISTRY[cls.name] = cls
    return _REGISTRY


def searcher_names() -> list[str]:
    """Registered searcher names, sorted."""
    return sorted(_discover())


def get_searcher(name: str) -> type[Searcher]:
    """The searcher class registered as ``name``; ValueError listing the valid names otherwise."""
    registry = _discover()
    if name not in registry:
        raise unknown_name("searcher", name, sorted(registry))
    return registry[name]


__all__ = ["SearchExhausted", "Searcher", "get_searcher", "searcher_names"]
