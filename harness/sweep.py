"""Full-space proxy sweeps that fill a ``ResultStore`` and resume where they stopped.

A sweep plans from the store (only the (arch, proxy) pairs it lacks), sends one unit of work per arch (all its
missing proxies in one ``score_all`` call, on the sweep's single image batch) to local worker processes or a
Dask cluster, and writes each arch's scores from this process as they arrive, in one transaction. Killed at
any moment, a sweep loses at most the archs in flight; started again, it computes exactly what is missing.
A proxy that raises on one arch (or warns that its value is degenerate) gets a NaN there, stored like any
score, and the reason is counted in the report: one arch never stops a sweep of thousands.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import functools
import math
import multiprocessing
import os
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from tqdm import tqdm

from harness.errors import DegenerateWarning, check_seed
from harness.malloc import keep_freed_memory
from harness.plugins import load_plugins
from harness.spaces import SearchSpace, fixed_sample
from harness.store import ResultStore, Row, ScoreKey

IN_FLIGHT_PER_WORKER = 2  # enough to keep a worker busy while its last result travels back


def parse_archs(spec: str, space: SearchSpace, data: str | os.PathLike[str] | None = None) -> list[int]:
    """``all``, ``N`` (the first N indices), ``a-b`` (indices a to b, both included), ``sample:N`` (the
    suites' fixed seeded sample of N archs, so a sweep fills the store the suites read) or ``reference``
    (the TSS archs of the reference scores, so our scores can be checked against them)."""
    size = space.size
    text = spec.strip()
    if text == "reference":
        from harness.bench.reference import REFERENCE_SPACE, reference_archs

        if space.name != REFERENCE_SPACE:
            raise ValueError(f"--archs reference: the reference scores cover {REFERENCE_SPACE} archs only")

        return reference_archs(data)
    if text == "all":
        return list(range(size))
    if text.startswith("sample:"):
        return [int(i) for i in fixed_sample(space, _archs_int(text.removeprefix("sample:"), spec))]
    if "-" in text:
        first, last = (_archs_int(part, spec) for part in text.split("-", 1))
    else:
        count = _archs_int(text, spec)
        if not 1 <= count <= size:
            raise ValueError(f"--archs {spec!r}: a count of archs must be in 1..{size} for {space.name}")
        first, last = 0, count - 1
    if not 0 <= first <= last < size:
        raise ValueError(f"--archs {spec!r}: {space.name} indices run from 0 to {size - 1}, "
                         "and a range needs first <= last")
    return list(range(first, last + 1))


def _archs_int(part: str, spec: str) -> int:
    try:
        return int(part)
    except ValueError:
        raise ValueError(f"--archs {spec!r}: expected 'all', a count N, a range a-b, sample:N "
                         "or reference") from None


def parse_proxies(spec: str) -> tuple[str, ...]:
    """``all`` (every per-arch proxy) or a comma-separated list of them. Relative proxies (``vote``) have no
    per-arch score to store: they are combined later from their members' stored scores."""
    from harness.proxies import RelativeProxy, get_proxy, proxy_names

    if spec.strip() == "all":
        return tuple(n for n in proxy_names() if not isinstance(get_proxy(n), RelativeProxy))
    names = tuple(dict.fromkeys(p.strip() for p in spec.split(",") if p.strip()))
    if not names:
        raise ValueError("--proxies: give 'all' or at least one proxy name")
    relative = [n for n in names if isinstance(get_proxy(n), RelativeProxy)]  # unknown names raise here
    if relative:
        members = sorted({m for n in relative for m in get_proxy(n).members})
        raise ValueError(f"relative proxies ({', '.join(relative)}) compare archs and have no per-arch score "
                         f"to sweep; sweep their members ({', '.join(members)}) and combine their stored "
                         "scores")
    return names


@dataclass(frozen=True)
class Sweep:
    """What to score: every proxy of ``proxies`` on every arch of ``archs``, on one batch."""

    space: SearchSpace
    dataset: str
    proxies: tuple[str, ...]
    archs: tuple[int, ...]
    seed: int = 0
    device: str = "cpu"
    plugins: tuple[str, ...] = ()  # plugin modules / files the workers load too (``--plugins``)

    def __post_init__(self) -> None:
        from harness.scoring import check_device  # torch-heavy: only once a sweep is built

        check_device(self.device)  # here, not in every worker, where it would fail deep inside
        check_seed(self.seed)

    def keys(self, batch) -> dict[str, ScoreKey]:
        """Store key per proxy (the torch and code versions are this process's; workers must match them)."""
        from harness.scoring import score_key

        return {p: score_key(p, self.space, self.dataset, batch, self.seed, self.device) for p in self.proxies}


@dataclass(frozen=True)
class Unit:
    """One arch and the proxies it still lacks."""

    arch: int
    proxies: tuple[str, ...]


def plan(store: ResultStore, keys: dict[str, ScoreKey], archs: Sequence[int]) -> list[Unit]:
    """The units a sweep must compute: archs (in order) with at least one proxy missing from the store."""
    missing = {p: set(store.missing(key, archs)) for p, key in keys.items()}
    units = []
    for arch in dict.fromkeys(archs):
        lacking = tuple(p for p in keys if arch in missing[p])
        if lacking:
            units.append(Unit(arch, lacking))
    return units


@dataclass(frozen=True)
class SweepReport:
    """What one run did: ``duplicates`` counts scores another writer stored first (0 when alone)."""

    total_archs: int
    done_before: int
    computed_archs: int
    written: int
    duplicates: int
    seconds: float
    nan_reasons: dict[str, int] = field(default_factory=dict)  # "proxy: why" -> scores that became NaN

    def summary(self) -> str:
        raced = f" ({self.duplicates} more had meanwhile been written by another process)" if self.duplicates else ""
        nan = ""
        if self.nan_reasons:
            nan = f"; {sum(self.nan_reasons.values())} scores are NaN: " + "; ".join(
                f"{n} x {why}" for why, n in sorted(self.nan_reasons.items(), key=lambda kv: -kv[1]))
        return (f"{self.total_archs} archs: {self.done_before} already complete, computed {self.computed_archs}, "
                f"wrote {self.written} scores{raced} in {self.seconds:.1f} s{nan}")


# -- work done in workers --------------------------------------------------------------------------------

Shared = tuple[SearchSpace, object, tuple[str, ...]]  # (space, batch, plugins) of a sweep, sent once per worker
_WORKER_SHARED: Shared | None = None


def _init_local_worker(shared: Shared, client_pid: int) -> None:
    """Each local worker keeps the sweep's space, batch and plugins, and one thread: the parallelism is
    across processes."""
    global _WORKER_SHARED
    _WORKER_SHARED = shared
    load_plugins(shared[2])
    threading.Thread(target=_exit_with_client, args=(client_pid,), daemon=True).start()
    import torch

    torch.set_num_threads(1)


def _exit_with_client(client_pid: int) -> None:
    """A client killed with SIGKILL cannot stop its workers, and they would idle forever: they watch it."""
    while os.getppid() == client_pid:
        time.sleep(1)
    os._exit(1)


# arch, {proxy: score}, (torch version, {proxy: code version}), {proxy: why its score is NaN}
Result = tuple[int, dict[str, float], tuple[str, dict[str, str]], dict[str, str]]
_REASON_CHARS = 200


def _reason(exc_or_warning: BaseException | Warning) -> str:
    text = f"{type(exc_or_warning).__name__}: {str(exc_or_warning).splitlines()[0] if str(exc_or_warning) else ''}"
    return text if len(text) <= _REASON_CHARS else text[:_REASON_CHARS - 3] + "..."


def _score_or_nan(space: SearchSpace, arch: int, proxies: Sequence[str], dataset: str, batch, seed: int,
                  device: str) -> tuple[dict[str, float], dict[str, str]]:
    """The unit's scores from one ``score_all``; if it raises, each proxy alone, so that a failing proxy costs
    only its own score: NaN, with the reason. A DegenerateWarning is recorded as the reason too."""
    from harness.scoring import score_all

    def attempt(names: Sequence[str]) -> tuple[dict[str, float], dict[str, str]]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DegenerateWarning)
            scores = score_all(space, arch, list(names), dataset, batch, seed=seed, device=device)
        degenerate = [_reason(w.message) for w in caught if issubclass(w.category, DegenerateWarning)]
        for w in caught:
            if not issubclass(w.category, DegenerateWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return ({p: float(scores[p]) for p in names},
                {p: degenerate[0] for p in names if degenerate and math.isnan(scores[p])})

    with contextlib.suppress(Exception):  # any failure: each proxy alone, below
        return attempt(proxies)
    scores, reasons = {}, {}
    for p in proxies:
        try:
            one, why = attempt([p])
        except Exception as exc:  # noqa: BLE001 - recorded, counted and reported by the client
            one, why = {p: math.nan}, {p: _reason(exc)}
        scores |= one
        reasons |= why
    return scores, reasons


def score_unit(dataset: str, seed: int, device: str, unit: Unit, shared: Shared | None = None) -> Result:
    """Scores of one unit, with the worker's torch version and each proxy's code version, so the client can
    check its keys. ``shared`` is (space, batch, plugins), sent once per worker; None reads the local
    worker's copy."""
    import torch

    from harness.proxies import REGISTRY

    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)
    space, batch, plugins = _WORKER_SHARED if shared is None else shared
    load_plugins(plugins)  # a no-op once loaded
    scores, reasons = _score_or_nan(space, unit.arch, unit.proxies, dataset, batch, seed, device)
    versions = {p: REGISTRY.origin(p).version for p in unit.proxies}
    return unit.arch, scores, (torch.__version__, versions), reasons


