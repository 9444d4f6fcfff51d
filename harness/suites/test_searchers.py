"""Multi-trial searchers under the NATS-Bench protocol (``harness.runner``): final result, regret at
fractions of the budget, area under the regret curve and queries used, over many seeded runs.

One case per searcher x space x dataset x seed block; block ``b`` runs seeds ``b*runs ... (b+1)*runs - 1``.
TSS runs use NATS-Bench's time budgets; SSS has no training times, so its runs get a query budget.
Hardware-aware cases (TSS only, the space with latencies) run every searcher under ``--latency-limit``
(regret against the best feasible arch) and with latency on ``--pareto-device`` as a second objective
(hypervolume regret of the reported front); a two-objective searcher runs only in the latter. Warm-up
cases (``--warmup PROXY:N``) run random, REA and REINFORCE on TSS with the proxy's top 10 of N archs of
the proxies' fixed sample first, the proxy's measured (or ``--proxy-seconds``) cost charged to the budget.
pytest-benchmark times the simulation: each round is one run (one seed), so the timed runs are the case's runs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from harness.baselines import searcher_record
from harness.hardware import Hardware, front, hv_regret
from harness.pytest_plugin import suite_config
from harness.runner import run_search
from harness.searchers import get_searcher
from harness.spaces import fixed_sample
from harness.suite_config import SuiteConfig
from harness.warmup import ProxyPool, WarmStart, parse_warmup

WARMUP_SEARCHERS = ("random", "rea", "reinforce")  # the searchers Abdelfattah et al. 2021 warm up


@dataclass(frozen=True)
class SearcherCase:
    searcher: str
    space: str
    dataset: str
    block: int
    hardware: Hardware | None = None
    warmup: str = ""  # 'PROXY:N'

    @property
    def id(self) -> str:
        mode = f"-{self.hardware.mode}" if self.hardware else ""
        warm = f"-warm-{self.warmup.replace(':', '-')}" if self.warmup else ""
        return f"{self.searcher}-{self.space}-{self.dataset}-b{self.block}{mode}{warm}"


def hardware_modes(suite: SuiteConfig) -> list[Hardware]:
    modes = [Hardware.limit(suite.latency_limit)] if suite.latency_limit else []
    return modes + ([Hardware(suite.pareto_device)] if suite.pareto_device else [])


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "searcher_case" not in metafunc.fixturenames:
        return
    suite = suite_config(metafunc.config)
    single = [s for s in suite.searchers if len(get_searcher(s).objectives) == 1]
    cases = [SearcherCase(searcher, space, dataset, block)
             for space in suite.searcher_spaces for dataset in suite.datasets for searcher in single
             for block in suite.seeds]
    if "tss" in suite.searcher_spaces:
        cases += [SearcherCase(searcher, "tss", dataset, block, hw)
                  for hw in hardware_modes(suite) for dataset in suite.datasets
                  for searcher in (suite.searchers if hw.pareto else single) for block in suite.seeds]
        if suite.warmup:
            cases += [SearcherCase(searcher, "tss", dataset, block, warmup=suite.warmup)
                      for dataset in suite.datasets for searcher in single if searcher in WARMUP_SEARCHERS
                      for block in suite.seeds]
    metafunc.parametrize("searcher_case", [pytest.param(c, id=c.id) for c in cases])


@pytest.fixture(scope="session")
def proxy_pools(suite: SuiteConfig, oracles, batches) -> Callable[[str, str, str, int], ProxyPool]:
    """``proxy_pools(space, dataset, proxy, seed)``: the proxy's scores over the proxies' fixed sample (from
    ``--store`` where it has them) and its cost per arch, once per session."""
    from harness.store import ResultStore

    def compute(space: str, dataset: str, proxy: str, seed: int) -> ProxyPool:
        store = ResultStore(suite.store) if suite.store else None
        try:
            return ProxyPool.compute(oracles(space).space, dataset, proxy, fixed_sample(oracles(space).space,
                                     suite.archs).tolist(), batches(dataset, seed), seed=seed, store=store,
                                     seconds_per_arch=suite.proxy_seconds, score_more=False)
        finally:
            if store is not None:
                store.close()

    return functools.cache(compute)


def test_searcher(searcher_case: SearcherCase, benchmark, suite, oracles, proxy_pools) -> None:
    case, hw = searcher_case, searcher_case.hardware
    oracle = oracles(case.space)
    warm = None
    if case.warmup:
        proxy, n = parse_warmup(case.warmup)
        warm = WarmStart(proxy_pools(case.space, case.dataset, proxy, case.block), n, free=bool(suite.free_proxy))
    seeds = list(range(case.block * suite.runs, (case.block + 1) * suite.runs))
    budget = {} if oracle.has_times(case.dataset) else {"max_queries": suite.sss_queries}
    trajectories = []
    pending = iter(seeds)
    benchmark.pedantic(
        lambda seed: trajectories.append(run_search(case.searcher, oracle, case.dataset, seed, hardware=hw,
                                                    warmup=warm, **budget)),
        setup=lambda: ((next(pending),), {}), rounds=len(seeds))

    reported = oracle.accuracies(case.dataset, *oracle.space.reported)
    constrained = hw is not None and not hw.pareto
    _, optimum = hw.optimum(oracle, reported) if constrained else (None, float(np.nanmax(reported)))
    hv = None
    if hw is not None and hw.pareto:
        lat = oracle.latencies(hw.device)
        hv = [hv_regret(front(t.archs, t.valid_accs, lat), reported, lat) for t in trajectories]
    benchmark.extra_info.update(searcher_record(trajectories, optimum, hv_regrets=hv))
    if warm is not None:
        benchmark.extra_info.update(proxy_cost_source=warm.pool.cost_source,
                                    proxy_seconds_per_arch=warm.pool.seconds_per_arch)

    assert [t.seed for t in trajectories] == seeds
    for t in trajectories:
        assert t.n_queries > 0, f"seed {t.seed} made no query"
        assert t.times[-1] <= t.budget, f"seed {t.seed} overran its budget"
        assert t.final_reported <= optimum
        if constrained:
            feasible = oracle.latencies(hw.device)[t.archs] <= hw.max_ms
            assert feasible.all(), f"seed {t.seed} paid for an infeasible arch"
    if hv is not None:
        assert all(0.0 <= v <= 1.0 for v in hv)
