"""The forward/backward passes several zero-cost proxies share, computed lazily, once per network and batch,
and the network modes every proxy may ask for.

A proxy declares the shared passes it ``needs``; ``Passes`` runs them together in one train-mode forward, so
``score_all`` pays one forward for all gradient-, activation- and Jacobian-based proxies, and a proxy scored
alone runs exactly the same code (hence the same numbers). No pass changes the network: train-mode
BatchNorm statistics are restored afterwards. A proxy that needs none of them computes its own value in its
own module (synflow, zen, flops, params, l2_norm), under the network conditions it declares
(``network_conditions``).

| pass              | what it gives (train mode, float32, the batch)                                    |
|-------------------|-----------------------------------------------------------------------------------|
| ``grad``          | d CE / d W of every Conv2d / Linear weight                                        |
| ``fisher``        | per layer sum_k 0.5 mean_n (sum_hw a * dL/da)^2 * |W_k| (same pass as grad)        |
| ``hessian_grad``  | H g (Hessian of CE times its gradient) per weight (same pass, create_graph)       |
| ``input_jacobian``| d sum(logits) / d x, one row per image (same forward)                             |
| ``relu_codes``    | NASWOT kernel: sum over ReLUs of the binary-code agreement (same forward)         |

On CPU the train-mode pass runs BatchNorm and stride-1 average pooling through ``_fast_layers`` (the
stock layers' values, a cheaper double backward for GraSP). On CUDA every pass runs cuDNN in IEEE float32
and deterministic mode (``ieee_cudnn``).

``split`` > 1 runs the batch-dependent backward passes in that many chunks, accumulating as zero-cost-nas's
``split_data`` does (CUDA out-of-memory fallback); ``relu_codes`` always uses the whole batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from inspect import signature
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from harness.protocol import KEEP_WHEN_BN_REMOVED
from harness.proxies._fast_layers import fast_layers, replaced_forwards

PASS_NAMES = ("grad", "fisher", "hessian_grad", "input_jacobian", "relu_codes")
MODES = ("train", "eval", None)

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def weight_layers(net: nn.Module) -> list[nn.Module]:
    """The Conv2d and Linear layers, the units zero-cost-nas sums its per-weight scores over."""
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def logits_of(output: Any) -> torch.Tensor:
    """xautodl nets return ``(features, logits)``; other nets return logits."""
    return output[1] if isinstance(output, tuple) else output


def chunks(n: int, split: int) -> list[slice]:
    return [slice(i * n // split, (i + 1) * n // split) for i in range(split)]


@contextmanager
def train_mode(net: nn.Module) -> Iterator[None]:
    """Train mode (batch statistics), with the BN running statistics and the mode restored afterwards."""
    was_training = net.training
    saved = {name: b.detach().clone() for name, b in net.named_buffers()}
    net.train()
    try:
        yield
    finally:
        with torch.no_grad():
            for name, b in net.named_buffers():
                b.copy_(saved[name])
        net.train(was_training)


def batchnorm_removed(net: nn.Module) -> AbstractContextManager:
    """BatchNorm layers as identities (synflow's ``bn=False`` copy), restored afterwards; a layer marked
    ``KEEP_WHEN_BN_REMOVED`` stays."""
    return replaced_forwards({m: _identity for m in net.modules()
                              if isinstance(m, nn.modules.batchnorm._BatchNorm)
                              and not getattr(m, KEEP_WHEN_BN_REMOVED, False)})


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


@contextmanager
def eval_mode(net: nn.Module) -> Iterator[None]:
    """Eval mode (running statistics), the mode restored afterwards."""
    was_training = net.training
    net.eval()
    try:
        yield
    finally:
        net.train(was_training)


@contextmanager
def cast(net: nn.Module, dtype: torch.dtype) -> Iterator[None]:
    """The network's floating-point parameters and buffers in ``dtype``, cast back afterwards (float32 ->
    float64 -> float32 is exact)."""
    original = next((p.dtype for p in net.parameters() if p.is_floating_point()), torch.float32)
    net.to(dtype)
    try:
        yield
    finally:
        net.to(original)


def network_conditions(net: nn.Module, bn: bool = True, mode: str | None = "train",
                       dtype: torch.dtype = torch.float32) -> AbstractContextManager:
    """The conditions a proxy declares at registration: BatchNorm kept or removed, train / eval mode (None:
    as it is), dtype; every one restored afterwards."""
    if mode not in MODES:
        raise ValueError(f"network mode {mode!r}; valid modes: train, eval, None")
    stack = ExitStack()
    if dtype != torch.float32:
        stack.enter_context(cast(net, dtype))
    if mode == "train":
        stack.enter_context(train_mode(net))
    elif mode == "eval":
        stack.enter_context(eval_mode(net))
    if not bn:
        stack.enter_context(batchnorm_removed(net))
    return stack


def ieee_cudnn(device: torch.device) -> AbstractContextManager:
    """On CUDA, cuDNN convolutions in IEEE float32 with deterministic algorithms: by default Ampere and later
    GPUs convolve float32 in TF32 (10-bit mantissa), and cuDNN's fastest weight-gradient kernels add in a
    varying order, either of which would move GraSP-like sums of cancelling terms between devices and runs."""
    if device.type != "cuda":
        return nullcontext()
    # Newer torch sets float32 precision through fp32_precision; older versions know only allow_tf32.
    ieee = {"fp32_precision": "ieee"} if "fp32_precision" in signature(torch.backends.cudnn.flags).parameters else {}
    return torch.backends.cudnn.flags(enabled=True, benchmark=False, deterministic=True, allow_tf32=False, **ieee)


@contextmanager
def _hooks(handles: list) -> Iterator[None]:
    try:
        yield
    finally:
        for h in handles:
            h.remove()


class Passes:
    """Lazily computed passes over one network and batch; ``needs`` lists every pass that will be asked
    for, so that passes sharing a forward run together."""

    def __init__(self, net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor,
                 loss_fn: LossFn = F.cross_entropy, needs: Iterable[str] = (), split: int = 1):
        self.net, self.inputs, self.targets, self.loss_fn = net, inputs, targets, loss_fn
        self.needs = frozenset(needs)
        unknown = self.needs - set(PASS_NAMES)
        if unknown:
            raise ValueError(f"unknown passes {sorted(unknown)}; valid passes: {', '.join(PASS_NAMES)}")
        self.split = int(split)
        self.layers = weight_layers(net)
        self.n_classes: int | None = None  # set by the train-mode forward (epe_nas needs it)
        self._cache: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._cache:
            if name not in self.needs:
                raise KeyError(f"pass {name!r} was not declared in needs {sorted(self.needs)}")
            with ieee_cudnn(self.inputs.device):
                self._train_pass()
        return self._cache[name]

    def cast(self, dtype: torch.dtype) -> Passes:
        """The same network and batch with the inputs in ``dtype`` and no shared passes (for a proxy that
        declares another dtype and computes its own value)."""
        if dtype == self.inputs.dtype:
            return self
        return Passes(self.net, self.inputs.to(dtype), self.targets, self.loss_fn, (), self.split)

    # -- the shared train-mode forward ------------------------------------------------------------------
    def _train_pass(self) -> None:
        want = set(self.needs)
        if "hessian_grad" in want:
            want |= {"grad"}
        net, layers, n = self.net, self.layers, self.inputs.shape[0]
        weights = [m.weight for m in layers]
        parts = chunks(n, self.split)
        ce = bool(want & {"grad", "fisher", "hessian_grad"})
        fused_hessian = "hessian_grad" in want and len(parts) == 1
        codes_here = "relu_codes" in want and len(parts) == 1
        grads = [torch.zeros_like(w) for w in weights]
        fisher = [torch.zeros((), dtype=torch.float64, device=w.device) for w in weights]
        hg = [torch.zeros_like(w) for w in weights]
        jac, kernel = [], torch.zeros((n, n), dtype=torch.float64, device=self.inputs.device)
        acts: dict[nn.Module, torch.Tensor] = {}
        handles = []
        if "fisher" in want:
            handles += [m.register_forward_hook(_store_output(acts)) for m in layers]
        if codes_here:
            handles += [m.register_forward_hook(_code_kernel(kernel)) for m in net.modules()
                        if isinstance(m, nn.ReLU)]
        grad_enabled = ce or "input_jacobian" in want
        on_cpu = self.inputs.device.type == "cpu"
        # fast_layers after train_mode: it swaps the BatchNorms that are in train mode
        with train_mode(net), fast_layers(net) if on_cpu else nullcontext(), _hooks(handles), \
                torch.set_grad_enabled(grad_enabled):
            for part in parts:
                x = self.inputs[part].detach().requires_grad_("input_jacobian" in want)
                logits = logits_of(net(x))
                self.n_classes = int(logits.shape[-1])
                if "input_jacobian" in want:
                    (dx,) = torch.autograd.grad(logits.sum(), x, retain_graph=ce)
                    jac.append(dx.reshape(dx.shape[0], -1))
                if not ce:
                    continue
                loss = self.loss_fn(logits, self.targets[part])
                # layers the forward ran (a net may hold layers its arch does not use: harness.zc_nb201)
                ran = [i for i, m in enumerate(layers) if m in acts]
                out = [acts[layers[i]] for i in ran]
                g = torch.autograd.grad(loss, weights + out, allow_unused=True, create_graph=fused_hessian)
                for i, gi in enumerate(g[: len(weights)]):
                    if gi is not None:
                        grads[i] += gi.detach()
                for i, a, ga in zip(ran, out, g[len(weights):]):
                    if ga is not None:
                        fisher[i] += _fisher_layer(a.detach(), ga.detach(), weights[i])
                if fused_hessian:
                    _add_hessian_grad(hg, g[: len(weights)], grads, weights)
                acts.clear()
            if "hessian_grad" in want and not fused_hessian:
                for part in parts:  # GraSP's second pass: needs the whole-batch gradient first
                    loss = self.loss_fn(logits_of(net(self.inputs[part])), self.targets[part])
                    g = torch.autograd.grad(loss, weights, allow_unused=True, create_graph=True)
                    _add_hessian_grad(hg, g, grads, weights)
        if "relu_codes" in want and not codes_here:
            kernel = self._relu_kernel_whole_batch()
        self._cache.update({"grad": grads, "fisher": fisher, "hessian_grad": hg, "relu_codes": kernel,
                            "input_jacobian": torch.cat(jac) if jac else None})

    def _relu_kernel_whole_batch(self) -> torch.Tensor:
        n = self.inputs.shape[0]
        kernel = torch.zeros((n, n), dtype=torch.float64, device=self.inputs.device)
        handles = [m.register_forward_hook(_code_kernel(kernel)) for m in self.net.modules()
                   if isinstance(m, nn.ReLU)]
        with train_mode(self.net), _hooks(handles), torch.no_grad():
            self.net(self.inputs)
        return kernel


def _store_output(acts: dict) -> Callable:
    def hook(module: nn.Module, inp: tuple, out: torch.Tensor) -> None:
        acts[module] = out
    return hook


def _code_kernel(kernel: torch.Tensor) -> Callable:
    """Adds a ReLU's binary-code agreement x x^T + (1-x)(1-x)^T = 2 x x^T - s 1^T - 1 s^T + D."""
    def hook(module: nn.Module, inp: tuple, out: torch.Tensor) -> None:
        codes = (inp[0].detach().reshape(inp[0].shape[0], -1) > 0).float()
        s = codes.sum(dim=1, keepdim=True)
        agree = 2 * codes @ codes.T - s - s.T + codes.shape[1]
        kernel.add_(agree.double())
    return hook


