"""Zero-cost warm-up and proxy-guided REA on the toy oracle, with a known proxy (so effects are certain)."""

from __future__ import annotations

import numpy as np
import pytest

from harness.runner import run_search
from harness.warmup import ProxyPool, WarmStart, parse_warmup
from tests.test_searchers import toy_tss  # noqa: F401  (fixture)


def pool(oracle, n: int, seconds: float = 2.0, exact: bool = True) -> ProxyPool:
    """A proxy equal to the toy's accuracy (``exact``) or to minus it, over the first ``n`` archs."""
    sign = 1.0 if exact else -1.0
    return ProxyPool("synflow", "cifar10", {a: sign * float(oracle.acc[a]) for a in range(n)}, seconds,
                     "cpu, given", score_more=lambda archs: [sign * float(oracle.acc[a]) for a in archs])


def test_parse_warmup():
    assert parse_warmup("synflow:3000") == ("synflow", 3000)
    assert parse_warmup("vote:10") == ("vote", 10)
    for bad in ("synflow", "synflow:0", "synflow:-3", "synflow:many"):
        with pytest.raises(ValueError, match="expected a warm-up like 'synflow:3000'"):
            parse_warmup(bad)
    with pytest.raises(ValueError, match="unknown proxy 'synflw'"):
        parse_warmup("synflw:10")


def test_first_proposals_are_the_proxys_top_of_a_seeded_draw(toy_tss):  # noqa: F811
    warm = WarmStart(pool(toy_tss, 2000), n=300, top=10)
    first = warm.first(seed=4)
    assert first == warm.first(seed=4) and first != warm.first(seed=5)
    assert len(set(first)) == 10 and all(a < 2000 for a in first)
    drawn = np.random.default_rng([4, 0x3A7]).choice(np.arange(2000), size=300, replace=False)
    assert sorted(toy_tss.acc[first], reverse=True) == sorted(toy_tss.acc[drawn], reverse=True)[:10]


@pytest.mark.parametrize("searcher", ["random", "rea", "reinforce", "optuna-tpe", "local"])
def test_run_starts_with_the_top_and_pays_for_the_proxy(toy_tss, searcher):  # noqa: F811
    warm = WarmStart(pool(toy_tss, 2000, seconds=2.0), n=300, top=10)
    traj = run_search(searcher, toy_tss, "cifar10", seed=1, budget_s=5000, warmup=warm)
    assert traj.archs[:10].tolist() == warm.first(seed=1)
    assert traj.proxy_seconds == 600.0 and traj.proxy_charged
    assert traj.times[0] == 600.0 + 100.0 and traj.n_queries == (5000 - 600) // 100
    free = run_search(searcher, toy_tss, "cifar10", seed=1, budget_s=5000,
                      warmup=WarmStart(warm.pool, n=300, top=10, free=True))
    assert free.times[0] == 100.0 and free.proxy_seconds == 600.0 and not free.proxy_charged
    assert free.mode == "warm-synflow-300-free"


def test_warmup_helps_where_the_proxy_is_right_and_hurts_where_it_is_wrong(toy_tss):  # noqa: F811
    def mean_final(exact):
        warm = WarmStart(pool(toy_tss, 3000, seconds=0.0, exact=exact), n=3000, top=10) if exact is not None else None
        return np.mean([run_search("random", toy_tss, "cifar10", s, budget_s=2000, warmup=warm).final_reported
                        for s in range(10)])

    assert mean_final(True) > mean_final(None) > mean_final(False)


def test_bad_warmups_are_errors_before_the_run(toy_tss):  # noqa: F811
    size = toy_tss.space.size
    with pytest.raises(ValueError, match=f"warm-up of {size + 1} archs: the space has {size}"):
        run_search("rea", toy_tss, "cifar10", 0, warmup=WarmStart(pool(toy_tss, size), n=size + 1))
    with pytest.raises(ValueError, match="the synflow pool holds 100 scored archs"):
        run_search("rea", toy_tss, "cifar10", 0, warmup=WarmStart(pool(toy_tss, 100), n=200))
    with pytest.raises(ValueError, match="leaves nothing of the 1,000 s budget"):
        run_search("rea", toy_tss, "cifar10", 0, budget_s=1000, warmup=WarmStart(pool(toy_tss, 600), n=500))
    with pytest.raises(ValueError, match="cannot be proxy-guided"):
        run_search("random", toy_tss, "cifar10", 0, warmup=WarmStart(pool(toy_tss, 100), n=0, guide=True))


def test_guided_rea_charges_each_candidate_and_uses_the_proxy(toy_tss):  # noqa: F811
    def run(seed, exact, candidates):
        warm = WarmStart(pool(toy_tss, 10, seconds=1.0, exact=exact), n=0, guide=True)
        return run_search("rea", toy_tss, "cifar10", seed, budget_s=3000, warmup=warm,
                          hparams={"candidates": candidates})

    traj = run(0, True, 5)
    mutations = traj.n_queries - 10  # the first 10 are REA's random population
    assert traj.proxy_seconds == pytest.approx(5 * (mutations + 1), abs=5)  # the last scored one may not run
    assert traj.mode == "guided-synflow"
    good = np.mean([run(s, True, 5).final_reported for s in range(10)])
    bad = np.mean([run(s, False, 5).final_reported for s in range(10)])
    assert good > bad + 5
