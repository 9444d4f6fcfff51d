"""Fixtures of the benchmark suites: the run's configuration, one oracle per space, one minibatch per
(dataset, seed), and a session cache of proxy scores so that each (arch, dataset, seed, device) is scored
once, by ``score_all`` for every requested proxy (through ``score_batch``, which also combines relative
proxies such as vote over the sample), and each proxy case then reads its own column.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import pytest

from harness.bench import Oracle
from harness.pytest_plugin import suite_config, suite_oracles
from harness.spaces import fixed_sample
from harness.suite_config import SuiteConfig


def pytest_configure(config: pytest.Config) -> None:
    # Resolve (and validate) the options now: a bad name is one usage error, not a collection error per module.
    suite_config(config)


@pytest.fixture(scope="session")
def suite(pytestconfig: pytest.Config) -> SuiteConfig:
    return suite_config(pytestconfig)


@pytest.fixture(scope="session")
def oracles(pytestconfig: pytest.Config) -> Callable[[str], Oracle]:
    """``oracles(space)``: the table oracle of a space, loaded (and checked) when the options were."""
    return suite_oracles(pytestconfig).__getitem__


@pytest.fixture(scope="session")
def batches(suite: SuiteConfig) -> Callable[[str, int], object]:
    """``batches(dataset, seed)``: the seeded minibatch every proxy of that (dataset, seed) sees (under a
    per-arch protocol, what each arch's own draw derives from)."""
    from harness.images import load_batch
    from harness.protocol import get_protocol

    protocol = get_protocol(suite.protocol)
    return functools.cache(lambda dataset, seed: load_batch(dataset, suite.batch_size, seed=seed, data=suite.data,
                                                            images_dir=suite.images_dir, protocol=protocol))


class ScoreCache:
    """Scores of the arch sample for all requested proxies, computed once per (space, dataset, seed, device)."""

    def __init__(self, suite: SuiteConfig, oracles: Callable[[str], Oracle],
                 batches: Callable[[str, int], object]) -> None:
        self.suite, self.oracles, self.batches = suite, oracles, batches
        self._scores: dict[tuple[str, str, int, str], dict[str, np.ndarray]] = {}
        self._failures: dict[tuple[str, str, int, str], list] = {}

    def archs(self, space: str) -> np.ndarray:
        # A prefix of the space's one fixed permutation: the default sample is a subset of --full's, and
        # scores a sweep cached for the same archs serve the suite.
        return fixed_sample(self.oracles(space).space, self.suite.archs)

    def failures(self, space: str, dataset: str, seed: int, device: str, proxy: str) -> dict[int, str]:
        """{arch: reason} of the archs whose score of ``proxy`` (or of a member, for vote) failed."""
        from harness.proxies import RelativeProxy, get_proxy

        registered = get_proxy(proxy)
        names = set(registered.members) if isinstance(registered, RelativeProxy) else {proxy}
        self.scores(space, dataset, seed, device)
        return {f.arch: f"{f.proxy}: {f.reason}" for f in self._failures[space, dataset, seed, device]
                if f.proxy in names}

    def scores(self, space: str, dataset: str, seed: int, device: str) -> dict[str, np.ndarray]:
        key = (space, dataset, seed, device)
        if key not in self._scores:
            from harness.scoring import score_batch
            from harness.store import ResultStore

            archs = [int(a) for a in self.archs(space)]
            store = ResultStore(self.suite.store) if self.suite.store else None
            self._failures[key] = []
            try:
                self._scores[key] = score_batch(self.oracles(space).space, archs, list(self.suite.proxies),
                                                dataset, self.batches(dataset, seed), seed=seed, device=device,
                                                store=store, failures=self._failures[key],
                                                time_limit_s=self.suite.proxy_timeout_s)
            finally:
                if store is not None:
                    store.close()
        return self._scores[key]


@pytest.fixture(scope="session")
def score_cache(suite: SuiteConfig, oracles: Callable[[str], Oracle],
                batches: Callable[[str, int], object]) -> ScoreCache:
    return ScoreCache(suite, oracles, batches)
