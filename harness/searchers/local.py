"""Local search: best-improvement hill climbing over all one-position neighbours, restarting at optima."""

from __future__ import annotations

from typing import Any

from harness.searchers import Searcher


class LocalSearch(Searcher):
    """Evaluates every neighbour of the current arch (one per ask), then moves to the best of them if it
    beats the current arch; at a local optimum it restarts from a random arch.

    Archs already evaluated are not asked again (their accuracy is remembered), since each ask costs a
    full simulated training under the NATS-Bench protocol.
    """

    name = "local"

    def __init__(self, space, seed: int, **hparams: Any) -> None:
        super().__init__(space, seed, **hparams)
        self.known: dict[int, float] = {}
        self.current: int | None = None
        self.pending: list[int] = []  # neighbours of current still to evaluate
        self.n_restarts = 0

    def _restart(self) -> int:
        arch = self.space.sample(self.rng)
        while arch in self.known and len(self.known) < self.space.size:
            arch = self.space.sample(self.rng)
        return arch

    def ask(self) -> int:
        while self.current is not None and not self.pending:
            self._step()
        if self.current is None:
            return self._restart()
        return self.pending[-1]

    def _step(self) -> None:
        """All neighbours known: climb to the best one, or restart at a local optimum."""
        neighbours = self.space.neighbours(self.current)
        best = max(neighbours, key=self.known.__getitem__)
        if self.known[best] > self.known[self.current]:
            self._move(best)
        else:
            self.current = None
            self.n_restarts += 1

    def _move(self, arch: int) -> None:
        self.current = arch
        order = self.space.neighbours(arch)
        self.rng.shuffle(order)
        self.pending = [a for a in order if a not in self.known]

    def tell(self, arch: int, valid_acc: float, seconds: float) -> None:
        arch = int(arch)
        self.known[arch] = float(valid_acc)
        if self.current is None:
            self._move(arch)
        elif self.pending and self.pending[-1] == arch:
            self.pending.pop()

    def state(self) -> dict[str, Any]:
        return {
            "current": self.current,
            "current_valid": self.known.get(self.current) if self.current is not None else None,
            "pending_neighbours": len(self.pending),
            "n_evaluated": len(self.known),
            "n_restarts": self.n_restarts,
        }


SEARCHER = LocalSearch
