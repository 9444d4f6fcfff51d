"""Majority vote of synflow, jacob_cov and snip (Abdelfattah et al. 2021, "Zero-cost proxies for
lightweight NAS", section 5).

The vote compares archs pairwise: arch i beats arch j when at least two of the three proxies score i
higher. It has no per-arch value on its own, so over a batch of archs the score of arch i is its Copeland
score: the fraction of the other archs it beats (a tied pair, possible only when a proxy ties, counts 1/2).
Ranking archs by it ranks them by the majority relation. Needs at least two archs; a NaN member score
makes that proxy abstain (a pair it cannot order counts as its tie). The members run as they do alone
(synflow: float64, no BN; jacob_cov and snip: train mode, float32); the vote itself compares their float64
scores. Higher = better.
"""

import numpy as np

from harness.proxies import RelativeProxy

MEMBERS = ("synflow", "jacob_cov", "snip")


def vote(scores: dict[str, np.ndarray]) -> np.ndarray:
    columns = [np.asarray(scores[m], dtype=np.float64) for m in MEMBERS]
    n = len(columns[0])
    if n < 2:
        raise ValueError(f"vote compares archs: score at least two, got {n}")
    ballots = np.zeros((n, n))
    for s in columns:
        with np.errstate(invalid="ignore"):
            ballots += np.nan_to_num(np.sign(s[:, None] - s[None, :]), nan=0.0)
    wins = np.where(ballots > 0, 1.0, np.where(ballots < 0, 0.0, 0.5))
    np.fill_diagonal(wins, 0.0)
    return wins.sum(axis=1) / (n - 1)


PROXY = RelativeProxy("vote", vote, members=MEMBERS)