def score_unit_on_dask(dataset: str, seed: int, device: str, unit: Unit, shared: Shared) -> Result:
    """``score_unit`` in a Dask worker, with the harness's malloc thresholds in place of the nanny's."""
    keep_freed_memory(dask_worker=True)
    return score_unit(dataset, seed, device, unit, shared)


# -- executors -------------------------------------------------------------------------------------------

Submit = Callable[..., cf.Future]  # submit(dataset, seed, device, unit) -> future of score_unit's result


def local_workers(workers: int | None = None) -> int:
    """The local worker count (default: one per usable core), or an error before any work starts."""
    if workers is None:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if workers < 1:
        raise ValueError(f"--workers must be at least 1, got {workers}")
    return workers


@contextmanager
def local_executor(shared: Shared, workers: int | None = None
                   ) -> Iterator[tuple[Submit, int]]:
    """``(submit, slots)`` over ``workers`` spawned processes (default: one per core). Spawned, not forked,
    because a fork of a process that already ran torch can hang in its thread pools."""
    workers = local_workers(workers)
    pool = cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                  initializer=_init_local_worker, initargs=(shared, os.getpid()))
    try:
        yield functools.partial(pool.submit, score_unit), workers * IN_FLIGHT_PER_WORKER
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def dask_executor(shared: Shared, scheduler: str) -> Iterator[tuple[Submit, int]]:
    """``(submit, slots)`` on the Dask cluster at ``scheduler`` (tcp://host:port); the space and batch go to
    every worker once and results come back here. Workers need this harness and the same torch installed."""
    from distributed import Client

    try:
        client = Client(scheduler, set_as_default=False, timeout="20s")
    except OSError as exc:
        raise ValueError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
    try:
        try:
            client.wait_for_workers(1, timeout=60)
        except TimeoutError:
            raise ValueError(f"the Dask scheduler at {scheduler} has had no worker for 60 s") from None
        scattered = client.scatter(shared, broadcast=True)
        executor = client.get_executor(pure=False)
        threads = sum(client.nthreads().values())
        submit = functools.partial(executor.submit, score_unit_on_dask, shared=scattered)
        yield submit, threads * IN_FLIGHT_PER_WORKER
    finally:
        client.close()


