"""Zero-cost proxies: how well each ranks a fixed arch sample against the ground truth (the 200-epoch test
accuracy on TSS; SSS holds only the 90-epoch validation accuracy), and how long it takes on one network.

One case per proxy x space x dataset x device x seed (the seed draws the minibatch and the initial
weights). The scores come from the session's score cache; pytest-benchmark times the proxy alone on the
sample's first network (built once, outside the timer), with a timer that synchronises CUDA on cuda rows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
import torch

from harness.baselines import proxy_record
from harness.networks import build_network
from harness.proxies import Proxy, RelativeProxy, get_proxy
from harness.pytest_plugin import suite_config
from harness.runner import reported_metric
from harness.scoring import score


@dataclass(frozen=True)
class ProxyCase:
    proxy: str
    space: str
    dataset: str
    device: str
    seed: int

    @property
    def id(self) -> str:
        return f"{self.proxy}-{self.space}-{self.dataset}-{self.device}-s{self.seed}"


def cuda_synchronized_timer() -> float:
    """perf_counter after the queued CUDA work has finished, so a round times the kernels, not their launch."""
    torch.cuda.synchronize()
    return time.perf_counter()


def _device_marks(device: str) -> list[pytest.MarkDecorator]:
    if device != "cuda":
        return []
    reason = (f"cuda row: torch.cuda.is_available() is False (torch {torch.__version__}, "
              f"built with CUDA {torch.version.cuda})")
    return [pytest.mark.skipif(not torch.cuda.is_available(), reason=reason),
            pytest.mark.benchmark(timer=cuda_synchronized_timer)]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "proxy_case" not in metafunc.fixturenames:
        return
    suite = suite_config(metafunc.config)
    # Ordered so that the cases sharing one score-cache entry run one after another.
    cases = [ProxyCase(proxy, space, dataset, device, seed)
             for space in suite.proxy_spaces for dataset in suite.datasets for device in suite.devices
             for seed in suite.seeds for proxy in suite.proxies]
    metafunc.parametrize("proxy_case", [pytest.param(c, id=c.id, marks=_device_marks(c.device)) for c in cases])


def timed_proxy(proxy: Proxy | RelativeProxy) -> Proxy:
    """What one network costs a proxy. A relative proxy (vote) has no per-arch value; its per-network cost
    is its members' shared passes, timed as one Proxy whose value (a sum) is not used."""
    if isinstance(proxy, Proxy):
        return proxy
    members = [get_proxy(m) for m in proxy.members]
    needs = frozenset().union(*(m.needs for m in members))
    return Proxy(proxy.name, lambda passes: sum(m.fn(passes) for m in members), needs)


def test_proxy(proxy_case: ProxyCase, benchmark, suite, oracles, batches, score_cache) -> None:
    case = proxy_case
    oracle = oracles(case.space)
    archs = score_cache.archs(case.space)
    scores = score_cache.scores(case.space, case.dataset, case.seed, case.device)[case.proxy]
    metric, epochs = reported_metric(oracle)
    accuracies = oracle.accuracies(case.dataset, metric, epochs)[archs]

    # Time the proxy on the sample's first network, built once (passes leave the network unchanged).
    batch = batches(case.dataset, case.seed).to(case.device)
    arch = int(archs[0])
    net = build_network(oracle.space, arch, case.dataset, case.seed, case.device)
    registered = get_proxy(case.proxy)
    value = benchmark.pedantic(timed_proxy(registered), args=(net, batch.inputs, batch.targets),
                               rounds=suite.timing_rounds, warmup_rounds=1)
    members = [case.proxy] if isinstance(registered, Proxy) else registered.members
    peak = max(score(m, oracle.space, arch, case.dataset, batch, case.seed, case.device, time=False,
                     memory=True).peak_mem_bytes
               for m in members)

    record = proxy_record(case.proxy, case.space, case.dataset, case.device, case.seed, archs, scores,
                          accuracies, batch.source, f"{metric}@{epochs}", batch_size=len(batch),
                          seconds_per_arch=benchmark.stats.stats.median, peak_mem_bytes=peak)
    benchmark.extra_info.update(record)

    assert len(record["scores"]) == len(archs)
    if isinstance(registered, Proxy):  # the timed computation is the ranked one; a score read from a store
        # may come from a sweep worker's single thread, and GraSP's cancelling float32 sum then differs ~1e-4
        rel = 1e-3 if suite.store is not None else 1e-5
        assert value == pytest.approx(scores[0], rel=rel, nan_ok=True)
