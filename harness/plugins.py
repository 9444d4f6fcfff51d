"""Plugin modules named at run time (``--plugins mypkg.proxies,./my_proxy.py``): each is imported and every
proxy and searcher it defines joins the one registry, beside the built-in parts and the entry points."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import harness
from harness.proxies import REGISTRY as PROXIES
from harness.registry import Origin, RegistryError, parts_of
from harness.searchers import REGISTRY as SEARCHERS


def load_plugins(plugins: Sequence[str]) -> list[str]:
    """Import each plugin (a module name or a ``.py`` path; ``suite_config.parse_plugins`` reads the option)
    and register its proxies (``PROXY`` / ``PROXIES``) and searchers (``SEARCHER`` /
    ``SEARCHERS``); returns the names registered. A plugin that cannot be imported, or defines no part, is a
    RegistryError naming it."""
    names = []
    for item in plugins:
        module, origin = _import(item)
        found = parts_of(module, "PROXY") + parts_of(module, "SEARCHER")
        if not found:
            raise RegistryError(f"plugin {item} defines no PROXY / PROXIES / SEARCHER / SEARCHERS")
        names += [p.name for p in PROXIES.register_module(module, origin)]
        names += [s.name for s in SEARCHERS.register_module(module, origin)]
    return names


def _import(item: str) -> tuple[ModuleType, Origin]:
    path = Path(item).expanduser()
    if item.endswith(".py") or path.is_file():
        if not path.is_file():
            raise RegistryError(f"plugin file {path} not found")
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()[:12]
        name = f"harness_plugin_{path.stem}_{digest}"
        if name not in sys.modules:
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)  # type: ignore[union-attr]
            except Exception as exc:
                del sys.modules[name]
                raise RegistryError(f"plugin file {path} failed to import: {exc!r}") from exc
        return sys.modules[name], Origin(f"plugin file {path.resolve()}", f"{harness.__version__}+sha256.{digest}")
    try:
        module = importlib.import_module(item)
    except Exception as exc:
        raise RegistryError(f"plugin module {item!r} failed to import: {exc!r}") from exc
    return module, Origin(f"plugin module {item}", f"{harness.__version__}+{_module_version(module)}")


def _module_version(module: ModuleType) -> str:
    """The installed distribution's version of a plugin module, else a hash of its source file."""
    from importlib.metadata import PackageNotFoundError, packages_distributions, version

    top = module.__name__.split(".")[0]
    for dist in packages_distributions().get(top, []):
        try:
            return f"{dist}.{version(dist)}"
        except PackageNotFoundError:
            continue
    source = Path(getattr(module, "__file__", "") or "")
    if source.is_file():
        return "sha256." + hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    return "unversioned"