def _fisher_layer(act: torch.Tensor, grad: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """zero-cost-nas's fisher of one layer: per channel 0.5 mean_n (sum_hw a g)^2, broadcast over the
    channel's weights (``reshape_elements``) and summed."""
    g_nk = (act * grad).sum(dim=tuple(range(2, act.dim()))) if act.dim() > 2 else act * grad
    per_channel = g_nk.pow(2).mean(0).mul(0.5)
    return per_channel.double().sum() * (weight[0].numel())


def _add_hessian_grad(hg: list[torch.Tensor], g_graph: Iterable, g_total: list[torch.Tensor],
                      weights: list[torch.Tensor]) -> None:
    """GraSP: Hg += d/dW (sum g_total . g), g_total held constant."""
    z = sum((gt * g).sum() for gt, g in zip(g_total, g_graph) if g is not None)
    if not isinstance(z, torch.Tensor):
        return
    h = torch.autograd.grad(z, weights, allow_unused=True)
    for i, hi in enumerate(h):
        if hi is not None:
            hg[i] += hi


def layer_sum(tensors: Iterable[torch.Tensor]) -> float:
    """Sum of every element of every tensor, in float64 (zero-cost-nas's ``sum_arr``)."""
    return float(sum(t.double().sum() for t in tensors))
