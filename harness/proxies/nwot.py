"""NASWOT (Mellor et al. 2021 v2, "Neural architecture search without training"), as NAS-Bench-Suite-Zero
computes it.

Each ReLU's input gives every image a binary code c (unit active or not). K = sum over ReLUs of
c_i . c_j + (1 - c_i) . (1 - c_j) (units where images i and j agree); score = log|det K| (slogdet).
Network mode: train, float32, one forward. Higher = better; -inf when K is singular.
"""

import numpy as np

from harness.proxies import Passes, Proxy


def nwot(passes: Passes) -> float:
    _, logdet = np.linalg.slogdet(passes["relu_codes"].cpu().numpy())
    return float(logdet)


PROXY = Proxy("nwot", nwot, needs={"relu_codes"})
