"""Wall time and peak tensor memory of a block of torch work, the same quantity on CPU and CUDA.

Peak memory is the most tensor memory torch's allocator held during the block above what it held at the
start. CUDA keeps that count itself (``max_memory_allocated``). On CPU there is no such counter, and the
process's resident memory is no substitute: once the C allocator holds freed pages, a warmed-up process
reuses them and its RSS barely grows (a GraSP call measured 1.5 GB in a fresh process and 1 MB after
warm-up). So on CPU the allocations are traced through torch's profiler (``profile_memory``), which costs
the traced code about 10%: that is why CPU time and CPU memory are measured in separate calls.
"""

from __future__ import annotations

import signal
import threading
import time as _time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Self

import torch
from torch.profiler import ProfilerActivity, profile


class Meter:
    """Times a block (CUDA-synchronised; pausable, to leave out building the net) and/or records its peak
    tensor memory. ``seconds`` is NaN when not timed and ``peak_bytes`` None when memory is not measured."""

    def __init__(self, device: torch.device, time: bool = True, memory: bool = False):
        if time and memory and device.type == "cpu":
            raise ValueError("measure CPU time and CPU memory in separate calls: tracing CPU allocations runs "
                             "torch's profiler, which slows the timed code")
        self.device, self.timed, self.memory = device, time, memory
        self.seconds = float("nan")
        self.peak_bytes: int | None = None
        self._elapsed, self._started = 0.0, None
        self._cuda_start = 0
        self._profiler: profile | None = None

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

    def restart_memory(self) -> None:
        """Forget the CUDA peak so far, keeping the start level (an out-of-memory attempt retried on a split
        batch: what it held is freed, and the peak that counts is the attempt that fits)."""
        if self.memory and self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)

    def __enter__(self) -> Self:
        if self.memory and self.device.type == "cuda":
            self._cuda_start = torch.cuda.memory_allocated(self.device)  # the allocator's count: no sync needed
            self.restart_memory()
        elif self.memory:
            if torch.autograd._profiler_enabled():  # a nested trace would leave one of the two empty
                raise RuntimeError("CPU memory is traced with torch's profiler, and another profiler is "
                                   "running: measure memory outside it")
            self._profiler = profile(activities=[ProfilerActivity.CPU], profile_memory=True)
            self._profiler.__enter__()
        self.resume()
        return self

    def __exit__(self, *exc) -> None:
        self.pause()
        if self.timed:
            self.seconds = self._elapsed
        if self._profiler is not None:
            self._profiler.__exit__(*exc)
            self.peak_bytes = peak_traced_bytes(self._profiler)
        elif self.memory:
            self.peak_bytes = int(torch.cuda.max_memory_allocated(self.device)) - self._cuda_start


def peak_traced_bytes(prof: profile) -> int:
    """Highest running total of the CPU allocations and frees a ``profile_memory`` trace recorded, in time
    order (the trace's ``[memory]`` events, the ones torch's own "CPU Mem" columns are built from)."""
    recorded = list(prof.profiler.kineto_results.events())
    if not recorded:  # a profiler started inside the block takes the trace over
        raise RuntimeError("the memory trace is empty: was another profiler started inside the measured block?")
    events = [e for e in recorded if e.name() == "[memory]" and e.device_type() == torch.autograd.DeviceType.CPU]
    level = peak = 0
    for event in sorted(events, key=_start_ns):
        level += event.nbytes()
        peak = max(peak, level)
    return peak


def _start_ns(event: object) -> int:
    """When a profiler event started. Older torch gives only microseconds (``start_us``): allocations and
    frees within one microsecond then keep the trace's order."""
    return event.start_ns() if hasattr(event, "start_ns") else event.start_us() * 1000


class TimeLimitExceeded(Exception):
    """A call ran past its time limit."""


@contextmanager
def time_limit(seconds: float | None, what: str) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (SIGALRM, so only in the main thread; elsewhere the block runs
    to its end and an overrun is raised after it). None: no limit."""
    if not seconds:
        yield
        return
    start = _time.perf_counter()
    message = f"{what} took more than {seconds:g} s"
    if threading.current_thread() is threading.main_thread():
        def expire(signum: int, frame: object) -> None:
            raise TimeLimitExceeded(message)

        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    else:
        yield
    if _time.perf_counter() - start > seconds:
        raise TimeLimitExceeded(message)


def cuda_synchronized_timer() -> float:
    """perf_counter after the queued CUDA work has finished, so a timed round covers the kernels, not their
    launch (pytest-benchmark's ``timer`` on cuda rows)."""
    torch.cuda.synchronize()
    return _time.perf_counter()
