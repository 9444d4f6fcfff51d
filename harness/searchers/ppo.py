"""PPO (Schulman et al. 2017) with REINFORCE's policy: one categorical distribution per position."""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.searchers import Searcher
from harness.searchers.reinforce import CategoricalPolicy, ExponentialMovingAverage


class PPO(Searcher):
    """Samples ``batch_size`` archs from the frozen policy, then runs ``epochs`` passes of shuffled
    minibatch updates on the clipped surrogate plus an entropy bonus, reusing each costly query several times.

    Advantage = reward - EMA baseline (updated per reward, as in REINFORCE), divided by the batch's standard
    deviation of advantages. Only the scale is normalised: centring on the batch mean would cancel the
    baseline. Rewards are validation accuracy in percent; after normalisation the scale does not matter.
    A batch still incomplete when the budget ends is never learnt from.
    """

    name = "ppo"
    learning_rate: float = 0.01  #: Adam step size (as REINFORCE)
    ema_momentum: float = 0.9  #: reward-baseline momentum (as REINFORCE)
    clip_eps: float = 0.2  #: probability-ratio clip range (Schulman et al.: 0.2)
    batch_size: int = 16  #: queries per policy update (~10 updates in a 20,000 s cifar10 run)
    epochs: int = 4  #: passes over each batch
    minibatch_size: int = 8  #: samples per gradient step
    entropy_coef: float = 0.01  #: weight of the summed per-position entropy bonus

    def __init__(self, space, seed: int, **hparams: Any) -> None:
        super().__init__(space, seed, **hparams)
        if self.batch_size < 1 or self.minibatch_size < 1 or self.epochs < 1:
            raise ValueError("ppo needs batch_size, minibatch_size and epochs >= 1")
        self.policy = CategoricalPolicy(space.n_positions, space.n_choices, self.learning_rate)
        self.baseline = ExponentialMovingAverage(self.ema_momentum)
        self._pending: tuple[int, np.ndarray, float] | None = None
        self._batch: list[tuple[np.ndarray, float, float]] = []  # (actions, old log-prob, advantage)
        self.n_updates = 0

    def ask(self) -> int:
        actions = self.policy.sample(self.rng)
        arch = self.space.decode(actions)
        self._pending = (arch, actions, float(self.policy.log_prob(actions)))
        return arch

    def tell(self, arch: int, valid_acc: float, seconds: float) -> None:
        if not np.isfinite(valid_acc):
            return
        arch = int(arch)
        if self._pending is not None and self._pending[0] == arch:
            _, actions, old_logp = self._pending
        else:
            actions = np.asarray(self.space.encode(arch))
            old_logp = float(self.policy.log_prob(actions))
        self.baseline.update(valid_acc)
        self._batch.append((actions, old_logp, valid_acc - self.baseline.value))
        if len(self._batch) >= self.batch_size:
            self._update()

    def _update(self) -> None:
        actions = np.stack([b[0] for b in self._batch])
        old_log_prob = np.array([b[1] for b in self._batch])
        adv = np.array([b[2] for b in self._batch])
        adv = adv / (adv.std() + 1e-8)
        self._batch = []
        for _ in range(self.epochs):
            order = self.rng.permutation(len(actions))
            for start in range(0, len(order), self.minibatch_size):
                idx = order[start : start + self.minibatch_size]
                self.policy.ppo_step(actions[idx], old_log_prob[idx], adv[idx], self.clip_eps, self.entropy_coef)
        self.n_updates += 1

    def state(self) -> dict[str, Any]:
        return {**self.policy.state(), "baseline": self.baseline.value, "n_updates": self.n_updates}


SEARCHER = PPO
