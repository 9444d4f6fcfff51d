"""Zero-cost warm-up of a searcher (Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021):
score N archs with a proxy and make the top ones the searcher's first proposals; REA can also let the proxy
pick among k candidate mutations (``RegularizedEvolution.candidates``).

The proxy is not free: ``seconds_per_arch`` (measured here on CPU with ``score(...).seconds``, or a figure the
user measured elsewhere, e.g. on a GPU; ``cost_source`` says which) times the archs scored is charged to the
simulated budget before the first query, or, with ``free``, only reported. Scores come from the result
store when it holds them, and are computed (and stored) otherwise.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.protocol import DEFAULT as DEFAULT_PROTOCOL
from harness.spaces import SearchSpace

# Separates the warm-up's draw of N archs from the searcher's own stream of the same seed.
_DRAW_STREAM = 0x3A7


def parse_warmup(text: str) -> tuple[str, int]:
    """``PROXY:N`` (e.g. ``synflow:3000``) as (proxy, N); the proxy must be registered (``vote`` allowed)."""
    from harness.proxies import get_proxy

    name, sep, count = text.partition(":")
    if not sep or not count.strip().isdigit() or int(count) < 1:
        raise ValueError(f"expected a warm-up like 'synflow:3000' (proxy:archs scored, archs >= 1), got {text!r}")
    get_proxy(name.strip())  # unknown proxy: the error lists the registered ones
    return name.strip(), int(count)


@dataclass
class ProxyPool:
    """One proxy's scores over a pool of archs of one dataset, and what scoring one arch costs.

    ``score_more`` (optional) scores archs outside the pool on demand (proxy-guided mutation reaches any
    arch); scored archs join the pool.
    """

    proxy: str
    dataset: str
    scores: dict[int, float]
    seconds_per_arch: float
    cost_source: str  # e.g. 'cpu, measured over 5 archs' or 'cuda, given'
    score_more: Any = field(default=None, repr=False)  # Callable[[list[int]], Sequence[float]] | None
    protocol: str = "nats"  # the scoring protocol's name (harness.protocol)

    @classmethod
    def compute(cls, space: SearchSpace, dataset: str, proxy: str, archs: Sequence[int], batch, seed: int = 0,
                device: str = "cpu", store=None, seconds_per_arch: float | None = None,
                timing_archs: int = 5, score_more: bool = True) -> ProxyPool:
        """Scores of ``archs`` (``harness.scoring.score_batch``, read from ``store`` where it has them); the
        cost per arch is ``seconds_per_arch`` when given, else the median of ``timing_archs`` measured scorings
        (of each member, summed, for a relative proxy such as vote). ``score_more``: archs outside the pool
        are scored on demand (the store closed, they are not stored)."""
        from harness.proxies import RelativeProxy, get_proxy
        from harness.scoring import score, score_batch

        def more(extra: list[int]) -> list[float]:
            return score_batch(space, extra, [proxy], dataset, batch, seed=seed, device=device,
                               store=store)[proxy].tolist()

        values = more([int(a) for a in archs])
        if seconds_per_arch is None:
            p = get_proxy(proxy)
            members = p.members if isinstance(p, RelativeProxy) else (proxy,)
            timed = [int(a) for a in archs[:timing_archs]]
            seconds_per_arch = float(np.median([sum(score(m, space, a, dataset, batch, seed, device).seconds
                                                    for m in members) for a in timed]))
            source = f"{device}, measured over {len(timed)} archs"
        else:
            source = f"{device}, given"
        if not (math.isfinite(seconds_per_arch) and seconds_per_arch >= 0):
            raise ValueError(f"proxy seconds per arch must be a finite number >= 0, got {seconds_per_arch}")
        return cls(proxy, dataset, dict(zip((int(a) for a in archs), values, strict=True)),
                   float(seconds_per_arch), source, more if score_more else None, batch.protocol.name)

    def lookup(self, archs: Sequence[int]) -> np.ndarray:
        """Scores of ``archs``, scoring the ones outside the pool (an error where the pool cannot)."""
        missing = [a for a in dict.fromkeys(int(a) for a in archs) if a not in self.scores]
        if missing:
            if self.score_more is None:
                raise ValueError(f"{self.proxy} scores of {len(missing)} arch(s) outside the pool are needed "
                                 f"(e.g. {missing[0]}) and this pool cannot score more")
            self.scores.update(zip(missing, self.score_more(missing), strict=True))
        return np.asarray([self.scores[int(a)] for a in archs], dtype=np.float64)


@dataclass(frozen=True)
class WarmStart:
    """A run's warm-up: draw ``n`` archs of the pool (seeded by the run), propose the ``top`` best by the
    proxy first; with ``guide``, REA's mutations are ranked by the same proxy (each scoring is charged)."""

    pool: ProxyPool
    n: int
    top: int = 10  # REA's population size: the warmed population is the proxy's top 10
    free: bool = False
    guide: bool = False

    @property
    def mode(self) -> str:
        parts = [f"warm-{self.pool.proxy}-{self.n}" if self.n else "", f"guided-{self.pool.proxy}" if self.guide
                 else "", "free" if self.free else "", "" if self.pool.protocol == DEFAULT_PROTOCOL
                 else self.pool.protocol]
        return "-".join(p for p in parts if p)

    def check(self, space_size: int, budget: float, timed: bool) -> None:
        """Errors before the run: more archs than the space or the pool holds, a cost beyond the budget."""
        if not 0 <= self.n <= space_size:
            raise ValueError(f"warm-up of {self.n} archs: the space has {space_size}")
        if self.n > len(self.pool.scores):
            raise ValueError(f"warm-up of {self.n} archs: the {self.pool.proxy} pool holds {len(self.pool.scores)} "
                             "scored archs (score more, e.g. with `python -m harness sweep`)")
        if self.top < 1:
            raise ValueError(f"warm-up top {self.top} must be >= 1")
        if timed and not self.free and self.cost_s >= budget:
            raise ValueError(f"warm-up of {self.n} archs x {self.pool.seconds_per_arch:.3g} s = {self.cost_s:,.0f} s "
                             f"leaves nothing of the {budget:,.0f} s budget (use --free-proxy to report it apart)")

    @property
    def cost_s(self) -> float:
        return self.n * self.pool.seconds_per_arch

    def first(self, seed: int) -> list[int]:
        """The ``top`` archs (all ``n`` when fewer) by the proxy among ``n`` drawn from the pool with the run's
        seed."""
        if not self.n:
            return []
        pool = np.fromiter(self.pool.scores, dtype=np.int64)
        drawn = np.random.default_rng([seed, _DRAW_STREAM]).choice(pool, size=self.n, replace=False)
        scores = self.pool.lookup(drawn)
        order = np.argsort(-np.nan_to_num(scores, nan=-np.inf), kind="stable")
        return drawn[order[: self.top]].tolist()

    def wrap(self, agent, seed: int) -> WarmStarted:
        return WarmStarted(agent, self.first(seed), self if self.guide else None)


