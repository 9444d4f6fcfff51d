"""nasbench-harness: zero-cost proxies and multi-trial searchers measured on NATS-Bench."""

import os

from harness.malloc import keep_freed_memory

# OpenMP's wait policy is left to the user (and to torch's runtime default: spin briefly, then sleep); OpenMP
# reads it once, when torch loads. On this 2-core machine, for the six zero-cost-nas proxies: alone, the
# default takes 1.01 s/arch and PASSIVE (threads sleep at once) 1.21 s; two such processes sharing the cores
# take 4.1 s/arch each under the default and 1.8 s under PASSIVE. So set OMP_WAIT_POLICY=PASSIVE where
# processes share cores; `make test` and `make gate` do.
_policy = os.environ.get("OMP_WAIT_POLICY", "").strip().upper()
#: The wait policy as the environment set it when the harness was imported ("ACTIVE", "PASSIVE", or "default":
#: unset or a value OpenMP ignores), a label for benchmark output. It is the runtime's unless the variable
#: changed between loading torch and importing the harness.
OMP_WAIT_POLICY = _policy if _policy in ("ACTIVE", "PASSIVE") else "default"

keep_freed_memory()  # see harness.malloc; a user's own glibc malloc settings win

__version__ = "0.3.0"  # part of every stored score's key: bump when computed values change
