"""Zero-cost proxies on real NATS-Bench networks and real CIFAR-10 images: registry, finiteness,
reproducibility, numerics (float64 synflow, NaN passed through), costs against the benchmark, vote."""

import math

import numpy as np
import pytest
import torch

from harness.images import load_batch
from harness.networks import build_network
from harness.proxies import Proxy, RelativeProxy, get_proxy, proxy_names

SUITE_ZERO = ["epe_nas", "fisher", "flops", "grad_norm", "grasp", "jacob_cov", "l2_norm", "nwot", "params",
              "plain", "snip", "synflow", "zen"]
PER_ARCH = SUITE_ZERO
ALL_CONV = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
ARCH = 68  # the cheapest cell with all five ops on its edges


@pytest.fixture(scope="module")
def batch(data_root):
    return load_batch("cifar10", 12, seed=0, data=data_root)


@pytest.fixture(scope="module")
def net(tss_oracle):
    return build_network(tss_oracle.space, ARCH, "cifar10", seed=0)


def test_registry_lists_every_proxy():
    assert proxy_names() == sorted(SUITE_ZERO + ["vote"])
    assert all(isinstance(get_proxy(n), Proxy) for n in PER_ARCH)
    assert isinstance(get_proxy("vote"), RelativeProxy)


def test_unknown_proxy_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown proxy 'synflw'; valid proxies: epe_nas, fisher"):
        get_proxy("synflw")


def test_proxy_with_an_unknown_pass_is_rejected():
    with pytest.raises(ValueError, match="unknown passes"):
        Proxy("x", lambda passes: 0.0, needs={"gradient"})


@pytest.mark.parametrize("name", PER_ARCH)
def test_proxy_is_a_finite_float_on_a_real_net(name, net, batch):
    value = get_proxy(name)(net, batch.inputs, batch.targets)
    assert isinstance(value, float) and math.isfinite(value)


def test_proxies_leave_the_network_unchanged(net, batch):
    before = {k: v.clone() for k, v in net.state_dict().items()}
    for name in PER_ARCH:
        get_proxy(name)(net, batch.inputs, batch.targets)
    after = net.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before) and net.training
    assert all(p.grad is None for p in net.parameters())


def test_same_seed_same_score_other_seed_other_score(tss_oracle, batch):
    space = tss_oracle.space
    values = [get_proxy("snip")(build_network(space, ARCH, "cifar10", s), batch.inputs, batch.targets)
              for s in (0, 0, 1)]
    assert values[0] == values[1] and values[0] != values[2]


def test_synflow_is_float64_and_finite_on_the_largest_cell(tss_oracle, batch):
    net = build_network(tss_oracle.space, ALL_CONV, "cifar10", seed=0)
    value = get_proxy("synflow")(net, batch.inputs, batch.targets)
    assert math.isfinite(value) and value > float(np.finfo(np.float32).max)  # inf in float32


def test_nan_scores_are_returned_not_raised(net, batch):
    poisoned = batch.inputs.clone()
    poisoned[0, 0, 0, 0] = float("nan")
    for name in ("grad_norm", "snip", "jacob_cov"):
        assert math.isnan(get_proxy(name)(net, poisoned, batch.targets))


def test_proxies_score_a_plain_torch_net(batch):
    """Any nn.Module with conv / linear layers and ReLUs works; zen finds its global pooling by type."""
    torch.manual_seed(0)
    body = [torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU()]
    net = torch.nn.Sequential(*body, torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(8, 10))
    for name in PER_ARCH:
        assert math.isfinite(get_proxy(name)(net, batch.inputs, batch.targets)), name
    no_pool = torch.nn.Sequential(*body, torch.nn.Flatten(), torch.nn.Linear(8 * 32 * 32, 10))
    with pytest.raises(ValueError, match="zen needs the feature map before global average pooling"):
        get_proxy("zen")(no_pool, batch.inputs, batch.targets)
    no_stats = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8, track_running_stats=False),
                                   torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(8, 10))
    with pytest.raises(ValueError, match="running variances"):
        get_proxy("zen")(no_stats, batch.inputs, batch.targets)


def test_split_batch_accumulates(net, batch):
    nwot = get_proxy("nwot")
    assert nwot(net, batch.inputs, batch.targets, split=2) == nwot(net, batch.inputs, batch.targets)
    for name in ("grasp", "fisher", "jacob_cov"):
        assert math.isfinite(get_proxy(name)(net, batch.inputs, batch.targets, split=2))


@pytest.mark.parametrize("dataset", ["cifar10", "ImageNet16-120"])
def test_params_and_flops_match_nats_bench(tss_oracle, data_root, dataset):
    batch = load_batch(dataset, 2, seed=0, data=data_root)
    for arch in (0, 11, ALL_CONV):
        net = build_network(tss_oracle.space, arch, dataset, seed=0)
        cost = tss_oracle.cost(arch, dataset)
        assert get_proxy("params")(net, batch.inputs, batch.targets) == pytest.approx(cost["params_mb"], abs=1e-6)
        # NATS-Bench also counts the classifier bias (num_classes adds), FlopCounterMode does not
        assert get_proxy("flops")(net, batch.inputs, batch.targets) == pytest.approx(cost["flops_m"], abs=2e-4)


def test_vote_is_the_copeland_score_of_the_majority():
    vote = get_proxy("vote").combine
    # arch 0 wins every proxy; arch 1 beats arch 2 on two of three
    scores = {"synflow": np.array([3.0, 2.0, 1.0]), "jacob_cov": np.array([3.0, 2.0, 5.0]),
              "snip": np.array([9.0, 1.0, 0.0])}
    assert vote(scores).tolist() == [1.0, 0.5, 0.0]
    tied = {"synflow": np.array([1.0, 1.0]), "jacob_cov": np.array([2.0, 1.0]), "snip": np.array([1.0, 2.0])}
    assert vote(tied).tolist() == [0.5, 0.5]
    with pytest.raises(ValueError, match="at least two"):
        vote({k: v[:1] for k, v in scores.items()})