class WarmStarted:
    """A searcher whose first proposals are given; it is told their results like its own (every searcher
    accepts a told arch it did not ask). Guided REA charges each candidate it has the proxy score."""

    def __init__(self, agent, first: list[int], guide: WarmStart | None) -> None:
        self.agent, self.queue = agent, deque(first)
        self.seconds_per_score = guide.pool.seconds_per_arch if guide else 0.0
        self.charge_scores = guide is not None and not guide.free
        if guide is not None:
            if not hasattr(agent, "use_proxy"):
                raise ValueError(f"searcher {agent.name!r} cannot be proxy-guided (only rea ranks mutations)")
            agent.use_proxy(guide.pool.lookup)
        self._scored_before = 0

    def ask(self) -> int:
        return self.queue.popleft() if self.queue else self.agent.ask()

    def tell(self, arch: int, valid_acc: float, seconds: float) -> None:
        self.agent.tell(arch, valid_acc, seconds)

    def tell_objectives(self, arch: int, values: Sequence[float], seconds: float) -> None:
        self.agent.tell_objectives(arch, values, seconds)

    def proxy_seconds_since_last(self) -> float:
        """Seconds of proxy scoring the searcher spent since the last call (guided mutation)."""
        scored = getattr(self.agent, "n_proxy_scored", 0)
        new, self._scored_before = scored - self._scored_before, scored
        return new * self.seconds_per_score

    def state(self) -> dict[str, Any]:
        return {**self.agent.state(), "warm_queue": len(self.queue)}
