"""Random search: uniform sampling without repeats, as NATS-Bench's random-search baseline."""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.searchers import Searcher, SearchExhausted


class RandomSearch(Searcher):
    """Visits the archs in a seeded random permutation, so no arch is paid for twice."""

    name = "random"

    def __init__(self, space, seed: int, **hparams: Any) -> None:
        super().__init__(space, seed, **hparams)
        self._order: np.ndarray | None = None  # drawn on the first ask: most runs need ~1% of it
        self._next = 0
        self._best = (-1, float("-inf"))

    def ask(self) -> int:
        if self._order is None:
            self._order = self.rng.permutation(self.space.size)
        if self._next >= self.space.size:
            raise SearchExhausted(f"random search has asked all {self.space.size} archs")
        self._next += 1
        return int(self._order[self._next - 1])

    def tell(self, arch: int, valid_acc: float, seconds: float) -> None:
        if valid_acc > self._best[1]:
            self._best = (int(arch), float(valid_acc))

    def state(self) -> dict[str, Any]:
        return {"n_asked": self._next, "best_arch": self._best[0], "best_valid": self._best[1]}


SEARCHER = RandomSearch
