"""nasbench-harness: zero-cost proxies and multi-trial searchers measured on NATS-Bench."""

import os

from harness.malloc import keep_freed_memory, user_malloc_settings

# OpenMP's wait policy is left to the user (and to torch's runtime default: spin briefly, then sleep), read
# once when torch loads OpenMP. On this 2-core machine, for the six zero-cost-nas proxies: alone, the default
# takes 1.01 s/arch and PASSIVE (threads sleep at once) 1.21 s; two such processes sharing the cores take
# 4.1 s/arch each under the default and 1.8 s under PASSIVE. So set OMP_WAIT_POLICY=PASSIVE where processes
# share cores; `make test` does, for the unit tests. An empty setting counts as unset.
#: The wait policy torch's OpenMP runtime started with in this process, as a label for benchmark output.
OMP_WAIT_POLICY = (os.environ.get("OMP_WAIT_POLICY", "").strip().upper()
                   or "the OpenMP runtime's default (spin, then sleep)")

#: Whether this process keeps freed memory for reuse (``harness.malloc``); a user's own glibc malloc
#: settings win.
MALLOC_KEEPS_FREED = not user_malloc_settings() and keep_freed_memory()

__version__ = "0.2.0"  # part of every stored score's key: bump when computed values change
