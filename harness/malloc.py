"""glibc malloc thresholds that keep freed memory in the process for reuse; set when ``harness`` is imported.

Scoring a network allocates and frees tensors of a few MB thousands of times. Under glibc's adaptive
thresholds the heap is trimmed (its free top returned to the OS) whenever more than twice the largest
freed block lies free, and the next allocations fault those pages back in, zero-filled: 170k-300k page
faults per arch for the six zero-cost-nas proxies on this machine, 14% of their time when OpenMP threads
sleep while waiting (``OMP_WAIT_POLICY=PASSIVE``; no difference measured under OpenMP's default spinning).
Fixed thresholds keep freed memory in the heap, so the process's RSS stays at its peak instead of shrinking.
"""

from __future__ import annotations

import ctypes
import os
import platform

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt parameters, from glibc's malloc.h
MMAP_THRESHOLD = 32 << 20  # glibc's ceiling for its adaptive value; larger blocks are still mmapped
TRIM_THRESHOLD = 1 << 30  # free heap kept before trimming (mallopt takes a C int)
GLIBC_SETTINGS = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_")
DASK_NANNY_TRIM = "65536"  # what Dask's nanny puts in MALLOC_TRIM_THRESHOLD_ for its workers by default


def user_malloc_settings(dask_worker: bool = False) -> bool:
    """Whether the environment sets glibc's malloc thresholds itself (its variables or tunables). In a Dask
    worker, the nanny's default trim setting is not the user's: it switches glibc's adaptive thresholds off,
    so that every large tensor is mmapped and zero-filled afresh (scoring ran 2-3x slower)."""
    env = {k: os.environ[k] for k in GLIBC_SETTINGS if k in os.environ}
    if dask_worker and env.get("MALLOC_TRIM_THRESHOLD_") == DASK_NANNY_TRIM:
        del env["MALLOC_TRIM_THRESHOLD_"]
    return bool(env) or "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", "")


def keep_freed_memory(dask_worker: bool = False) -> None:
    """Fix the thresholds, on glibc and unless the user set them (the test checks the effect: mallopt's
    return value does not tell whether a parameter is known)."""
    if platform.libc_ver()[0] == "glibc" and not user_malloc_settings(dask_worker):
        libc = ctypes.CDLL(None)
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
