"""Zero-cost proxies: one module per proxy, each defining ``PROXY``; registered by name in one registry
(``harness.registry``), built-in or from a plugin.

A per-arch ``Proxy`` scores one network: ``PROXY(net, inputs, targets, loss_fn) -> float`` (higher =
predicted better; NaN / inf are returned, never raised). Its ``fn`` reads the shared passes it declares in
``needs`` (``PASS_NAMES``, computed once by ``Passes`` for every proxy of a ``score_all`` call), or, needing
none, computes its value itself under the network conditions it declares (``bn``, ``mode``, ``dtype``), as
zero-cost-nas's ``@measure(name, bn=False)`` does. ``Proxy.from_function`` wraps a plain
``fn(net, inputs, targets, loss_fn) -> float``. A ``RelativeProxy`` (``vote``) only has meaning across
several archs: it combines other proxies' scores over a batch of archs (``harness.scoring.score_batch``).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from harness.proxies._passes import (
    MODES,
    PASS_NAMES,
    LossFn,
    Passes,
    batchnorm_removed,
    ieee_cudnn,
    layer_sum,
    logits_of,
    network_conditions,
    train_mode,
    weight_layers,
)
from harness.registry import Registry

PlainFunction = Callable[[nn.Module, torch.Tensor, torch.Tensor, LossFn], float]


@dataclass(frozen=True)
class Proxy:
    """A per-arch proxy: ``fn(passes) -> float``.

    With ``needs`` (shared passes) the value comes from the shared train-mode float32 pass with BatchNorm,
    so the network conditions are those; without, ``fn`` runs under ``bn`` (False: BatchNorm layers act as
    identities), ``mode`` ("train": batch statistics, running statistics restored; "eval"; None: as the
    network is) and ``dtype`` (the network and inputs cast, then cast back).
    """

    name: str
    fn: Callable[[Passes], float]
    needs: frozenset[str] = frozenset()
    bn: bool = True
    mode: str | None = "train"
    dtype: torch.dtype = torch.float32

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"a proxy's name is a non-empty string, got {self.name!r}")
        if isinstance(self.needs, str):
            raise TypeError(f"proxy {self.name}: needs is a set of pass names, got the string {self.needs!r}")
        object.__setattr__(self, "needs", frozenset(self.needs))
        unknown = self.needs - set(PASS_NAMES)
        if unknown:
            raise ValueError(f"proxy {self.name}: unknown passes {sorted(unknown)}; valid: {', '.join(PASS_NAMES)}")
        if self.mode not in MODES:
            raise ValueError(f"proxy {self.name}: mode {self.mode!r}; valid modes: train, eval, None")
        if self.needs and (not self.bn or self.mode != "train" or self.dtype != torch.float32):
            raise ValueError(f"proxy {self.name}: the shared passes run in train mode, float32, with BatchNorm; "
                             "a proxy with other conditions computes its value itself (needs=())")

    @classmethod
    def from_function(cls, name: str, fn: PlainFunction, *, bn: bool = True, mode: str | None = "train",
                      dtype: torch.dtype = torch.float32) -> Proxy:
        """A proxy from ``fn(net, inputs, targets, loss_fn) -> float``: no shared passes, its own
        forward / backward under the declared conditions."""
        return cls(name, lambda p: fn(p.net, p.inputs, p.targets, p.loss_fn), bn=bn, mode=mode, dtype=dtype)

    def evaluate(self, passes: Passes) -> float:
        """The value on ``passes``' network and batch, under this proxy's conditions; TypeError when ``fn``
        returns something that is not one number."""
        if self.needs:
            return self._number(self.fn(passes))
        with network_conditions(passes.net, self.bn, self.mode, self.dtype), ieee_cudnn(passes.inputs.device):
            return self._number(self.fn(passes.cast(self.dtype)))

    def _number(self, value: object) -> float:
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            return float(value)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"proxy {self.name} returned {type(value).__name__} {value!r:.60}, not a number")
        return float(value)

    def __call__(self, net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor,
                 loss_fn: LossFn = F.cross_entropy, split: int = 1) -> float:
        return self.evaluate(Passes(net, inputs, targets, loss_fn, self.needs, split))


@dataclass(frozen=True)
class RelativeProxy:
    """A proxy defined only across archs: ``combine({member: scores over archs}) -> scores over archs``."""

    name: str
    combine: Callable[[dict[str, np.ndarray]], np.ndarray]
    members: tuple[str, ...]


def _check(part: object) -> Proxy | RelativeProxy:
    if not isinstance(part, (Proxy, RelativeProxy)):
        raise TypeError(f"a proxy is a harness.proxies.Proxy or RelativeProxy, got {type(part).__name__} "
                        "(wrap a plain function with Proxy.from_function)")
    return part


REGISTRY: Registry[Proxy | RelativeProxy] = Registry("proxy", __name__, "PROXY", _check)


def proxy_names() -> list[str]:
    """Every registered proxy (built in and plugins), sorted."""
    return REGISTRY.names()


def get_proxy(name: str) -> Proxy | RelativeProxy:
    """The proxy registered as ``name``; ValueError listing the valid names otherwise."""
    return REGISTRY.get(name)


__all__ = ["PASS_NAMES", "REGISTRY", "LossFn", "Passes", "Proxy", "RelativeProxy", "batchnorm_removed",
           "get_proxy", "ieee_cudnn", "layer_sum", "logits_of", "network_conditions", "proxy_names",
           "train_mode", "weight_layers"]
