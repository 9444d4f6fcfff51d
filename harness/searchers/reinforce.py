"""REINFORCE (Williams 1992) over one categorical distribution per position, as NATS-Bench runs it
(``exps/NATS-algos/reinforce.py``): Adam lr 0.01, reward baseline = bias-corrected EMA, momentum 0.9."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from harness.searchers import Searcher


def _adam(params: list[torch.Tensor], lr: float) -> torch.optim.Adam:
    """Adam, fused where this torch supports it on CPU (~1/3 less per-step overhead on these tiny tensors)."""
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except RuntimeError:
        return torch.optim.Adam(params, lr=lr)


class CategoricalPolicy:
    """Independent categorical distributions, one per position, parameterised by logits (init 0 = uniform).

    The logits and their Adam optimizer live in torch; the softmax is mirrored in numpy after every update,
    so sampling draws from the searcher's numpy generator. Both updates below write out the exact gradient
    of their loss instead of calling autograd, whose backward pass would triple the cost of a query; the
    tests check both against autograd.
    """

    def __init__(self, n_positions: int, n_choices: int, lr: float) -> None:
        self.logits = torch.zeros(n_positions, n_choices, dtype=torch.float64)
        self.optimizer = _adam([self.logits], lr)
        self._rows = np.arange(n_positions)
        self._refresh()

    def _refresh(self) -> None:
        self.log_probs = torch.log_softmax(self.logits, dim=-1).numpy().copy()
        self.probs = np.exp(self.log_probs)
        self._cdf = np.cumsum(self.probs, axis=1)

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """One choice per position (inverse-CDF sampling with one uniform per position)."""
        u = rng.random(len(self.probs))
        return np.minimum((self._cdf < u[:, None]).sum(axis=1), self.probs.shape[1] - 1)

    def log_prob(self, actions: np.ndarray) -> np.ndarray:
        """Log-probability of encodings, shape (..., n_positions) -> (...)."""
        return self.log_probs[self._rows, actions].sum(axis=-1)

    def entropy(self) -> np.ndarray:
        """Entropy of each position's distribution."""
        return -(self.probs * self.log_probs).sum(axis=1)

    def _adam_step(self, grad: np.ndarray) -> None:
        self.logits.grad = torch.from_numpy(grad)
        self.optimizer.step()
        self._refresh()

    def policy_gradient_step(self, actions: np.ndarray, advantage: float) -> None:
        """REINFORCE: minimise ``-log pi(actions) * advantage``; gradient ``(p - onehot) * advantage``."""
        grad = self.probs.copy()
        grad[self._rows, actions] -= 1.0
        self._adam_step(grad * advantage)

    def ppo_step(self, actions: np.ndarray, old_log_prob: np.ndarray, advantage: np.ndarray,
                 clip_eps: float, entropy_coef: float) -> None:
        """PPO: minimise ``-mean(min(r A, clip(r, 1 - eps, 1 + eps) A)) - entropy_coef * sum(entropy)``.

        A sample contributes ``r A (onehot - p)`` to the surrogate's gradient unless the clip holds it
        (r > 1 + eps with A > 0, or r < 1 - eps with A < 0); the entropy of a position has gradient
        ``-p (log p + H)``.
        """
        ratio = np.exp(self.log_prob(actions) - old_log_prob)
        held = ((advantage > 0) & (ratio > 1 + clip_eps)) | ((advantage < 0) & (ratio < 1 - clip_eps))
        weight = np.where(held, 0.0, ratio * advantage) / len(actions)
        chosen = np.zeros_like(self.probs)
        np.add.at(chosen, (np.broadcast_to(self._rows, actions.shape), actions), weight[:, None])
        grad = weight.sum() * self.probs - chosen
        grad += entropy_coef * self.probs * (self.log_probs + self.entropy()[:, None])
        self._adam_step(grad)

    def state(self) -> dict[str, Any]:
        return {"probs": self.probs.tolist(), "entropy": self.entropy().tolist()}


class ExponentialMovingAverage:
    """Bias-corrected EMA (numerator / denominator), NATS-Bench's reward baseline."""

    def __init__(self, momentum: float) -> None:
        self.momentum = momentum
        self._num = 0.0
        self._den = 0.0

    def update(self, value: float) -> None:
        self._num = self.momentum * self._num + (1 - self.momentum) * value
        self._den = self.momentum * self._den + (1 - self.momentum)

    @property
    def value(self) -> float:
        return self._num / self._den if self._den else float("nan")


class Reinforce(Searcher):
    """One policy-gradient step per query: loss = -log pi(arch) * (reward - baseline).

    Reward = the validation accuracy in percent, as NATS-Bench uses it (Adam's update is invariant to the
    reward's scale, so percent vs. fraction only changes Adam's epsilon regime, negligibly). As in NATS-Bench
    the baseline is updated with the reward before the advantage is taken.
    """

    name = "reinforce"
    learning_rate: float = 0.01  #: Adam step size (NATS-Bench: 0.01)
    ema_momentum: float = 0.9  #: reward-baseline momentum (NATS-Bench: 0.9)

    def __init__(self, space, seed: int, **hparams: Any) -> None:
        super().__init__(space, seed, **hparams)
        self.policy = CategoricalPolicy(space.n_positions, space.n_choices, self.learning_rate)
        self.baseline = ExponentialMovingAverage(self.ema_momentum)
        self._pending: tuple[int, np.ndarray] | None = None

    def ask(self) -> int:
        actions = self.policy.sample(self.rng)
        arch = self.space.decode(actions)
        self._pending = (arch, actions)
        return arch

    def _actions(self, arch: int) -> np.ndarray:
        if self._pending is not None and self._pending[0] == arch:
            return self._pending[1]
        return np.asarray(self.space.encode(arch))

    def tell(self, arch: int, valid_acc: float, seconds: float) -> None:
        if not np.isfinite(valid_acc):
            return  # no signal: nothing to learn from
        actions = self._actions(int(arch))
        self.baseline.update(valid_acc)
        advantage = valid_acc - self.baseline.value
        self.policy.policy_gradient_step(actions, advantage)

    def state(self) -> dict[str, Any]:
        return {**self.policy.state(), "baseline": self.baseline.value}


SEARCHER = Reinforce
