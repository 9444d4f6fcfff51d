"""Scoring archs with zero-cost proxies: one proxy with its cost (time, peak memory), several with shared
passes, and relative proxies (vote) over a batch of archs.

Nets are built fresh from (arch, seed) on every call (``harness.networks``), so a score is reproducible.
On CUDA out-of-memory the batch is split into more chunks and the passes accumulate over them, as
zero-cost-nas's ``find_measures`` does (``split_data``).
"""

from __future__ import annotations

import threading
import time as _time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Self, TypeVar

import numpy as np
import psutil
import torch
import torch.nn.functional as F

from harness.images import Batch
from harness.networks import build_network
from harness.proxies import Proxy, RelativeProxy, get_proxy
from harness.proxies._passes import Passes
from harness.spaces import Arch, SearchSpace
from harness.store import ResultStore, Row, ScoreKey

T = TypeVar("T")


@dataclass(frozen=True)
class ScoreResult:
    """A proxy value with its cost: wall seconds (CUDA-synchronised), peak memory in bytes (CUDA: peak
    allocated during the call, net and batch included; CPU: peak growth of the process's resident memory,
    sampled every millisecond), and the device it ran on."""

    value: float
    seconds: float
    peak_mem_bytes: int
    device: str


def score(proxy_name: str, space: SearchSpace, arch: Arch, dataset: str, batch: Batch, seed: int = 0,
          device: str = "cpu", time: bool = True, include_build: bool = False) -> ScoreResult:
    """One per-arch proxy on ``arch``'s freshly built net; building is timed only with ``include_build``."""
    proxy = _per_arch(proxy_name)
    dev = torch.device(device)
    data = batch.to(dev)
    with _Meter(dev, time) as meter:
        if not include_build:
            meter.pause()
        net = build_network(space, arch, dataset, seed).to(dev)
        meter.resume()
        value = _split_on_oom(lambda split: proxy(net, data.inputs, data.targets, F.cross_entropy, split),
                              len(data), dev)
    return ScoreResult(value, meter.seconds, meter.peak_bytes, str(dev))


def score_all(space: SearchSpace, arch: Arch, proxies: Sequence[str], dataset: str, batch: Batch,
              seed: int = 0, device: str = "cpu") -> dict[str, float]:
    """Several per-arch proxies of one arch, sharing passes; each value equals ``score`` of it alone."""
    chosen = {name: _per_arch(name) for name in proxies}
    dev = torch.device(device)
    data = batch.to(dev)
    net = build_network(space, arch, dataset, seed).to(dev)
    needs = set().union(*(p.needs for p in chosen.values())) if chosen else set()

    def run(split: int) -> dict[str, float]:
        passes = Passes(net, data.inputs, data.targets, F.cross_entropy, needs, split)
        return {name: float(p.fn(passes)) for name, p in chosen.items()}

    return _split_on_oom(run, len(data), dev)


def score_batch(space: SearchSpace, archs: Sequence[Arch], proxies: Sequence[str], dataset: str,
                batch: Batch, seed: int = 0, device: str = "cpu",
                store: ResultStore | None = None) -> dict[str, np.ndarray]:
    """Proxies over several archs, relative ones (``vote``) included: {name: scores in ``archs`` order}.

    With a ``store``, scores it holds for the same key are reused and the missing ones are computed (with
    ``score_all``, which gives the same values for any subset of proxies) and written as each arch finishes.
    """
    registered = {name: get_proxy(name) for name in proxies}
    per_arch = list(dict.fromkeys(
        m for name, p in registered.items()
        for m in (p.members if isinstance(p, RelativeProxy) else (name,))
    ))
    indices = [space.index(a) for a in archs]
    keys = {m: ScoreKey.for_batch(m, space.name, dataset, batch, seed, str(device)) for m in per_arch}
    cached = {m: store.get_many(keys[m], indices) if store else {} for m in per_arch}
    rows = []
    for a in indices:
        row = {m: cached[m][a] for m in per_arch if a in cached[m]}
        missing = [m for m in per_arch if m not in row]
        if missing:
            fresh = score_all(space, a, missing, dataset, batch, seed, device)
            if store is not None:
                store.put_many([Row(keys[m], a, v) for m, v in fresh.items()])
            row.update(fresh)
        rows.append(row)
    columns = {m: np.array([r[m] for r in rows], dtype=np.float64) for m in per_arch}
    return {name: (p.combine(columns) if isinstance(p, RelativeProxy) else columns[name])
            for name, p in registered.items()}


