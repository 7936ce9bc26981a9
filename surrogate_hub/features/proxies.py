"""Zero-cost proxies: scores of an untrained, freshly initialised network from one mini-batch.

Every proxy is a pure function ``(model, batch, loss_fn) -> float`` registered by name with
:func:`proxy`; look them up with :func:`list_proxies` / :func:`get_proxy`, or run several at once,
reproducibly and in isolation, with :func:`compute_proxies`. Importing this module needs torch; the
``surrogate_hub.features`` package itself does not import it.

Conventions shared by all proxies
---------------------------------
* **Weights** are the ``weight`` tensors of every ``nn.Linear`` and ``nn.Conv{1,2,3}d`` module that
  require grad (in einspace every parameterised op is a Linear; im2col-linear-col2im may be compiled
  to ``nn.Conv2d``). Biases, BatchNorm affine parameters and ``pos_enc`` tensors are excluded, as in
  NASLib. A weight shared by several modules counts once. "Layer sums" run over these weights.
* **Loss** is ``loss_fn(model(x), y)`` on the whole batch; :func:`compute_proxies` defaults to
  mean-reduced cross-entropy, as in the paper.
* **Model state is left untouched**: gradients come from :func:`torch.autograd.grad`, so no proxy
  writes ``.grad``; parameters are never modified (synflow works on a deep copy); buffers (BatchNorm
  running statistics, updated by train-mode forwards) and every module's ``training`` flag are
  restored on return. Proxies run in whatever mode the model is in (``flops`` and ``synflow``
  excepted, see below); :func:`compute_proxies` gives each one a fresh deep copy in train mode, so
  BatchNorm uses batch statistics.
* **Devices**: proxies run where the model and batch are; nothing is moved or hard-coded.

NaN policy
----------
A proxy returns ``float('nan')`` when it could not be computed or overflowed: a NaN/inf result, an
undefined quantity (a singular NASWOT kernel, a zero-variance input gradient for jacob_cov, no ReLU
for nwot) or a failed decomposition. NaN is never replaced by a magic constant here; the surrogate
decides how to impute (e.g. clip synflow to the float32 range, impute medians). Proxies never raise
for numerical reasons; an exception raised by the model's own forward pass (an invalid network)
propagates to the caller. Reductions are accumulated in float64 to avoid spurious overflow.

Per-proxy conventions
---------------------
``grad_norm``  Σ over weights of the Frobenius norm ‖∂L/∂W‖₂.
``plain``      Σ ∂L/∂W ⊙ W.
``snip``       Σ |∂L/∂W ⊙ W|.
``grasp``      −Σ W ⊙ (H g), H the Hessian of L w.r.t. the weights, g = ∂L/∂W held constant: one
               forward, a first backward with ``create_graph=True``, a second backward of g·∇L
               (NASLib's GraSP measure, temperature 1, with one forward instead of two).
``fisher``     activations are the *outputs* of the weighted layers (NASLib's dummy identity after
               each Linear/Conv, i.e. pre-nonlinearity, bias included); channels are axis 1 for
               convolutions and the last axis for Linear (which acts on the last axis in einspace);
               axis 0 indexes examples. Per channel k: ½ · mean over examples of
               (Σ over the remaining axes of a·∂L/∂a)²; summed over channels and layers (NASLib).
               A module called twice contributes both calls.
``jacob_cov``  per-example gradient of Σ outputs w.r.t. the input (as in NASLib; in train mode
               BatchNorm couples examples, which NASLib ignores too), flattened; eigenvalues λ of
               the examples' correlation matrix (float64, clamped at 0 as it is positive
               semi-definite); −Σ [log(λ+ε) + 1/(λ+ε)], ε = 1e-5.
``synflow``    on a deep copy in eval mode (so dropout is off) with every BatchNorm{1,2,3}d replaced by
               the identity, cast to float64, all parameters replaced by their absolute values;
               R = Σ outputs for an all-ones input of batch 1 shaped like one example;
               Σ |W ⊙ ∂R/∂W|. The model must run in float64 (true for standard torch modules).
``nwot``       NASWOT: forward hooks on every ``nn.ReLU`` read its input x per example, codes
               c = [x > 0] flattened; K = Σ over ReLU calls of c·cᵀ + (1−c)·(1−c)ᵀ (float64);
               score = log det K. NaN if the network has no ReLU or K is singular (e.g. two
               examples with identical activation patterns). Runs without autograd.
``params``     number of trainable parameters (every ``requires_grad`` parameter, counted once).
``flops``      multiply-accumulates (MACs, not 2×MACs) of the weighted layers for one example
               (``x[:1]``, eval mode so BatchNorm accepts a batch of one, no autograd): Linear
               ``out.numel() · in_features``, ConvNd ``out.numel() · in_channels/groups · ∏kernel``;
               biases, matmuls, norms and activations are not counted.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator

import torch
from torch import Tensor, nn

__all__ = [
    "PAPER_PROXIES",
    "Batch",
    "LossFn",
    "ProxyFn",
    "compute_proxies",
    "get_proxy",
    "list_proxies",
    "proxy",
]

_log = logging.getLogger(__name__)

Batch = tuple[Tensor, Tensor]
LossFn = Callable[[Tensor, Tensor], Tensor]
ProxyFn = Callable[[nn.Module, Batch, LossFn], float]

#: The seven proxies the surrogate paper uses, in its order.
PAPER_PROXIES: tuple[str, ...] = (
    "grad_norm",
    "snip",
    "grasp",
    "fisher",
    "jacob_cov",
    "plain",
    "synflow",
)

_WEIGHTED = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
_BATCHNORM = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)
_JACOB_EPS = 1e-5

_REGISTRY: dict[str, ProxyFn] = {}


# --------------------------------------------------------------------------------------- registry
def proxy(name: str) -> Callable[[ProxyFn], ProxyFn]:
    """Register a proxy under ``name``.

    The registered (and returned) function is wrapped so that every proxy obeys the module's
    contract: buffers, training flags and ``.grad`` of the model are restored on return, and the
    result is a Python float with NaN for any non-finite value.
    """

    def register(fn: ProxyFn) -> ProxyFn:
        if name in _REGISTRY:
            raise ValueError(f"a zero-cost proxy named {name!r} is already registered")

        @functools.wraps(fn)
        def wrapped(model: nn.Module, batch: Batch, loss_fn: LossFn) -> float:
            with _state_restored(model):
                value = fn(model, batch, loss_fn)
            return _finite_or_nan(value)

        _REGISTRY[name] = wrapped
        return wrapped

    return register


def list_proxies() -> list[str]:
    """Names of all registered proxies, sorted."""
    return sorted(_REGISTRY)


def get_proxy(name: str) -> ProxyFn:
    """The proxy registered as ``name``; a KeyError naming the known proxies otherwise."""
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(list_proxies())
        raise KeyError(f"unknown zero-cost proxy {name!r}; known proxies: {known}") from None


def compute_proxies(
    model: nn.Module,
    batch: Batch,
    names: Iterable[str] | None = None,
    loss_fn: LossFn | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """Score ``model`` with the proxies ``names`` (all registered ones by default).

    Each proxy runs on a fresh deep copy of ``model`` in train mode, after
    ``torch.manual_seed(seed)`` inside :func:`torch.random.fork_rng`, so results are reproducible
    and neither the model nor the caller's global RNG state changes. ``loss_fn`` defaults to
    cross-entropy. Unknown names raise KeyError before anything runs; an exception from the
    model's forward pass propagates.
    """
    selected = list_proxies() if names is None else list(names)
    fns = {name: get_proxy(name) for name in selected}
    loss = nn.CrossEntropyLoss() if loss_fn is None else loss_fn
    device = batch[0].device
    results: dict[str, float] = {}
    for name, fn in fns.items():
        net = copy.deepcopy(model).train()
        start = time.perf_counter()
        with _seeded(seed, device):
            results[name] = fn(net, batch, loss)
        _log.debug("proxy %s = %r (%.3f s)", name, results[name], time.perf_counter() - start)
    return results


# --------------------------------------------------------------------------------------- helpers
@contextlib.contextmanager
def _state_restored(model: nn.Module) -> Iterator[None]:
    """Restore buffers, per-module training flags and ``.grad`` of ``model`` on exit."""
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    flags = [(m, m.training) for m in model.modules()]
    grads = [(p, p.grad) for p in model.parameters()]
    try:
        yield
    finally:
        with torch.no_grad():
            for b, saved in buffers:
                b.copy_(saved)
        for m, training in flags:
            m.training = training
        for p, g in grads:
            p.grad = g


@contextlib.contextmanager
def _seeded(seed: int, device: torch.device) -> Iterator[None]:
    """``torch.manual_seed(seed)`` for the block, restoring the CPU (and CUDA device) RNG after."""
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def _finite_or_nan(value: float | Tensor) -> float:
    out = float(value)
    return out if math.isfinite(out) else math.nan


def _weighted_layers(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, _WEIGHTED) and m.weight.requires_grad]


def _weights(model: nn.Module) -> list[Tensor]:
    seen: dict[int, Tensor] = {}
    for m in _weighted_layers(model):
        seen.setdefault(id(m.weight), m.weight)
    return list(seen.values())


def _grads(output: Tensor, inputs: list[Tensor], create_graph: bool = False) -> list[Tensor]:
    """∂output/∂inputs, zeros where an input is unused (or output does not depend on any)."""
    if not output.requires_grad:
        return [torch.zeros_like(t) for t in inputs]
    grads = torch.autograd.grad(output, inputs, create_graph=create_graph, allow_unused=True)
    return [torch.zeros_like(t) if g is None else g for t, g in zip(inputs, grads, strict=True)]


def _total(terms: Iterable[Tensor]) -> Tensor:
    """Sum of scalar tensors in float64 (0.0 for an empty sum)."""
    values = [t.to(torch.float64) for t in terms]
    return torch.stack(values).sum() if values else torch.zeros((), dtype=torch.float64)


def _loss_and_weights(model: nn.Module, batch: Batch, loss_fn: LossFn) -> tuple[Tensor, list[Tensor]]:
    x, y = batch
    return loss_fn(model(x), y), _weights(model)


# ---------------------------------------------------------------------------- gradient proxies
@proxy("grad_norm")
def grad_norm(model: nn.Module, batch: Batch, loss_fn: LossFn) -> float:
    """Σ over weights of ‖∂L/∂W‖₂ (Frobenius norm per layer)."""
    with torch.enable_grad():
        loss, weights = _loss_and_weights(model, batch, loss_fn)
        grads = _grads(loss, weights)
    return _total(torch.linalg.vector_norm(g, dtype=torch.float64) for g in grads).item()


@proxy("plain")
def plain(model: nn.Module, batch: Batch, loss_fn: LossFn) -> float:
    """Σ ∂L/∂W ⊙ W."""
    with torch.enable_grad():
        loss, weights = _loss_and_weights(model, batch, loss_fn)
        grads = _grads(loss, weights)
    return _total((g * w.detach()).sum(dtype=torch.float64) for g, w in zip(grads, weights)).item()


@proxy("snip")
def snip(model: nn.Module, batch: Batch, loss_fn: LossFn) -> float:
    """Σ |∂L/∂W ⊙ W| (SNIP connection sensitivity)."""
    with torch.enable_grad():
        loss, weights = _loss_and_weights(model, batch, loss_fn)
        grads = _grads(loss, weights)
    return _total(
        (g * w.detach()).abs().sum(dtype=torch.float64) for g, w in zip(grads, weights)
    ).item()


@proxy("grasp")
def grasp(model: nn.Module, batch: Batch, loss_fn: LossFn) -> float:
    """−Σ W ⊙ (H g): Hessian-gradient product with the gradient g held constant (GraSP)."""
    with torch.enable_grad():
        loss, weights = _loss_and_weights(model, batch, loss_fn)
        grads = _grads(loss, weights, create_graph=True)
        gtg = _total((g.detach() * g).sum() for g in grads if g.requires_grad)
        hess_grads = _grads(gtg, weights)
    return -_total(
        (w.detach() * hg).sum(dtype=torch.float64) for w, hg in zip(weights, hess_grads)
    ).item()


@proxy("fisher")
def fisher(model: nn.Module, batch: Batch, loss_fn: LossFn) -> float:
    """Σ over layers and channels of ½·mean_n (Σ_rest a·∂L/∂a)², a = weighted-layer outputs."""
    acts: list[Tensor] = []
    channel_axes: list[int] = []

    def record(module: nn.Module, _inputs: tuple[Tensor, ...], output: Tensor) -> Tensor:
        acts.append(output)
        channel_axes.append(-1 if isinstance(module, nn.Linear) else 1)
        # Downstream sees a copy, so an in-place op after the layer cannot alter `output`.
        return output.clone()

    handles = [m.register_forward_hook(record) for m in _weighted_layers(model)]
    try:
        with torch.enable_grad():
            x, y = batch
            loss = loss_fn(model(x), y)
            act_grads = _grads(loss, acts)
    finally:
        for handle in handles:
            handle.remove()

    def per_layer(act: Tensor, grad: Tensor, axis: int) -> Tensor:
        prod = (act.detach() * grad).to(torch.float64)
        if prod.dim() == 1:
            prod = prod.unsqueeze(0)
        prod = prod.movedim(axis, 1)
        per_channel = prod.reshape(prod.shape[0], prod.shape[1], -1).sum(dim=2)
        return 0.5 * per_channel.pow(2).mean(dim=0).sum()

    return _total(per_layer(a, g, ax) for a, g, ax in zip(acts, act_grads, channel_axes)).item()


@proxy("jacob_cov")
def jacob_cov(model: nn.Module, batch: Batch, loss_fn: LossFn) -> float:
    """−Σ [log(λ+ε) + 1/(λ+ε)] over eigenvalues λ of the input-gradient correlation matrix."""
    x, _ = batch
    if not x.is_floating_point():
        return math.nan
    inputs = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        out = model(inputs)
        (jac,) = _grads(out.sum(), [inputs])
    jac = jac.reshape(jac.shape[0], -1).to(torch.float64)
    corr = torch.atleast_2d(torch.corrcoef(jac))
    if not bool(torch.isfinite(corr).all()):
        return math.nan  # e.g. an example whose input gradient is constant (zero variance)
    try:
        eigenvalues = torch.linalg.eigvalsh(corr)
    except torch.linalg.LinAlgError:
        _log.debug("jacob_cov: eigvalsh did not converge", exc_info=True)
        return math.nan
    lam = eigenvalues.clamp_min(0.0) + _JACOB_EPS
    return -(torch.log(lam) + 1.0 / lam).sum().item()


@proxy("synflow")
def synflow(model: nn.Module, batch: Batch, loss_fn: LossFn) -> float:
    """Σ |W ⊙ ∂R/∂W| for |W| weights, float64, BatchNorm bypassed, R = Σ f(ones of batch 1)."""
    x, _ = batch
    net = copy.deepcopy(model).eval()
    for module in net.modules():
        if isinstance(module, _BATCHNORM):
            # Instance attribute beats the class method wherever the module is referenced from.
            module.forward = _identity  # type: ignore[method-assign]
    net.double()
    with torch.no_grad():
        for p in net.parameters():
            if p.is_floating_point():
                p.abs_()
    ones = torch.ones((1, *x.shape[1:]), dtype=torch.float64, device=x.device)
    with torch.enable_grad():
        weights = _weights(net)
        grads = _grads(net(ones).sum(), weights)
    return _total((w.detach() * g).abs().sum() for w, g in zip(weights, grads)).item()


def _identity(x: Tensor) -> Tensor:
    return x


# ---------------------------------------------------------------------------- forward-only proxies
@proxy("nwot")
def nwot(model: nn.Module, batch: Batch, loss_fn: LossFn) -> float:
    """log det of the NASWOT kernel of binary ReLU activation patterns over the batch."""
    x, _ = batch
    n = x.shape[0]
    kernel = torch.zeros((n, n), dtype=torch.float64, device=x.device)
    relu_calls = 0

    def accumulate(_module: nn.Module, inputs: tuple[Tensor, ...], _output: Tensor) -> None:
        nonlocal kernel, relu_calls
        pre = inputs[0]
        if pre.dim() == 0 or pre.shape[0] != n:
            _log.debug("nwot: skipping a ReLU whose input %s is not batch-first", tuple(pre.shape))
            return
        codes = (pre.detach().reshape(n, -1) > 0).to(torch.float64)
        kernel = kernel + codes @ codes.T + (1.0 - codes) @ (1.0 - codes).T
        relu_calls += 1

    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    handles = [m.register_forward_hook(accumulate) for m in relus]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    if relu_calls == 0:
        return math.nan
    sign, logdet = torch.linalg.slogdet(kernel)
    return logdet.item() if sign.item() > 0 else math.nan


@proxy("params")
def params(model: nn.Module, batch: Batch, loss_fn: LossFn) -> float:
    """Number of trainable parameters."""
    return float(sum(p.numel() for p in model.parameters() if p.requires_grad))


@proxy("flops")
def flops(model: nn.Module, batch: Batch, loss_fn: LossFn) -> float:
    """Multiply-accumulates of the Linear/Conv layers for one example."""
    total = 0

    def count(module: nn.Module, _inputs: tuple[Tensor, ...], output: Tensor) -> None:
        nonlocal total
        if isinstance(module, nn.Linear):
            total += output.numel() * module.in_features
        else:
            per_output = module.in_channels // module.groups * math.prod(module.kernel_size)
            total += output.numel() * per_output

    layers = [m for m in model.modules() if isinstance(m, _WEIGHTED)]
    handles = [m.register_forward_hook(count) for m in layers]
    model.eval()  # a batch of one; the registry wrapper restores the training flags
    try:
        with torch.no_grad():
            model(batch[0][:1])
    finally:
        for handle in handles:
            handle.remove()
    return float(total)
