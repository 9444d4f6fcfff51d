"""One registry for every kind of part (proxies, searchers), with the same rules and errors for each.

A part comes from one of three sources, and every name is registered once:

- **built in**: a module ``harness/<kind package>/<name>.py`` defining the part's attribute (``PROXY``,
  ``SEARCHER``); modules whose names start with ``_`` are helpers. The module name is the part's name with
  ``-`` written as ``_``.
- **entry points**: group ``nasbench_harness.proxies`` / ``nasbench_harness.searchers`` of an installed
  distribution; the entry point's name is the part's name, and it loads the part or a module defining it.
- **plugin modules** named at run time (``--plugins``; :func:`harness.plugins.load_plugins`).

A name registered twice is an error naming both sources. An entry point that fails to import is skipped with
a warning naming its distribution, unless that very name is asked for: then the failure is the error.
Discovery is lazy (first lookup), so importing a kind's package imports none of its parts.
"""

from __future__ import annotations

import importlib
import pkgutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Generic, TypeVar

import harness
from harness.errors import unknown_name

T = TypeVar("T")
ENTRY_POINT_PREFIX = "nasbench_harness."


class RegistryError(ValueError):
    """A part that cannot be registered (duplicate, name mismatch, module without its part, bad type)."""


class PluginWarning(UserWarning):
    """An installed plugin could not be loaded and was skipped."""


@dataclass(frozen=True)
class Origin:
    """Where a registered part comes from; ``version`` is part of every stored score's key."""

    source: str  # "harness.proxies.synflow", "entry point myproxy = mypkg:P (my-proxy 0.1 ...)", ...
    version: str  # of the code computing the part: harness.__version__, plus the plugin's version for a plugin


class Registry(Generic[T]):
    """The parts of one kind: built-in modules of ``package``, entry points of ``group``, plugin modules."""

    def __init__(self, kind: str, package: str, attribute: str, check: Callable[[object], T]) -> None:
        self.kind, self.package, self.attribute, self._check = kind, package, attribute, check
        self.group = ENTRY_POINT_PREFIX + ("proxies" if kind == "proxy" else kind + "s")
        self._parts: dict[str, T] = {}
        self._origins: dict[str, Origin] = {}
        self._broken: dict[str, str] = {}  # entry-point name -> why it failed to load
        self._discovered = False

    # -- lookups -------------------------------------------------------------------------------------------
    def names(self) -> list[str]:
        """Every registered name, sorted."""
        self._discover()
        return sorted(self._parts)

    def get(self, name: str) -> T:
        """The part registered as ``name``; ValueError listing the valid names (or why it failed to load)."""
        self._discover()
        if name in self._parts:
            return self._parts[name]
        if name in self._broken:
            raise RegistryError(self._broken[name])
        raise unknown_name(self.kind, name, sorted(self._parts))

    def origin(self, name: str) -> Origin:
        self.get(name)
        return self._origins[name]

    # -- registration --------------------------------------------------------------------------------------
    def register(self, part: object, origin: Origin, expected_name: str | None = None) -> T:
        """Add ``part`` (checked by the kind's ``check``); ``expected_name`` is the name its source gives it."""
        self._discover()
        return self._add(part, origin, expected_name)

    def register_module(self, module: ModuleType, origin: Origin) -> list[T]:
        """Every part a plugin module defines (``PROXY`` or ``PROXIES``; ``SEARCHER`` or ``SEARCHERS``)."""
        self._discover()
        return [self._add(p, origin) for p in parts_of(module, self.attribute)]

    def _add(self, part: object, origin: Origin, expected_name: str | None = None) -> T:
        try:
            checked = self._check(part)
        except (TypeError, ValueError) as exc:
            raise RegistryError(f"{origin.source}: {exc}") from None
        name = checked.name  # type: ignore[attr-defined]
        if expected_name is not None and expected_name != name:
            raise RegistryError(f"{origin.source} is named {expected_name!r} but defines the {self.kind} "
                                f"{name!r}: the two names must match")
        if name in self._parts:
            if self._origins[name].source == origin.source:
                return self._parts[name]  # the same plugin given twice
            raise RegistryError(f"{self.kind} name {name!r} is registered twice: by "
                                f"{self._origins[name].source} and by {origin.source}")
        self._parts[name] = checked
        self._origins[name] = origin
        return checked

    def _discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        package = importlib.import_module(self.package)
        for info in pkgutil.iter_modules(package.__path__):
            if info.name.startswith("_"):
                continue
            module = importlib.import_module(f"{self.package}.{info.name}")
            if not hasattr(module, self.attribute):
                raise RegistryError(f"module {module.__name__} defines no {self.attribute}: a {self.kind} module "
                                    f"defines one (helper modules start with '_')")
            part = self._add(getattr(module, self.attribute), Origin(module.__name__, harness.__version__))
            if part.name.replace("-", "_") != info.name:  # type: ignore[attr-defined]
                raise RegistryError(f"module {module.__name__} defines the {self.kind} "
                                    f"{part.name!r}: name a {self.kind} module after it")  # type: ignore[attr-defined]
        for ep in entry_points(group=self.group):
            self._load_entry_point(ep)

    def _load_entry_point(self, ep: EntryPoint) -> None:
        dist = ep.dist.name if ep.dist else "an unknown distribution"
        version = ep.dist.version if ep.dist else "unknown"
        source = f"entry point {ep.name} = {ep.value} ({dist} {version}, group {self.group})"
        try:
            loaded = ep.load()
        except Exception as exc:  # a plugin's import error must not end everyone's run  # noqa: BLE001
            self._broken[ep.name] = f"{self.kind} {ep.name!r} failed to load from {source}: {exc!r}"
            warnings.warn(f"skipped {source}: it failed to import ({exc!r})", PluginWarning, stacklevel=2)
            return
        parts = parts_of(loaded, self.attribute) if isinstance(loaded, ModuleType) else [loaded]
        for part in parts:
            self._add(part, Origin(source, f"{harness.__version__}+{dist}.{version}"), expected_name=ep.name)


PLURAL = {"PROXY": "PROXIES", "SEARCHER": "SEARCHERS"}


def parts_of(module: ModuleType, attribute: str) -> list[object]:
    """``module.PROXY`` or the list ``module.PROXIES`` (likewise ``SEARCHER`` / ``SEARCHERS``)."""
    many = PLURAL[attribute]
    if hasattr(module, attribute):
        return [getattr(module, attribute)]
    if hasattr(module, many):
        return list(getattr(module, many))
    return []
