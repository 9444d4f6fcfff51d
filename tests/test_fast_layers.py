"""The train pass's BatchNorm and stride-1 average pooling give the stock layers' values: bit-identical
forward and first backward (and every order for pooling); BatchNorm's hand-written double backward equals
autograd's."""

import pytest
import torch
from torch import nn

from harness.proxies._fast_layers import fast_layers


def _derivatives(layer: nn.Module, x: torch.Tensor, gy: torch.Tensor, v: torch.Tensor, fast: bool) -> list:
    """y, dL/dx for upstream gy, and the double backward (d/dx, d/dgy) of <v, dL/dx> (d/dx may be None for a
    linear layer)."""
    x = x.detach().requires_grad_(True)
    gy = gy.detach().requires_grad_(True)
    with fast_layers(layer) if fast else torch.enable_grad():
        y = layer(x)
        (gx,) = torch.autograd.grad(y, x, gy, create_graph=True)
    return [y, gx, *torch.autograd.grad(gx, [x, gy], v, allow_unused=True)]


@pytest.mark.parametrize("layer, shape, affine, dtype", [
    (nn.BatchNorm2d, (4, 3, 5, 6), True, torch.float64), (nn.BatchNorm2d, (4, 3, 5, 6), False, torch.float64),
    (nn.BatchNorm1d, (6, 3), True, torch.float64), (nn.BatchNorm1d, (4, 3, 7), True, torch.float64),
    (nn.BatchNorm3d, (2, 3, 2, 3, 4), True, torch.float64),
    (nn.BatchNorm2d, (16, 3, 7, 7), True, torch.float32)])
def test_batchnorm_first_order_is_bit_identical_and_double_backward_matches(layer, shape, affine, dtype):
    """float64 checks the hand-written formula; float32 that rounding stays small."""
    torch.manual_seed(0)
    bn = layer(3, affine=affine).to(dtype).train()
    if affine:
        with torch.no_grad():
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.normal_()
    x, gy, v = (torch.randn(shape, dtype=dtype) for _ in range(3))
    stock = _derivatives(bn, x, gy, v, fast=False)
    fast = _derivatives(bn, x, gy, v, fast=True)
    assert torch.equal(fast[0], stock[0]) and torch.equal(fast[1], stock[1])
    tolerance = {"rtol": 1e-10, "atol": 1e-12} if dtype == torch.float64 else {"rtol": 1e-4, "atol": 1e-5}
    for got, want in zip(fast[2:], stock[2:]):
        torch.testing.assert_close(got, want, **tolerance)


def test_batchnorm_with_one_value_per_channel_is_the_stock_error():
    with fast_layers(bn := nn.BatchNorm1d(3).train()), pytest.raises(ValueError, match="more than 1 value"):
        bn(torch.randn(1, 3))


@pytest.mark.parametrize("kernel, padding", [(3, 1), (3, 0), (2, 0), ((3, 1), (1, 0))])
@pytest.mark.parametrize("count_include_pad", [False, True])
def test_stride_one_average_pooling_is_bit_identical_in_every_order(kernel, padding, count_include_pad):
    torch.manual_seed(2)
    pool = nn.AvgPool2d(kernel, stride=1, padding=padding, count_include_pad=count_include_pad)
    x = torch.randn(3, 4, 9, 7)
    y_shape = pool(x).shape
    gy, v = torch.randn(y_shape), torch.randn(x.shape)
    stock = _derivatives(pool, x, gy, v, fast=False)
    fast = _derivatives(pool, x, gy, v, fast=True)
    zero = torch.zeros_like(x)  # autograd's pool says d/dx = 0 of the (linear) backward, ours None
    for got, want in zip(fast, stock):
        assert torch.equal(zero if got is None else got, zero if want is None else want)


