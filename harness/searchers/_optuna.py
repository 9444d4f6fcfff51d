"""One adapter from optuna's ask/tell to the harness's: each position of the space is a categorical
parameter over its choices, so a sampler sees the encoding and the searcher answers with the arch index.

The study is in memory and its sampler is seeded from the searcher's seed, so a run is a function of its
seed like every other searcher's; optuna's own logging (one line per trial) is silenced.
"""

from __future__ import annotations

from abc import abstractmethod
from collections import deque
from collections.abc import Sequence
from typing import Any

import optuna

from harness.searchers import Searcher


class OptunaSearcher(Searcher):
    """A searcher whose proposals come from an optuna sampler (``make_sampler``); the runner keeps the
    budget, the clock and the incumbent, optuna only proposes and learns."""

    # One optuna direction per objective the study is told (not annotated: not a hyperparameter).
    directions = ("maximize",)

    def __init__(self, space, seed: int, **hparams: Any) -> None:
        super().__init__(space, seed, **hparams)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.study = optuna.create_study(sampler=self.make_sampler(), directions=list(self.directions))
        self._params = [f"p{i}" for i in range(space.n_positions)]
        self._distribution = optuna.distributions.CategoricalDistribution(list(range(space.n_choices)))
        self._pending: dict[int, deque[optuna.Trial]] = {}  # asked, not yet told (FIFO per arch)

    @abstractmethod
    def make_sampler(self) -> optuna.samplers.BaseSampler:
        """The seeded sampler (``self.seed``) with the searcher's hyperparameters."""

    def ask(self) -> int:
        trial = self.study.ask()
        arch = self.space.decode([trial.suggest_categorical(p, self._distribution.choices)
                                  for p in self._params])
        self._pending.setdefault(arch, deque()).append(trial)
        return arch

    def tell(self, arch: int, valid_acc: float, seconds: float) -> None:
        self.tell_objectives(arch, (valid_acc,), seconds)

    def tell_objectives(self, arch: int, values: Sequence[float], seconds: float) -> None:
        told = [float(v) for v in values[: len(self.directions)]]
        queue = self._pending.get(int(arch))
        if not queue:  # an arch proposed for it (a warm-up): a finished trial it learns from all the same
            self.study.add_trial(optuna.trial.create_trial(
                params=dict(zip(self._params, self.space.encode(arch), strict=True)),
                distributions=dict.fromkeys(self._params, self._distribution), values=told))
            return
        trial = queue.popleft()
        if not queue:
            del self._pending[int(arch)]
        self.study.tell(trial, told)

    def state(self) -> dict[str, Any]:
        trials = self.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        return {"n_trials": len(trials), "sampler": type(self.study.sampler).__name__}
