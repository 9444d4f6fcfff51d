"""Zero-cost proxies: one module per proxy, each defining ``PROXY``; found lazily on first lookup.

A per-arch ``Proxy`` scores one network: ``PROXY(net, inputs, targets, loss_fn) -> float`` (higher =
predicted better; NaN / inf are returned, never raised). Its ``fn`` reads the shared passes it declares in
``needs`` (see ``harness.proxies._passes``), which is how ``harness.scoring.score_all`` computes many
proxies with one forward. A ``RelativeProxy`` (``vote``) only has meaning across several archs: it combines
other proxies' scores over a batch of archs (``harness.scoring.score_batch``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from harness.errors import unknown_name
from harness.proxies._passes import PASS_NAMES, LossFn, Passes


@dataclass(frozen=True)
class Proxy:
    """A per-arch proxy: ``fn(passes) -> float`` over the passes named in ``needs``."""

    name: str
    fn: Callable[[Passes], float]
    needs: frozenset[str]

    def __post_init__(self) -> None:
        object.__setattr__(self, "needs", frozenset(self.needs))
        unknown = self.needs - set(PASS_NAMES)
        if unknown:
            raise ValueError(f"proxy {self.name}: unknown passes {sorted(unknown)}; valid: {', '.join(PASS_NAMES)}")

    def __call__(self, net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor,
                 loss_fn: LossFn = F.cross_entropy, split: int = 1) -> float:
        return float(self.fn(Passes(net, inputs, targets, loss_fn, self.needs, split)))


@dataclass(frozen=True)
class RelativeProxy:
    """A proxy defined only across archs: ``combine({member: scores over archs}) -> scores over archs``."""

    name: str
    combine: Callable[[dict[str, np.ndarray]], np.ndarray]
    members: tuple[str, ...]


_REGISTRY: dict[str, Proxy | RelativeProxy] = {}


def _discover() -> dict[str, Proxy | RelativeProxy]:
    if not _REGISTRY:
        found = {}
        for info in pkgutil.iter_modules(__path__):
            if info.name.startswith("_"):
                continue
            proxy = importlib.import_module(f"{__name__}.{info.name}").PROXY
            if proxy.name != info.name:
                raise RuntimeError(f"proxy module {info.name} defines PROXY named {proxy.name!r}")
            found[info.name] = proxy
        _REGISTRY.update(found)
    return _REGISTRY


def proxy_names() -> list[str]:
    """Every registered proxy, sorted."""
    return sorted(_discover())


def get_proxy(name: str) -> Proxy | RelativeProxy:
    registry = _discover()
    if name not in registry:
        raise unknown_name("proxy", name, sorted(registry))
    return registry[name]


__all__ = ["Proxy", "RelativeProxy", "get_proxy", "proxy_names"]
