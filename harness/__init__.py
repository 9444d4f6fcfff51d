"""nasbench-harness: zero-cost proxies and multi-trial searchers measured on NATS-Bench."""

import os
import sys

# OpenMP's default spin-waiting makes torch's CPU kernels 3-30x slower whenever another process shares the
# cores (measured here: synflow+nwot 0.14 -> 4.5 s per arch on 2 busy cores; six proxies 2.0 s passive vs
# 7.0 s with even a short GOMP_SPINCOUNT=20000, two processes on 2 cores). Passive waiting costs 15-25% on a
# dedicated machine: set OMP_WAIT_POLICY=ACTIVE there. It must be set before torch starts its OpenMP
# runtime (libgomp reads it when torch loads it); a user's own setting wins.
#: The wait policy torch's OpenMP runtime started with in this process: the user's setting, else PASSIVE
#: when the harness was imported before torch, else libgomp's default (spin ~300k iterations, then sleep).
OMP_WAIT_POLICY = os.environ.get("OMP_WAIT_POLICY") or (
    "unset (libgomp default: spin, then sleep)" if "torch" in sys.modules else "PASSIVE")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # for this process if torch is not loaded yet, and children

__version__ = "0.1.0"
