"""optuna's tree-structured Parzen estimator (Bergstra et al. 2011) as a searcher."""

from __future__ import annotations

import optuna

from harness.searchers._optuna import OptunaSearcher


class OptunaTPE(OptunaSearcher):
    """TPE over one categorical parameter per position; the first ``n_startup_trials`` are uniform."""

    name = "optuna-tpe"
    n_startup_trials: int = 10  #: random proposals before the density model (optuna's default)
    multivariate: bool = True  #: one joint density over the positions (edges interact in a cell)

    def make_sampler(self) -> optuna.samplers.BaseSampler:
        return optuna.samplers.TPESampler(n_startup_trials=self.n_startup_trials,
                                          multivariate=self.multivariate, seed=self.seed)


SEARCHER = OptunaTPE