@contextmanager
def open_executor(shared: Shared, workers: int | None = None, scheduler: str | None = None
                  ) -> Iterator[tuple[Submit, int]]:
    """A Dask cluster when ``scheduler`` is given, else local processes."""
    if scheduler:
        with dask_executor(shared, scheduler) as ex:
            yield ex
    else:
        with local_executor(shared, workers) as ex:
            yield ex


# -- the sweep -------------------------------------------------------------------------------------------

def run_sweep(store: ResultStore, sweep: Sweep, batch, workers: int | None = None,
              scheduler: str | None = None, progress: bool = True) -> SweepReport:
    """Compute what the store lacks for ``sweep`` (on local processes, or the Dask cluster at ``scheduler``)
    and write it; the executor starts only when something is missing."""
    start = time.perf_counter()
    keys = sweep.keys(batch)
    units = plan(store, keys, sweep.archs)
    total = len(dict.fromkeys(sweep.archs))
    written = expected = 0
    nan_reasons: Counter[str] = Counter()
    with tqdm(total=total, initial=total - len(units), unit="arch", disable=not progress,
              desc=f"{sweep.space.name} {sweep.dataset}", dynamic_ncols=True) as bar:
        if units:
            with open_executor((sweep.space, batch, sweep.plugins), workers, scheduler) as executor:
                for unit, (arch, scores, versions, reasons) in _results(sweep, units, executor):
                    _check_result(unit, arch, scores, versions, keys)
                    written += store.put_many(Row(keys[p], arch, v) for p, v in scores.items())
                    expected += len(scores)
                    nan_reasons.update(f"{p}: {why}" for p, why in reasons.items())
                    bar.update(1)
    return SweepReport(total_archs=total, done_before=total - len(units), computed_archs=len(units),
                       written=written, duplicates=expected - written, seconds=time.perf_counter() - start,
                       nan_reasons=dict(nan_reasons))


