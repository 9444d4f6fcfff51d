"""glibc malloc thresholds that keep freed memory in the process for reuse.

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
_GLIBC_SETTINGS = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_")


def user_malloc_settings() -> bool:
    """Whether the environment sets glibc's malloc thresholds itself (its variables or tunables)."""
    return (any(v in os.environ for v in _GLIBC_SETTINGS)
            or "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", ""))


def keep_freed_memory() -> bool:
    """Fix the thresholds (glibc only); returns whether they were set."""
    if platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(libc.mallopt(M_TRIM_THRESHOLD,
                                                                                      TRIM_THRESHOLD))
