"""Multi-trial searchers, one module each, defining ``SEARCHER = <Searcher subclass>``; registered by name in
one registry (``harness.registry``), built-in or from a plugin. Importing the package imports no searcher."""

from __future__ import annotations

from harness.registry import Registry
from harness.searchers._base import Searcher, SearchExhausted


def _check(part: object) -> type[Searcher]:
    if not (isinstance(part, type) and issubclass(part, Searcher)):
        raise TypeError(f"a searcher is a subclass of harness.searchers.Searcher, got {part!r}")
    if not isinstance(getattr(part, "name", None), str) or not part.name:
        raise ValueError(f"searcher class {part.__name__} has no name (class attribute name = '...')")
    return part


REGISTRY: Registry[type[Searcher]] = Registry("searcher", __name__, "SEARCHER", _check)


def searcher_names() -> list[str]:
    """Registered searcher names (built in and plugins), sorted."""
    return REGISTRY.names()


def get_searcher(name: str) -> type[Searcher]:
    """The searcher class registered as ``name``; ValueError listing the valid names otherwise."""
    return REGISTRY.get(name)


__all__ = ["REGISTRY", "SearchExhausted", "Searcher", "get_searcher", "searcher_names"]
