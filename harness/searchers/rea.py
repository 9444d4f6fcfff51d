"""Regularized (aging) evolution, Real et al. 2019, with NATS-Bench's settings."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from harness.searchers import Searcher


class RegularizedEvolution(Searcher):
    """Aging evolution as NATS-Bench runs it (``exps/NATS-algos/regularized_ea.py``).

    The first ``population_size`` archs are uniformly random; afterwards each query mutates one position
    (``space.mutate``) of the fittest of ``sample_size`` members drawn with replacement, and the oldest member
    dies. ``sample_size=1`` picks parents blindly, which makes it the fitness-ignoring control.
    With ``candidates > 1`` (Abdelfattah et al. 2021) the parent yields that many mutations and the zero-cost
    proxy given by ``use_proxy`` picks the one to evaluate (``harness.warmup`` charges each scoring).
    """

    name = "rea"
    population_size: int = 10  #: members alive at once (NATS-Bench: 10)
    sample_size: int = 3  #: tournament size (NATS-Bench: 3)
    candidates: int = 1  #: mutations the proxy ranks per query (1: plain REA, no proxy)

    def __init__(self, space, seed: int, **hparams: Any) -> None:
        super().__init__(space, seed, **hparams)
        if self.population_size < 1 or self.sample_size < 1 or self.candidates < 1:
            raise ValueError("rea needs population_size, sample_size and candidates >= 1")
        self._proxy: Callable[[list[int]], np.ndarray] | None = None
        self.n_proxy_scored = 0
        # (arch, fitness, birth query number); the left end is the oldest.
        self.population: deque[tuple[int, float, int]] = deque()
        self.n_told = 0

    def ask(self) -> int:
        if len(self.population) < self.population_size:
            return self.space.sample(self.rng)
        picks = self.rng.integers(len(self.population), size=self.sample_size)
        parent = max((self.population[i] for i in picks), key=lambda m: m[1])
        if self.candidates == 1:
            return self.space.mutate(parent[0], self.rng)
        if self._proxy is None:
            raise ValueError(f"rea with candidates={self.candidates} needs a proxy (use_proxy)")
        children = [self.space.mutate(parent[0], self.rng) for _ in range(self.candidates)]
        scores = self._proxy(children)
        self.n_proxy_scored += len(children)
        return children[int(np.argmax(np.nan_to_num(scores, nan=-np.inf)))]

    def use_proxy(self, scores: Callable[[list[int]], np.ndarray]) -> None:
        """The proxy (scores of a list of archs) that ranks candidate mutations."""
        self._proxy = scores

    def tell(self, arch: int, valid_acc: float, seconds: float) -> None:
        self.population.append((int(arch), float(valid_acc), self.n_told))
        self.n_told += 1
        if len(self.population) > self.population_size:
            self.population.popleft()

    def state(self) -> dict[str, Any]:
        return {
            "population": [m[0] for m in self.population],
            "ages": [self.n_told - m[2] for m in self.population],
            "fitness": [m[1] for m in self.population],
        }


SEARCHER = RegularizedEvolution