def _results(sweep: Sweep, units: Sequence[Unit],
             executor: tuple[Submit, int]) -> Iterator[tuple[Unit, Result]]:
    """Each unit with its result as it completes, keeping at most ``slots`` units in flight."""
    submit, slots = executor
    todo = iter(units)
    pending: dict[cf.Future, Unit] = {}

    def fill() -> None:
        for unit in todo:
            pending[submit(sweep.dataset, sweep.seed, sweep.device, unit)] = unit
            if len(pending) >= slots:
                return

    fill()
    while pending:
        finished, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
        for future in finished:
            unit = pending.pop(future)
            try:
                result = future.result()
            except Exception as exc:
                raise RuntimeError(f"scoring {sweep.space.name} arch {unit.arch} on {sweep.dataset} "
                                   f"({', '.join(unit.proxies)}) failed: {exc}") from exc
            yield unit, result
        fill()


def _check_result(unit: Unit, arch: int, scores: dict[str, float], versions: tuple[str, dict[str, str]],
                  keys: dict[str, ScoreKey]) -> None:
    """A worker with another torch or harness would file scores under the wrong key: refuse them."""
    if arch != unit.arch or set(scores) != set(unit.proxies):
        raise RuntimeError(f"worker returned arch {arch} with {sorted(scores)} for arch {unit.arch} "
                           f"with {sorted(unit.proxies)}")
    torch_version, code_versions = versions
    pairs = [("torch", torch_version, next(iter(keys.values())).torch_version)]
    pairs += [(f"{p}'s code", code_versions.get(p), keys[p].harness_version) for p in unit.proxies]
    for what, worker, client in pairs:
        if worker != client:
            raise RuntimeError(f"a worker runs {what} {worker} but this client runs {what} {client}; "
                               f"scores are keyed by the {what} version, so workers must match the client")
