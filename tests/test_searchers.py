"""Searchers: registry, determinism, both spaces, and that each uses its signal (on a toy oracle)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch

from harness.bench.oracle import Oracle
from harness.hardware import Hardware, front
from harness.runner import run_search
from harness.searchers import SearchExhausted, get_searcher, searcher_names
from harness.searchers.reinforce import CategoricalPolicy
from harness.spaces import OPS, SizeSpace, TopologySpace
from harness.spaces.tss import format_arch

NAMES = ["local", "optuna-nsga2", "optuna-random", "optuna-tpe", "ppo", "random", "rea", "reinforce"]
TWO_OBJECTIVES = {"optuna-nsga2"}


class ToyOracle(Oracle):
    """Accuracy = 50 + 8 x (positions matching a target encoding); every query costs 100 s on TSS and has
    no time on SSS; latency on device 'toy' = 1 + the sum of the encoding. Smooth and known, so whether a
    searcher exploits its signal is measurable."""

    def __init__(self, space, target, timed: bool):
        self.space, self.timed = space, timed
        self.acc = 50.0 + 8.0 * (space.encode_all() == np.asarray(target)).sum(axis=1)
        self.latency = 1.0 + space.encode_all().sum(axis=1)

    def _accuracy(self, index, dataset, metric, epochs):
        return self.acc[index]

    def _accuracies(self, dataset, metric, epochs):
        return self.acc

    def _simulate(self, index, dataset, hp):
        return float(self.acc[index]), (100.0 if self.timed else float("nan"))

    def _cost(self, index, dataset):
        return {}

    def _latency_table(self):
        return {"toy": self.latency}


@pytest.fixture(scope="module")
def toy_tss() -> ToyOracle:
    space = TopologySpace([format_arch(ops) for ops in itertools.product(OPS, repeat=6)])
    return ToyOracle(space, (3, 2, 3, 1, 3, 3), timed=True)


@pytest.fixture(scope="module")
def toy_sss() -> ToyOracle:
    return ToyOracle(SizeSpace(), (7, 6, 7, 5, 7), timed=False)


def test_registry_lists_every_searcher():
    assert searcher_names() == NAMES
    for name in NAMES:
        assert get_searcher(name).name == name


def test_unknown_searcher_lists_valid_names():
    with pytest.raises(ValueError, match="unknown searcher .bogus.; valid searchers: local, optuna-nsga2, optuna-random"):
        get_searcher("bogus")


def test_unknown_hyperparameter_is_rejected(toy_tss):
    with pytest.raises(ValueError, match="no hyperparameter.*popsize"):
        get_searcher("rea")(toy_tss.space, 0, popsize=5)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("space", ["toy_tss", "toy_sss"])
def test_deterministic_per_seed_and_json_state(name, space, request):
    oracle = request.getfixturevalue(space)
    if name in TWO_OBJECTIVES and space == "toy_sss":
        pytest.skip("two-objective runs need latencies, which only TSS has")
    hw = {"hardware": Hardware("toy")} if name in TWO_OBJECTIVES else {}
    a = run_search(name, oracle, "cifar10", seed=1, max_queries=60, **hw)
    b = run_search(name, oracle, "cifar10", seed=1, max_queries=60, **hw)
    c = run_search(name, oracle, "cifar10", seed=2, max_queries=60, **hw)
    assert a.to_dict() == b.to_dict()
    assert not np.array_equal(a.archs, c.archs)
    assert a.n_queries == 60 and ((0 <= a.archs) & (a.archs < oracle.space.size)).all()
    json.dumps(a.to_dict())  # snapshots are JSON-able


def test_random_never_repeats_and_exhausts(toy_tss):
    searcher = get_searcher("random")(toy_tss.space, seed=0)
    asked = [searcher.ask() for _ in range(toy_tss.space.size)]
    assert sorted(asked) == list(range(toy_tss.space.size))
    with pytest.raises(SearchExhausted):
        searcher.ask()


def test_rea_population_ages_and_mutation(toy_tss):
    searcher = get_searcher("rea")(toy_tss.space, seed=0)
    for _ in range(25):
        arch = searcher.ask()
        searcher.tell(arch, toy_tss.acc[arch], 100.0)
    state = searcher.state()
    assert len(state["population"]) == 10
    assert state["ages"] == list(range(10, 0, -1))  # oldest first; the 15 oldest died
    child = searcher.ask()
    parents = state["population"]
    assert any(sum(x != y for x, y in zip(toy_tss.space.encode(child), toy_tss.space.encode(p))) == 1
               for p in parents)


def test_rea_uses_fitness(toy_tss):
    """Tournament selection (sample 3) beats blind parent choice (sample 1) on the same budget."""
    def finals(sample_size):
        return [run_search("rea", toy_tss, "cifar10", s, budget_s=6000,
                           hparams={"sample_size": sample_size}).final_reported for s in range(30)]

    assert np.mean(finals(3)) > np.mean(finals(1)) + 2.0


@pytest.mark.parametrize("name", ["reinforce", "ppo"])
def test_policy_moves_towards_the_target(name, toy_tss):
    traj = run_search(name, toy_tss, "cifar10", seed=0, max_queries=300, snapshot_every=300)
    probs = np.asarray(traj.snapshots[-1][1]["probs"])
    target = (3, 2, 3, 1, 3, 3)
    assert probs.shape == (6, 5)
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert probs[np.arange(6), target].mean() > 0.4  # uniform would be 0.2
    assert all(e < np.log(5) for e in traj.snapshots[-1][1]["entropy"])


def test_local_search_climbs_and_never_repeats(toy_sss):
    traj = run_search("local", toy_sss, "cifar10", seed=0, max_queries=400)
    assert len(set(traj.archs.tolist())) == traj.n_queries
    assert traj.final_reported == toy_sss.acc.max()  # the toy landscape is unimodal


class AutogradPolicy:
    """The reference: the same losses differentiated by torch autograd, stepped by the same Adam."""

    def __init__(self, n_positions, n_choices, lr):
        self.logits = torch.zeros(n_positions, n_choices, dtype=torch.float64, requires_grad=True)
        self.optimizer = torch.optim.Adam([self.logits], lr=lr)
        self.rows = torch.arange(n_positions)

    def log_prob(self, actions):
        return torch.log_softmax(self.logits, -1)[self.rows, torch.as_tensor(actions)].sum(-1)

    def step(self, loss):
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()

    @property
    def probs(self):
        return torch.softmax(self.logits, -1).detach().numpy()


def test_reinforce_gradient_equals_autograd():
    manual, auto = CategoricalPolicy(6, 5, lr=0.01), AutogradPolicy(6, 5, lr=0.01)
    rng = np.random.default_rng(0)
    for _ in range(20):
        actions, advantage = manual.sample(rng), float(rng.normal())
        manual.policy_gradient_step(actions, advantage)
        auto.step(-auto.log_prob(actions) * advantage)
        assert np.allclose(manual.probs, auto.probs, atol=1e-12)
    assert not np.allclose(manual.probs, 0.2)


def test_ppo_gradient_equals_autograd():
    """Old log-probs are perturbed so that some samples are clipped on each side."""
    manual, auto = CategoricalPolicy(5, 8, lr=0.05), AutogradPolicy(5, 8, lr=0.05)
    rng = np.random.default_rng(1)
    n_held = 0
    for _ in range(30):
        actions = np.stack([manual.sample(rng) for _ in range(8)])
        old = manual.log_prob(actions) + rng.normal(scale=0.4, size=8)
        adv = rng.normal(size=8)
        ratio = np.exp(manual.log_prob(actions) - old)
        n_held += int((((adv > 0) & (ratio > 1.2)) | ((adv < 0) & (ratio < 0.8))).sum())
        manual.ppo_step(actions, old, adv, clip_eps=0.2, entropy_coef=0.05)
        r = torch.exp(auto.log_prob(actions) - torch.as_tensor(old))
        a = torch.as_tensor(adv)
        logp = torch.log_softmax(auto.logits, -1)
        entropy = -(logp.exp() * logp).sum()
        auto.step(-torch.minimum(r * a, r.clamp(0.8, 1.2) * a).mean() - 0.05 * entropy)
        assert np.allclose(manual.probs, auto.probs, atol=1e-10)
    assert n_held > 20


def test_optuna_tpe_uses_its_signal(toy_tss):
    """The same adapter with TPE's density model beats it with optuna's random sampler."""
    def finals(name):
        return [run_search(name, toy_tss, "cifar10", s, max_queries=50).final_reported for s in range(8)]

    assert np.mean(finals("optuna-tpe")) > np.mean(finals("optuna-random")) + 2.0


def test_optuna_searcher_learns_from_an_arch_it_did_not_ask(toy_tss):
    """A warm-up tells archs the sampler never proposed: they become finished trials of the study."""
    searcher = get_searcher("optuna-tpe")(toy_tss.space, seed=0)
    arch = searcher.ask()
    other = (arch + 1) % toy_tss.space.size
    searcher.tell(other, 66.0, 1.0)
    searcher.tell(arch, 50.0, 1.0)
    asked, warm = searcher.study.get_trials()  # by trial number: the asked one was created first
    assert (asked.values, warm.values) == ([50.0], [66.0])
    assert searcher.space.decode([warm.params[f"p{i}"] for i in range(6)]) == other


def test_nsga2_is_told_latency_and_needs_it(toy_tss):
    with pytest.raises(ValueError, match="needs a run with latency as the second objective"):
        run_search("optuna-nsga2", toy_tss, "cifar10", seed=0, max_queries=5)
    traj = run_search("optuna-nsga2", toy_tss, "cifar10", seed=0, max_queries=200, hardware=Hardware("toy"))
    assert traj.mode == "toy-pareto" and traj.snapshots[-1][1]["n_trials"] == 200
    found = front(traj.archs, traj.valid_accs, toy_tss.latency)
    # accuracy and latency conflict on the toy (the target uses choices 1-3): the front holds several archs
    assert len(found) >= 3
