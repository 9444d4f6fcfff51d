"""Zero-cost proxies: how well each ranks a fixed arch sample against the ground truth (the 200-epoch test
accuracy on TSS; SSS holds only the 90-epoch validation accuracy), and how long it takes on one network.

One case per proxy x space x dataset x device x seed (the seed draws the minibatch and the initial
weights). The scores come from the session's score cache; pytest-benchmark times the proxy alone on the
sample's first network (built once, outside the timer), with a timer that synchronises CUDA on cuda rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

from harness.baselines import proxy_record
from harness.meter import cuda_synchronized_timer
from harness.networks import build_network
from harness.protocol import DEFAULT as DEFAULT_PROTOCOL
from harness.proxies import Proxy, get_proxy
from harness.pytest_plugin import suite_config
from harness.scoring import peak_memory, per_network


@dataclass(frozen=True)
class ProxyCase:
    proxy: str
    space: str
    dataset: str
    device: str
    seed: int
    protocol: str = DEFAULT_PROTOCOL

    @property
    def id(self) -> str:
        protocol = "" if self.protocol == DEFAULT_PROTOCOL else f"-{self.protocol}"
        return f"{self.proxy}-{self.space}-{self.dataset}-{self.device}-s{self.seed}{protocol}"


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
    cases = [ProxyCase(proxy, space, dataset, device, seed, suite.protocol)
             for space in suite.proxy_spaces for dataset in suite.datasets for device in suite.devices
             for seed in suite.seeds for proxy in suite.proxies]
    metafunc.parametrize("proxy_case", [pytest.param(c, id=c.id, marks=_device_marks(c.device)) for c in cases])


def test_proxy(proxy_case: ProxyCase, benchmark, suite, oracles, batches, score_cache) -> None:
    case = proxy_case
    oracle = oracles(case.space)
    archs = score_cache.archs(case.space)
    scores = score_cache.scores(case.space, case.dataset, case.seed, case.device)[case.proxy]
    metric, epochs = oracle.space.reported
    accuracies = oracle.accuracies(case.dataset, metric, epochs)[archs]

    failures = score_cache.failures(case.space, case.dataset, case.seed, case.device, case.proxy)
    working = [int(a) for a in archs if int(a) not in failures]
    if not working:
        pytest.fail(f"{case.proxy} failed on every arch: {next(iter(failures.values()))}")

    # Time the proxy on the first network it scored, built once (passes leave the network unchanged).
    arch = working[0]
    batch = batches(case.dataset, case.seed).for_arch(arch).to(case.device)
    net = build_network(oracle.space, arch, case.dataset, case.seed, case.device, batch.protocol)
    value = benchmark.pedantic(per_network(case.proxy), args=(net, batch.inputs, batch.targets),
                               rounds=suite.timing_rounds, warmup_rounds=1)
    peak = peak_memory(case.proxy, oracle.space, arch, case.dataset, batches(case.dataset, case.seed), case.seed,
                       case.device)

    record = proxy_record(case.proxy, case.space, case.dataset, case.device, case.seed, archs, scores,
                          accuracies, batches(case.dataset, case.seed).source, f"{metric}@{epochs}",
                          batch_size=len(batch), protocol=batch.protocol.key,
                          seconds_per_arch=benchmark.stats.stats.median, peak_mem_bytes=peak, errors=failures)
    benchmark.extra_info.update(record)

    assert len(record["scores"]) == len(archs)
    assert not failures, (f"{case.proxy} failed on {len(failures)} of {len(archs)} archs (scored NaN): "
                          + "; ".join(f"arch {a}: {r}" for a, r in list(failures.items())[:3]))
    if isinstance(get_proxy(case.proxy), Proxy):  # the timed computation is the ranked one; a score read from a store
        # may come from a sweep worker's single thread, and GraSP's cancelling float32 sum then differs ~1e-4
        rel = 1e-3 if suite.store is not None else 1e-5
        assert value == pytest.approx(scores[list(archs).index(arch)], rel=rel, nan_ok=True)
