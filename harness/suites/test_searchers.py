"""Multi-trial searchers under the NATS-Bench protocol (``harness.runner``): final result, regret at
fractions of the budget, area under the regret curve and queries used, over many seeded runs.

One case per searcher x space x dataset x seed block; block ``b`` runs seeds ``b*runs ... (b+1)*runs - 1``.
TSS runs use NATS-Bench's time budgets; SSS has no training times, so its runs get a query budget.
pytest-benchmark times the simulation: each round is one run (one seed), so the timed runs are the case's runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from harness.baselines import searcher_record
from harness.pytest_plugin import suite_config
from harness.runner import run_search


@dataclass(frozen=True)
class SearcherCase:
    searcher: str
    space: str
    dataset: str
    block: int

    @property
    def id(self) -> str:
        return f"{self.searcher}-{self.space}-{self.dataset}-b{self.block}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "searcher_case" not in metafunc.fixturenames:
        return
    suite = suite_config(metafunc.config)
    cases = [SearcherCase(searcher, space, dataset, block)
             for space in suite.searcher_spaces for dataset in suite.datasets for searcher in suite.searchers
             for block in suite.seeds]
    metafunc.parametrize("searcher_case", [pytest.param(c, id=c.id) for c in cases])


def test_searcher(searcher_case: SearcherCase, benchmark, suite, oracles) -> None:
    case = searcher_case
    oracle = oracles(case.space)
    seeds = list(range(case.block * suite.runs, (case.block + 1) * suite.runs))
    budget = {} if oracle.has_times(case.dataset) else {"max_queries": suite.sss_queries}
    trajectories = []
    pending = iter(seeds)
    benchmark.pedantic(
        lambda seed: trajectories.append(run_search(case.searcher, oracle, case.dataset, seed, **budget)),
        setup=lambda: ((next(pending),), {}), rounds=len(seeds))

    metric, epochs = oracle.space.reported
    _, optimum = oracle.best(case.dataset, metric, epochs)
    benchmark.extra_info.update(searcher_record(trajectories, optimum))

    assert [t.seed for t in trajectories] == seeds
    for t in trajectories:
        assert t.n_queries > 0, f"seed {t.seed} made no query"
        assert t.times[-1] <= t.budget, f"seed {t.seed} overran its budget"
        assert t.final_reported <= optimum
