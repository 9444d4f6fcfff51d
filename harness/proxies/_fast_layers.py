"""Faster stand-ins for two stock layers in the proxies' train-mode pass on CPU, swapped in by
``fast_layers``. Both exist for GraSP's Hessian-gradient product (a double backward), where the stock
layers cost a quarter of the time on CPU. Every value equals the stock layers' except GraSP's, which
changes by float32 rounding. Not used on CUDA, where the stock layers (cuDNN BatchNorm, one pooling kernel)
were not measured against these.

- Train-mode BatchNorm: forward and first backward call the same ATen kernels as ``nn.BatchNorm2d``
  (``native_batch_norm``, ``native_batch_norm_backward``), so outputs and gradients are bit-identical.
  Its backward of the backward is hand-written: autograd's composite formula makes about 30 full passes
  over the activation, this one 7 (three fused reductions by ``native_batch_norm_backward`` itself, then
  three ``addcmul``). GraSP values change by float32 rounding (<= 3e-5 relative where checked). The affine
  parameters are constants here (no gradient): every train-pass proxy differentiates only Conv2d / Linear
  weights and the input. Exactly ``nn.BatchNorm1d/2d/3d`` are swapped (not subclasses with their own
  forward, nor SyncBatchNorm).
- Stride-1 average pooling (NAS-Bench-201's ``avg_pool_3x3``): the CPU kernel for NCHW tensors is scalar,
  about 4.5x slower at 32x32 than the same sums as nine shifted tensor adds, which this computes in the
  kernel's order (row-major over the window, divided by the same count), bit-identical (up to the sign of
  a zero) in every order of derivative (the backward is the same box sum over the padded, count-divided
  gradient). Float32 and float64 only (other dtypes, e.g. bfloat16, accumulate differently in ATen and keep
  the stock kernel).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable

_bn_backward = torch.ops.aten.native_batch_norm_backward


def _per_channel(t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return t.reshape((1, -1) + (1,) * (like.dim() - 2))


class _GradInput(torch.autograd.Function):
    """dL/dx = g s (u - mean(u) - xh mean(u xh)) of train-mode BatchNorm, u = dL/dy, s = 1/std,
    xh = (x - mean) s, g = weight (per channel; means over all but the channel dimension)."""

    @staticmethod
    def forward(ctx, gy: torch.Tensor, x: torch.Tensor, weight: torch.Tensor | None, mean: torch.Tensor,
                invstd: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(gy, x, weight, mean, invstd)
        return _bn_backward(gy, x, weight, None, None, mean, invstd, True, 0.0, [True, False, False])[0]

    @staticmethod
    @once_differentiable
    def backward(ctx, v: torch.Tensor) -> tuple:
        """For upstream v: d/du = g s (v - mean(v) - xh mean(v xh)), the first backward applied to v, and
        d/dx = g s^2 (xh (3 B V1 - mean(uv) + A V0) - V1 u - B v + V1 A + B V0) with A = mean(u),
        B = mean(u xh), V0 = mean(v), V1 = mean(v xh) (derived by hand; checked against autograd)."""
        u, x, weight, mean, invstd = ctx.saved_tensors
        n = x.numel() // x.shape[1]
        grad_u, sum_v_xh, sum_v = _bn_backward(v, x, weight, None, None, mean, invstd, True, 0.0,
                                               [True, True, True])
        _, sum_u_xh, sum_u = _bn_backward(u, x, None, None, None, mean, invstd, True, 0.0,
                                          [False, True, True])
        # sum(u v) as the weight gradient of a "BatchNorm" of u with mean 0 and scale 1
        sum_uv = _bn_backward(v, u, None, None, None, torch.zeros_like(mean), torch.ones_like(invstd), True,
                              0.0, [False, True, False])[1]
        a, b, v0, v1, uv = sum_u / n, sum_u_xh / n, sum_v / n, sum_v_xh / n, sum_uv / n
        k = (weight * invstd if weight is not None else invstd) * invstd
        c_xh = k * (3 * b * v1 - uv + a * v0)
        grad_x = torch.addcmul(_per_channel(k * (v1 * a + b * v0) - c_xh * mean * invstd, x), x,
                               _per_channel(c_xh * invstd, x))
        grad_x.addcmul_(u, _per_channel(-k * v1, x)).addcmul_(v, _per_channel(-k * b, x))
        return grad_u, grad_x, None, None, None


class _BatchNormTrain(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor | None, bias: torch.Tensor | None,
                eps: float) -> torch.Tensor:
        y, mean, invstd = torch.ops.aten.native_batch_norm(x, weight, bias, None, None, True, 0.0, eps)
        ctx.save_for_backward(x, weight, mean, invstd)
        return y

    @staticmethod
    def backward(ctx, gy: torch.Tensor) -> tuple:
        x, weight, mean, invstd = ctx.saved_tensors
        return _GradInput.apply(gy, x, weight, mean, invstd), None, None, None


def _batchnorm_forward(module: nn.modules.batchnorm._BatchNorm, x: torch.Tensor) -> torch.Tensor:
    module._check_input_dim(x)  # the stock layer's own checks: input rank, more than one value per channel
    F._verify_batch_size(x.size())
    weight = module.weight.detach() if module.weight is not None else None
    bias = module.bias.detach() if module.bias is not None else None
    return _BatchNormTrain.apply(x, weight, bias, module.eps)


@functools.lru_cache(maxsize=64)
def _window_counts(height: int, width: int, kernel: tuple[int, int], padding: tuple[int, int],
                   count_include_pad: bool, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """The divisor of each output position, as the ATen kernel computes it."""
    def along(size: int, k: int, p: int) -> torch.Tensor:
        start = torch.arange(size + 2 * p - k + 1) - p
        end = start + k
        if count_include_pad:
            return torch.clamp(end, max=size + p) - start
        return torch.clamp(end, max=size) - torch.clamp(start, min=0)
    counts = torch.outer(along(height, kernel[0], padding[0]), along(width, kernel[1], padding[1]))
    return counts.to(device=device, dtype=dtype)


def _box_sum(padded: torch.Tensor, kernel: tuple[int, int], height: int, width: int) -> torch.Tensor:
    """Sum over each kernel window, adding the window's elements in row-major order (the kernel's)."""
    total = padded[..., :height, :width].clone()
    for a in range(kernel[0]):
        for b in range(kernel[1]):
            if a or b:
                total.add_(padded[..., a:a + height, b:b + width])
    return total


class _AvgPool(torch.autograd.Function):
    """Stride-1 average pooling; its backward is ``_AvgPoolTranspose`` and vice versa (both linear)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, kernel: tuple[int, int], padding: tuple[int, int],
                count_include_pad: bool) -> torch.Tensor:
        height, width = x.shape[-2:]
        ctx.args = kernel, padding, count_include_pad, height, width
        (kh, kw), (ph, pw) = kernel, padding
        out_h, out_w = height + 2 * ph - kh + 1, width + 2 * pw - kw + 1
        counts = _window_counts(height, width, kernel, padding, count_include_pad, x.device, x.dtype)
        return _box_sum(F.pad(x, (pw, pw, ph, ph)), kernel, out_h, out_w).div_(counts)

    @staticmethod
    def backward(ctx, gy: torch.Tensor) -> tuple:
        return _AvgPoolTranspose.apply(gy, *ctx.args), None, None, None


