"""nasbench-harness: zero-cost proxies and multi-trial searchers measured on NATS-Bench."""

import os
import sys

# OpenMP's default spin-waiting makes torch's CPU kernels 3-30x slower whenever another process shares the
# cores (measured here: synflow+nwot 0.14 -> 4.5 s per arch on 2 busy cores; six proxies 2.0 s passive vs
# 7.0 s with even a short GOMP_SPINCOUNT=20000, two processes on 2 cores). Passive waiting costs 15-30% when
# nothing else runs (session 4: six proxies 1.24-1.32 vs 0.93-1.12 s): there, set OMP_WAIT_POLICY=ACTIVE.
# The runtime reads the variable once, when torch loads it, so this default only takes effect when the
# harness is imported first (the CLI, pytest, make); it is also inherited by child processes. A user's own
# non-empty setting wins.
_user_policy = os.environ.get("OMP_WAIT_POLICY", "").strip()
#: The wait policy torch's OpenMP runtime started with in this process, as a label for benchmark output.
OMP_WAIT_POLICY = _user_policy.upper() or (
    "the OpenMP runtime's default (spin, then sleep)" if "torch" in sys.modules else "PASSIVE")
if not _user_policy:
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

__version__ = "0.2.0"  # part of every stored score's key: bump when computed values change
