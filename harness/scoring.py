"""Scoring archs with zero-cost proxies: one proxy with its cost (time, peak memory), several with shared
passes, and relative proxies (vote) over a batch of archs.

Nets are built fresh from (arch, seed) on every call (``harness.networks``), so a score is reproducible; the
batch's protocol (``Batch.protocol``) says how the net is built and which images each arch sees.
On CUDA out-of-memory the batch is split into more chunks and the passes accumulate over them, as
zero-cost-nas's ``find_measures`` does (``split_data``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import torch
import torch.nn.functional as F

from harness.images import Batch
from harness.meter import Meter, time_limit
from harness.networks import build_network
from harness.proxies import REGISTRY as PROXIES
from harness.proxies import Passes, Proxy, RelativeProxy, get_proxy
from harness.spaces import Arch, SearchSpace
from harness.store import ResultStore, Row, ScoreKey

T = TypeVar("T")


@dataclass(frozen=True)
class ScoreResult:
    """A proxy value with its cost: wall seconds (CUDA-synchronised; NaN when not timed), peak tensor memory
    in bytes above the call's start, the net included (``harness.meter``; None when not measured), and the
    device it ran on."""

    value: float
    seconds: float
    peak_mem_bytes: int | None
    device: str


def score(proxy_name: str, space: SearchSpace, arch: Arch, dataset: str, batch: Batch, seed: int = 0,
          device: str = "cpu", time: bool = True, memory: bool = False,
          include_build: bool = False) -> ScoreResult:
    """One per-arch proxy on ``arch``'s freshly built net; building is timed only with ``include_build``.
    On CPU, ``time`` and ``memory`` exclude each other (tracing allocations slows the code)."""
    proxy = _per_arch(proxy_name)
    dev = check_device(device)
    data = _for_dataset(batch, dataset).for_arch(space.index(arch)).to(dev)
    with Meter(dev, time, memory) as meter:
        if not include_build:
            meter.pause()
        net = build_network(space, arch, dataset, seed, dev, batch.protocol)
        meter.resume()
        value = _split_on_oom(lambda split: proxy(net, data.inputs, data.targets, F.cross_entropy, split),
                              len(data), dev, meter.restart_memory)
    return ScoreResult(value, meter.seconds, meter.peak_bytes, str(dev))


@dataclass(frozen=True)
class Failure:
    """A proxy that raised, returned a non-number or ran past its time limit on one arch (its value: NaN)."""

    proxy: str
    arch: int
    reason: str


def score_all(space: SearchSpace, arch: Arch, proxies: Sequence[str], dataset: str, batch: Batch,
              seed: int = 0, device: str = "cpu", failures: list[Failure] | None = None,
              time_limit_s: float | None = None) -> dict[str, float]:
    """Several per-arch proxies of one arch, sharing passes; each value equals ``score`` of it alone.

    With a ``failures`` list, a proxy that raises, returns a non-number or takes more than ``time_limit_s``
    scores NaN and its reason is appended, and the other proxies go on; without, the error propagates.
    """
    chosen = {name: _per_arch(name) for name in _names(proxies)}
    dev = check_device(device)
    index = space.index(arch)
    data = _for_dataset(batch, dataset).for_arch(index).to(dev)
    net = build_network(space, index, dataset, seed, dev, batch.protocol)
    needs = set().union(*(p.needs for p in chosen.values())) if chosen else set()

    def run(split: int) -> tuple[dict[str, float], list[Failure]]:
        passes = Passes(net, data.inputs, data.targets, F.cross_entropy, needs, split)
        values, failed = {}, []
        for name, proxy in chosen.items():
            if failures is None:
                values[name] = proxy.evaluate(passes)
                continue
            try:
                with time_limit(time_limit_s, f"proxy {name} on arch {index}"):
                    values[name] = proxy.evaluate(passes)
            except torch.cuda.OutOfMemoryError:
                raise  # the batch is split and every proxy runs again
            except Exception as exc:  # a proxy's own error ends its value, not the run  # noqa: BLE001
                values[name] = math.nan
                failed.append(Failure(name, index, f"{type(exc).__name__}: {exc}"))
        return values, failed

    values, failed = _split_on_oom(run, len(data), dev)
    if failures is not None:
        failures.extend(failed)
    return values


def score_batch(space: SearchSpace, archs: Sequence[Arch], proxies: Sequence[str], dataset: str,
                batch: Batch, seed: int = 0, device: str = "cpu", store: ResultStore | None = None,
                failures: list[Failure] | None = None,
                time_limit_s: float | None = None) -> dict[str, np.ndarray]:
    """Proxies over several archs, relative ones (``vote``) included: {name: scores in ``archs`` order}.

    With a ``store``, scores it holds for the same key are reused and the missing ones are computed (with
    ``score_all``, which gives the same values for any subset of proxies) and written as each arch finishes;
    a failed score (``failures``, see ``score_all``) is not written, so a later run tries it again.
    """
    registered = {name: get_proxy(name) for name in _names(proxies)}
    check_device(device)
    _for_dataset(batch, dataset)
    per_arch = list(dict.fromkeys(
        m for name, p in registered.items()
        for m in (p.members if isinstance(p, RelativeProxy) else (name,))
    ))
    indices = [space.index(a) for a in archs]
    keys = {m: score_key(m, space, dataset, batch, seed, str(device)) for m in per_arch}
    cached = {m: store.get_many(keys[m], indices) if store else {} for m in per_arch}
    rows = []
    for a in indices:
        row = {m: cached[m][a] for m in per_arch if a in cached[m]}
        missing = [m for m in per_arch if m not in row]
        if missing:
            failed: list[Failure] = []
            fresh = score_all(space, a, missing, dataset, batch, seed, device,
                              None if failures is None else failed, time_limit_s)
            if failures is not None:
                failures.extend(failed)
            if store is not None:
                broken = {f.proxy for f in failed}
                store.put_many([Row(keys[m], a, v) for m, v in fresh.items() if m not in broken])
            row.update(fresh)
        rows.append(row)
    columns = {m: np.array([r[m] for r in rows], dtype=np.float64) for m in per_arch}
    return {name: (p.combine(columns) if isinstance(p, RelativeProxy) else columns[name])
            for name, p in registered.items()}


def per_network(name: str) -> Proxy:
    """What scoring one network costs ``name``, as a Proxy to time: the proxy itself, or for a relative proxy
    (vote) its members' shared passes, evaluated together (the value, a sum, is not used)."""
    proxy = get_proxy(name)
    if isinstance(proxy, Proxy):
        return proxy
    members = [_per_arch(m) for m in proxy.members]
    return Proxy(name, lambda passes: sum(m.evaluate(passes) for m in members),
                 frozenset().union(*(m.needs for m in members)))


