"""optuna's random sampler as a searcher: the control for the other optuna samplers (same adapter, no
model), and, unlike ``random``, it may propose an arch twice."""

from __future__ import annotations

import optuna

from harness.searchers._optuna import OptunaSearcher


class OptunaRandom(OptunaSearcher):
    """Uniform proposals, one categorical draw per position."""

    name = "optuna-random"

    def make_sampler(self) -> optuna.samplers.BaseSampler:
        return optuna.samplers.RandomSampler(seed=self.seed)


SEARCHER = OptunaRandom