def test_only_train_batchnorm_and_stride_one_pools_are_swapped_and_all_are_restored():
    net = nn.Sequential(nn.BatchNorm2d(2), nn.AvgPool2d(3, 1, 1), nn.AvgPool2d(2), nn.BatchNorm2d(2).eval())
    with fast_layers(net):
        swapped = ["forward" in vars(m) for m in net]
    assert swapped == [True, True, False, False]
    assert not any("forward" in vars(m) for m in net)


def test_nested_use_and_a_forward_set_on_the_instance_are_restored():
    own = nn.AvgPool2d(3, 1, 1)
    own.forward = own_forward = lambda x: x
    net = nn.Sequential(nn.BatchNorm2d(2), own)
    with fast_layers(net):
        inner = vars(net[0])["forward"]
        with fast_layers(net):
            assert vars(net[0])["forward"] is inner
        assert vars(net[0])["forward"] is inner and vars(own)["forward"] is own_forward
    assert "forward" not in vars(net[0]) and vars(own)["forward"] is own_forward


def test_only_plain_stride_one_pools_and_float_dtypes_take_the_fast_path():
    pools = [nn.AvgPool2d(3, 1, 1), nn.AvgPool2d(3, 1, 2), nn.AvgPool2d(3, 1, 1, ceil_mode=True),
             nn.AvgPool2d((3,), 1, (1,)), nn.AvgPool2d(1, 0), nn.AvgPool2d((3, 3, 3), 1)]
    with fast_layers(nn.Sequential(*pools)):
        assert ["forward" in vars(p) for p in pools] == [True, False, False, True, False, False]
        x = torch.randn(1, 2, 5, 5, dtype=torch.bfloat16)
        assert torch.equal(pools[0](x), torch.nn.functional.avg_pool2d(x, 3, 1, 1))
    with fast_layers(pool := nn.AvgPool2d(3, 1)), pytest.raises(RuntimeError, match="too small"):
        pool(torch.randn(1, 1, 2, 2))  # the stock layer's error for a kernel larger than the input


def test_batchnorm_keeps_the_stock_shape_error():
    with fast_layers(bn := nn.BatchNorm2d(3).train()), pytest.raises(ValueError, match="expected 4D input"):
        bn(torch.randn(4, 3, 5))


def test_batchnorm_parameters_get_no_gradient_inside():
    bn = nn.BatchNorm2d(2).train()
    x = torch.randn(4, 2, 3, 3, requires_grad=True)
    with fast_layers(bn):
        y = bn(x)
    assert torch.autograd.grad(y.sum(), [x, bn.weight], allow_unused=True)[1] is None


@pytest.mark.parametrize("split", [1, 2])
def test_passes_give_the_stock_values_but_for_grasp_rounding(tss_oracle, data_root, monkeypatch, split):
    from contextlib import nullcontext

    import harness.proxies._passes as passes_module
    from harness.images import load_batch
    from harness.networks import build_network
    from harness.proxies import get_proxy

    names = ["grad_norm", "snip", "fisher", "jacob_cov", "epe_nas", "nwot", "plain", "grasp"]
    batch = load_batch("cifar10", 8, seed=0, data=data_root)
    net = build_network(tss_oracle.space, "|avg_pool_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+"
                        "|skip_connect~0|nor_conv_1x1~1|avg_pool_3x3~2|", "cifar10", seed=0)

    def scores() -> dict:
        needs = set().union(*(get_proxy(n).needs for n in names))
        p = passes_module.Passes(net, batch.inputs, batch.targets, needs=needs, split=split)
        return {n: get_proxy(n).fn(p) for n in names}

    fast = scores()
    net.eval()  # the train pass puts it in train mode before swapping its layers
    assert scores() == fast
    net.train()
    monkeypatch.setattr(passes_module, "fast_layers", lambda net: nullcontext())
    stock = scores()
    assert {n: fast[n] for n in names[:-1]} == {n: stock[n] for n in names[:-1]}
    assert fast["grasp"] == pytest.approx(stock["grasp"], rel=1e-4) and fast["grasp"] != 0
