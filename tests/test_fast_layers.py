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


@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_first_order_is_bit_identical_and_double_backward_matches(affine):
    torch.manual_seed(0)
    bn = nn.BatchNorm2d(3, affine=affine).double().train()
    if affine:
        with torch.no_grad():
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.normal_()
    x, gy, v = (torch.randn(4, 3, 5, 6, dtype=torch.float64) for _ in range(3))
    stock = _derivatives(bn, x, gy, v, fast=False)
    fast = _derivatives(bn, x, gy, v, fast=True)
    assert torch.equal(fast[0], stock[0]) and torch.equal(fast[1], stock[1])
    for got, want in zip(fast[2:], stock[2:]):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)


def test_batchnorm_in_float32_stays_within_rounding():
    torch.manual_seed(1)
    bn = nn.BatchNorm2d(8).train()
    x, gy, v = (torch.randn(16, 8, 7, 7) for _ in range(3))
    stock = _derivatives(bn, x, gy, v, fast=False)
    fast = _derivatives(bn, x, gy, v, fast=True)
    assert torch.equal(fast[1], stock[1])
    for got, want in zip(fast[2:], stock[2:]):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


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


def test_batchnorm_parameters_get_no_gradient_inside():
    bn = nn.BatchNorm2d(2).train()
    x = torch.randn(4, 2, 3, 3, requires_grad=True)
    with fast_layers(bn):
        y = bn(x)
    assert torch.autograd.grad(y.sum(), [x, bn.weight], allow_unused=True)[1] is None
