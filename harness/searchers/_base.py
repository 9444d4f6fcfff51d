"""The ask/tell interface every multi-trial searcher implements (as optuna's): the runner owns the
budget, the clock and the record; a searcher only proposes archs and learns from their scores."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from harness.errors import check_seed
from harness.spaces import SearchSpace


class SearchExhausted(Exception):
    """The searcher has nothing left to propose (e.g. random search has asked every arch)."""


class Searcher(ABC):
    """Proposes arch indices of ``space`` one at a time and is told their simulated validation accuracy.

    Searchers see only indices, encodings and the space's ``sample`` / ``mutate`` / ``neighbours``, so one
    implementation serves TSS and SSS. Hyperparameters are class attributes (documented per class); the
    constructor overrides them by keyword, and an unknown keyword is an error rather than silently ignored.
    All randomness comes from ``self.rng`` (seeded), so a run is a function of its seed.
    """

    name: ClassVar[str]
    #: What ``tell_objectives`` passes, in order; a searcher that needs latency declares
    #: ``("valid_acc", "latency_ms")`` and then runs only where the run has a latency objective.
    objectives: ClassVar[tuple[str, ...]] = ("valid_acc",)

    def __init__(self, space: SearchSpace, seed: int, **hparams: Any) -> None:
        known = self.hyperparameters()
        unknown = sorted(k for k in hparams if k not in known)
        if unknown:
            raise ValueError(f"searcher {self.name!r} has no hyperparameter(s) {', '.join(unknown)}; "
                             f"its hyperparameters: {', '.join(known) or 'none'}")
        for key, value in hparams.items():
            setattr(self, key, value)
        self.space = space
        self.seed = check_seed(seed)
        self.rng = np.random.default_rng(self.seed)

    @classmethod
    def hyperparameters(cls) -> dict[str, Any]:
        """Name -> default of the annotated class attributes of the searcher's own classes."""
        out: dict[str, Any] = {}
        for klass in reversed(cls.__mro__[: cls.__mro__.index(Searcher)]):
            out.update({k: getattr(cls, k) for k in vars(klass).get("__annotations__", {})})
        return out

    @abstractmethod
    def ask(self) -> int:
        """The next arch index to evaluate; raises SearchExhausted when there is none."""

    @abstractmethod
    def tell(self, arch: int, valid_acc: float, seconds: float) -> None:
        """The simulated validation accuracy (%) and cost (s; NaN where unknown) of an asked arch."""

    def tell_objectives(self, arch: int, values: Sequence[float], seconds: float) -> None:
        """Two-objective runs tell (validation accuracy, latency ms); a single-objective searcher searches
        by accuracy alone, so that it is the baseline a two-objective searcher must beat."""
        self.tell(arch, values[0], seconds)

    @abstractmethod
    def state(self) -> dict[str, Any]:
        """A JSON-able snapshot of the searcher's internals, for analysis of how it searched."""