class _AvgPoolTranspose(torch.autograd.Function):
    """Each input position receives out-gradient / count of every window covering it, summed over the
    windows in row-major order (the order of the ATen backward kernel's scatter)."""

    @staticmethod
    def forward(ctx, gy: torch.Tensor, kernel: tuple[int, int], padding: tuple[int, int],
                count_include_pad: bool, height: int, width: int) -> torch.Tensor:
        ctx.args = kernel, padding, count_include_pad
        (kh, kw), (ph, pw) = kernel, padding
        scaled = gy / _window_counts(height, width, kernel, padding, count_include_pad, gy.device, gy.dtype)
        qh, qw = kh - 1 - ph, kw - 1 - pw
        return _box_sum(F.pad(scaled, (qw, qw, qh, qh)), kernel, height, width)

    @staticmethod
    def backward(ctx, gg: torch.Tensor) -> tuple:
        return _AvgPool.apply(gg, *ctx.args), None, None, None, None, None


def _pair(v: int | tuple[int, ...]) -> tuple[int, int] | None:
    """A pooling argument as (height, width), as ``F.avg_pool2d`` reads an int or a 1- or 2-tuple (None for
    anything else)."""
    t = (v,) if isinstance(v, int) else tuple(v)
    return (t[0], t[0]) if len(t) == 1 else (t[0], t[1]) if len(t) == 2 else None


def _avg_pool_forward(module: nn.AvgPool2d, kernel: tuple[int, int], padding: tuple[int, int],
                      x: torch.Tensor) -> torch.Tensor:
    """The shifted-add pooling where it gives the stock values; else the stock layer (and its errors)."""
    fits = all(size + 2 * p - k + 1 >= 1 for size, k, p in zip(x.shape[-2:], kernel, padding))
    if x.dim() not in (3, 4) or not fits or x.dtype not in (torch.float32, torch.float64):
        return nn.AvgPool2d.forward(module, x)
    return _AvgPool.apply(x, kernel, padding, module.count_include_pad)


def _stride_one_pool(m: nn.Module) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """(kernel, padding) of a plain ``nn.AvgPool2d`` with stride 1 and a kernel and padding the stock layer
    accepts; None for anything else (it stays, and raises its own errors)."""
    if type(m) is not nn.AvgPool2d or m.ceil_mode or m.divisor_override is not None:
        return None
    kernel, padding = _pair(m.kernel_size), _pair(m.padding)
    fits = (_pair(m.stride) == (1, 1) and kernel is not None and padding is not None
            and all(k > 0 and 0 <= p <= k // 2 for k, p in zip(kernel, padding)))
    return (kernel, padding) if fits else None


_BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


@contextmanager
def replaced_forwards(replacements: dict[nn.Module, Callable]) -> Iterator[None]:
    """Each module's ``forward`` replaced, and whatever it was (an instance-level forward included)
    restored afterwards, also on error and when nested."""
    saved = {m: vars(m).get("forward") for m in replacements}
    try:
        for m, forward in replacements.items():
            m.forward = forward
        yield
    finally:
        for m, forward in saved.items():
            if forward is None:
                del m.forward
            else:
                m.forward = forward


def fast_layers(net: nn.Module) -> AbstractContextManager:
    """Every train-mode ``nn.BatchNorm1d/2d/3d`` of ``net`` runs through ``_BatchNormTrain`` (running
    statistics are not updated: the caller restores them anyway), every stride-1 ``nn.AvgPool2d`` through
    ``_AvgPool``; modules that already have their own instance-level forward are left alone."""
    replacements: dict[nn.Module, Callable] = {}
    for m in net.modules():
        if "forward" in vars(m):
            continue
        if type(m) in _BATCH_NORMS and m.training:
            replacements[m] = functools.partial(_batchnorm_forward, m)
        elif (pool := _stride_one_pool(m)) is not None:
            replacements[m] = functools.partial(_avg_pool_forward, m, *pool)
    return replaced_forwards(replacements)