def peak_memory(name: str, space: SearchSpace, arch: Arch, dataset: str, batch: Batch, seed: int = 0,
                device: str = "cpu") -> int:
    """Peak tensor memory (bytes) of scoring one freshly built network with ``name``; a relative proxy's is its
    costliest member's (each member scored alone)."""
    proxy = get_proxy(name)
    members = proxy.members if isinstance(proxy, RelativeProxy) else (name,)
    return max(score(m, space, arch, dataset, batch, seed, device, time=False, memory=True).peak_mem_bytes or 0
               for m in members)


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
    _for_dataset(batch, dataset)
    found = {}
    for name in proxies:
        got = store.get_many(score_key(name, space, dataset, batch, seed, device), archs)
        if len(got) == len(archs):
            found[name] = np.array([got[a] for a in archs], dtype=np.float64)
    return found


def score_key(proxy: str, space: SearchSpace, dataset: str, batch: Batch, seed: int = 0,
              device: str = "cpu") -> ScoreKey:
    """The store key of ``proxy``'s scores: the conditions, and the version of the code computing it (a
    plugin's own version included, so a changed plugin never reuses stored scores)."""
    return ScoreKey.for_batch(proxy, space.name, dataset, batch, seed, device,
                              code_version=PROXIES.origin(proxy).version)


def _names(proxies: Sequence[str]) -> Sequence[str]:
    if isinstance(proxies, str):  # a lone name would be read letter by letter
        raise TypeError(f"proxies is a list of names; got the string {proxies!r} (use [{proxies!r}])")
    return proxies


def _for_dataset(batch: Batch, dataset: str) -> Batch:
    """``batch``, if it was loaded for ``dataset``: another dataset's batch has other normalisation, image
    size or label range, and scores from it would be silently wrong (or fail deep inside the loss)."""
    if batch.dataset != dataset:
        raise ValueError(f"the batch was loaded for {batch.dataset} ({batch.source}) and the network is "
                         f"built for {dataset}: load_batch({dataset!r}, ...)")
    return batch


def _per_arch(name: str) -> Proxy:
    proxy = get_proxy(name)
    if isinstance(proxy, Proxy):
        return proxy
    raise ValueError(f"proxy {name!r} compares archs and has no per-arch value: use score_batch with "
                     f"two or more archs")


def _split_on_oom(run: Callable[[int], T], n: int, device: torch.device,
                  on_retry: Callable[[], None] = lambda: None) -> T:
    """``run(split)`` while CUDA runs out of memory, each retry on the smallest divisor of the batch at least
    twice the last split (equal chunks, as zero-cost-nas's ``split_data``, so every image weighs the same),
    up to one image per chunk."""
    split = 1
    while True:
        try:
            return run(split)
        except torch.cuda.OutOfMemoryError:
            if device.type != "cuda" or split >= n:
                raise
        # outside the handler, whose traceback would keep the failed attempt's tensors alive
        split = next(d for d in range(min(2 * split, n), n + 1) if n % d == 0)
        torch.cuda.empty_cache()
        on_retry()
