"""optuna's NSGA-II (Deb et al. 2002) as a two-objective searcher: validation accuracy up, latency down."""

from __future__ import annotations

import optuna

from harness.searchers._optuna import OptunaSearcher


class OptunaNSGA2(OptunaSearcher):
    """Non-dominated sorting GA; it needs a run with latency as the second objective (``harness.hardware``)."""

    name = "optuna-nsga2"
    directions = ("maximize", "minimize")
    objectives = ("valid_acc", "latency_ms")
    population_size: int = 20  #: optuna's 50 would leave ~2 generations in a ~130-query NATS-Bench budget

    def make_sampler(self) -> optuna.samplers.BaseSampler:
        return optuna.samplers.NSGAIISampler(population_size=self.population_size, seed=self.seed)


SEARCHER = OptunaNSGA2