def check_device(device: str) -> torch.device:
    """``device`` as a torch device this torch can use, or a clear error before any work starts (a sweep's
    workers would otherwise each fail deep inside)."""
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"device {device!r} is not a torch device ({exc}); use cpu, cuda or cuda:N") from None
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device {device!r}: the harness runs on cpu, cuda or cuda:N")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r}: CUDA is not available here (torch {torch.__version__}, "
                         f"built with CUDA {torch.version.cuda})")
    return dev


def stored_scores(store: ResultStore, space: SearchSpace, archs: Sequence[int], proxies: Sequence[str],
                  dataset: str, batch: Batch, seed: int = 0, device: str = "cpu") -> dict[str, np.ndarray]:
    """Read-only: each of ``proxies`` whose scores of every arch in ``archs`` the store holds, in ``archs``
    order (a proxy with any arch missing is left out; nothing is computed)."""
    found = {}
    for name in proxies:
        got = store.get_many(ScoreKey.for_batch(name, space.name, dataset, batch, seed, device), archs)
        if len(got) == len(archs):
            found[name] = np.array([got[a] for a in archs], dtype=np.float64)
    return found


def _per_arch(name: str) -> Proxy:
    proxy = get_proxy(name)
    if isinstance(proxy, Proxy):
        return proxy
    raise ValueError(f"proxy {name!r} compares archs and has no per-arch value: use score_batch with "
                     f"two or more archs")


def _split_on_oom(run: Callable[[int], T], n: int, device: torch.device) -> T:
    """``run(split)`` with split = 1, 2, ... (divisors of the batch) while CUDA runs out of memory."""
    split = 1
    while True:
        try:
            return run(split)
        except torch.cuda.OutOfMemoryError:
            if device.type != "cuda" or split >= n // 2:
                raise
            split += 1
            while n % split:
                split += 1
            torch.cuda.empty_cache()


class _CpuPeak:
    """Peak growth of the process's resident memory over a block. On Linux it is the kernel's own high-water
    mark (VmHWM), reset at the start through /proc/self/clear_refs, so nothing runs beside the timed code; a
    sampling thread (a 1 ms poller cost the timings ~4%) is only the fallback where /proc lacks that."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._rss0 = self._peak = self._process.memory_info().rss
        self._kernel = _reset_high_water_mark()
        self._stop = threading.Event()
        if not self._kernel:
            self._sampler = threading.Thread(target=self._sample, daemon=True)
            self._sampler.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self._peak = max(self._peak, self._process.memory_info().rss)

    def stop(self) -> int:
        if self._kernel:
            self._peak = max(self._peak, _high_water_mark())
        else:
            self._stop.set()
            self._sampler.join()
        return int(max(self._peak, self._process.memory_info().rss) - self._rss0)


def _reset_high_water_mark() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # 5: reset the peak RSS (Linux >= 4.0)
        return _high_water_mark() > 0
    except OSError:
        return False


def _high_water_mark() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


class _Meter:
    """Wall time and peak memory of a block, pausable (to leave out building the net)."""

    def __init__(self, device: torch.device, timed: bool):
        self.device, self.timed = device, timed
        self.seconds, self.peak_bytes = float("nan"), 0
        self._elapsed, self._started = 0.0, None
        self._cpu_peak: _CpuPeak | None = None

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def pause(self) -> None:
        self._sync()
        if self._started is not None:
            self._elapsed += _time.perf_counter() - self._started
            self._started = None

    def resume(self) -> None:
        self._sync()
        self._started = _time.perf_counter()

    def __enter__(self) -> Self:
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            self._cpu_peak = _CpuPeak()
        self.resume()
        return self

    def __exit__(self, *exc) -> None:
        self.pause()
        if self.timed:
            self.seconds = self._elapsed
        if self._cpu_peak is not None:
            self.peak_bytes = self._cpu_peak.stop()
        else:
            self.peak_bytes = int(torch.cuda.max_memory_allocated(self.device))
