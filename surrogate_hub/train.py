"""Train and evaluate one network on one task under a budget, with the paper's validity gates.

The protocol follows the surrogate paper (and einspace): SGD with momentum and weight decay, a
cosine learning-rate schedule, cross-entropy, and the validation accuracy after the final epoch.
Candidates are first passed through analytic gates (parameters, FLOPs and activations, computed from
the architecture before anything is built, so the same candidate is accepted or rejected on any
machine under any load), and every failure becomes a `TrainResult` with a reason code instead of an exception, so a
search or a corpus build never crashes on a bad candidate.

Reproducibility: the same seed gives the same result on the same device, thread count and torch
build (pass ``threads`` to pin torch's intra-op threads for the call). The seed drives weight initialisation (through a forked global torch RNG, so the caller's RNG
state is untouched) and the order of the training batches.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from surrogate_hub.tasks import Task

if TYPE_CHECKING:
    from surrogate_hub.space import Architecture

logger = logging.getLogger(__name__)

#: Values of `TrainResult.status`: ``"ok"`` or one of these failure reasons.
FAILURE_STATUSES: dict[str, str] = {
    "invalid": "the architecture does not parse, infer shapes or compile for this task",
    "too_large": "more parameters, FLOPs or activations than the budget's max_params, max_flops or "
    "max_activations",
    "too_slow": "forward pass on one training batch slower than Budget.max_forward_seconds (opt-in)",
    "oom": "ran out of (device) memory",
    "nan_loss": "the training loss became NaN or infinite",
    "timeout": "training exceeded Budget.max_train_seconds (a wall-clock safety net)",
    "error": "any other exception raised by the network",
}


@dataclass(frozen=True)
class Budget:
    """How a candidate is trained and which candidates are rejected before training.

    Defaults are the paper's candidate protocol (16 epochs, batch 256, SGD lr 0.04, momentum 0.9,
    weight decay 3e-4). The learning rate follows a cosine curve from ``lr`` to 0 over all steps,
    updated every step (not every epoch).

    Gates: ``max_params``, ``max_flops`` (multiply-accumulates per example, `space.flops`) and
    ``max_activations`` (output elements of all ops per example, `space.activations`) are analytic:
    decided from the architecture alone, identical on every machine, so they may shape data.
    ``max_forward_seconds`` (the paper's 0.1 s per 256-batch on a GPU) and ``max_train_seconds``
    measure wall-clock time, so they depend on the machine and its load: both are off by default;
    use the first only in searches and the second only as a generous safety net. None disables a
    limit.
    """

    epochs: int = 16
    batch_size: int = 256
    lr: float = 0.04
    momentum: float = 0.9
    weight_decay: float = 3e-4
    nesterov: bool = False
    label_smoothing: float = 0.0
    max_params: int | None = 20_000_000
    max_flops: int | None = None
    max_activations: int | None = None
    max_forward_seconds: float | None = None
    max_train_seconds: float | None = None
    eval_batch_size: int = 1024

    def __post_init__(self) -> None:
        if self.epochs < 0 or self.batch_size < 1 or self.eval_batch_size < 1:
            raise ValueError(f"epochs must be >= 0 and batch sizes >= 1: {self}")
        if self.lr <= 0 or self.momentum < 0 or self.weight_decay < 0:
            raise ValueError(f"lr must be > 0, momentum and weight_decay >= 0: {self}")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1): {self.label_smoothing}")
        for name in ("max_params", "max_flops", "max_activations", "max_forward_seconds", "max_train_seconds"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive or None (no limit), got {value}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TrainResult:
    """The outcome of training one candidate.

    - ``status``: ``"ok"`` or a key of `FAILURE_STATUSES`; ``reason`` says why in words.
    - ``val_acc``: validation accuracy after the final epoch; ``test_acc``: test accuracy when asked
      for. Both are None when not measured (a failed candidate, a test score not requested, the
      validation score of `retrain_and_test`), never a sentinel number.
    - ``train_seconds``: wall time of the whole call (build, gates, training, evaluation).
    - ``flops``: one example's forward pass as `surrogate_hub.space.flops` counts it
      (multiply-accumulates); None from `train_network`, which cannot know the structure.
    - ``epochs``: the budgeted number of epochs.
    - ``val_curve`` / ``loss_curve``: validation accuracy and mean training loss after each epoch
      (the learning curve; empty when the candidate failed or no validation split was scored).
    - ``activations``: `surrogate_hub.space.activations` of the candidate (None from `train_network`).
    """

    status: str
    val_acc: float | None
    test_acc: float | None = None
    train_seconds: float = 0.0
    n_params: int | None = None
    flops: int | None = None
    reason: str | None = None
    epochs: int = 0
    seed: int = 0
    device: str = "cpu"
    val_curve: tuple[float, ...] = ()
    loss_curve: tuple[float, ...] = ()
    activations: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Rejected(Exception):
    """Internal: a candidate failed a gate or training; carries the status code."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def train_network(
    build_model: Callable[[], nn.Module],
    task: Task,
    budget: Budget | None = None,
    device: str | torch.device = "cpu",
    seed: int = 0,
    evaluate_test: bool = False,
    threads: int | None = None,
) -> TrainResult:
    """Build a network with ``build_model()`` (under ``seed``), gate it, train it on ``task``'s
    train split and return its final validation accuracy (and test accuracy if ``evaluate_test``).

    Never raises for a failing candidate: see `FAILURE_STATUSES`.
    """
    data = task.load()
    with _torch_threads(threads):
        return _fit_and_evaluate(
            build_model, (data.x_train, data.y_train), _evals(data, evaluate_test), task.num_classes, budget,
            device, seed,
        )


def train_architecture(
    arch: str | Architecture,
    task: Task,
    budget: Budget | None = None,
    device: str | torch.device = "cpu",
    seed: int = 0,
    evaluate_test: bool = False,
    threads: int | None = None,
) -> TrainResult:
    """Train an einspace architecture (compact string or `Architecture`) on ``task``.

    The architecture is parsed and its parameters, FLOPs and activations are counted analytically
    before anything is built, so unparsable or shape-invalid candidates (``"invalid"``) and oversized
    ones (``"too_large"``) cost no memory. Then as `train_network`. ``threads`` pins torch's intra-op
    thread count for the call (restored afterwards); None leaves it as it is.
    """
    data = task.load()
    with _torch_threads(threads):
        return _train_architecture(
            arch, task, (data.x_train, data.y_train), _evals(data, evaluate_test), budget, device, seed
        )


@contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    if threads is None:
        yield
        return
    if threads < 1:
        raise ValueError(f"threads must be a positive integer, got {threads}")
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _evals(data, evaluate_test: bool) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The held-out splits to score: validation, plus test when asked."""
    evals = {"val": (data.x_valid, data.y_valid)}
    if evaluate_test:
        evals["test"] = (data.x_test, data.y_test)
    return evals


def retrain_and_test(
    arch: str | Architecture,
    task: Task,
    budget: Budget | None = None,
    device: str | torch.device = "cpu",
    seed: int = 0,
    threads: int | None = None,
) -> TrainResult:
    """The paper's final evaluation: train on train + valid, report the test accuracy.

    ``val_acc`` is None (no held-out validation data is left). The paper retrains the best
    architecture for 64 epochs: pass ``Budget(epochs=64)`` to match.
    """
    data = task.load()
    fit = (
        np.concatenate([data.x_train, data.x_valid]),
        np.concatenate([data.y_train, data.y_valid]),
    )
    with _torch_threads(threads):
        return _train_architecture(
            arch, task, fit, {"test": (data.x_test, data.y_test)}, budget, device, seed
        )


def _train_architecture(
    arch: str | Architecture,
    task: Task,
    fit: tuple[np.ndarray, np.ndarray],
    evals: dict[str, tuple[np.ndarray, np.ndarray]],
    budget: Budget | None,
    device: str | torch.device,
    seed: int,
) -> TrainResult:
    from surrogate_hub.space import ArchitectureError, activations, flops, n_params, parse
    from surrogate_hub.space.compile import compile_architecture

    budget = budget or Budget()
    start = time.perf_counter()
    failed = _result_factory(budget, device, seed, start)
    shape, classes = task.input_shape, task.num_classes
    try:
        if isinstance(arch, str):
            arch = parse(arch)
        count = n_params(arch, shape, classes)
        n_flops = flops(arch, shape, classes)
        n_act = activations(arch, shape)
    except ArchitectureError as exc:
        return failed("invalid", str(exc))
    except Exception as exc:  # a bug in the space module must not crash a search either
        logger.exception("unexpected error while analysing an architecture")
        return failed("error", f"{type(exc).__name__}: {exc}")
    for value, limit, what in (
        (count, budget.max_params, "parameters > max_params"),
        (n_flops, budget.max_flops, "FLOPs per example > max_flops"),
        (n_act, budget.max_activations, "activations per example > max_activations"),
    ):
        if limit is not None and value > limit:
            return replace(
                failed("too_large", f"{value:,} {what} {limit:,}"),
                n_params=count, flops=n_flops, activations=n_act,
            )
    result = _fit_and_evaluate(
        lambda: compile_architecture(arch, shape, classes, device=device),
        fit,
        evals,
        classes,
        budget,
        device,
        seed,
        invalid_errors=(ArchitectureError,),
        start=start,
    )
    return replace(result, flops=n_flops, activations=n_act)


def _result_factory(
    budget: Budget, device: str | torch.device, seed: int, start: float
) -> Callable[[str, str], TrainResult]:
    def failed(status: str, reason: str) -> TrainResult:
        logger.info("candidate rejected (%s): %s", status, reason)
        return TrainResult(
            status=status,
            val_acc=None,
            train_seconds=time.perf_counter() - start,
            reason=reason,
            epochs=budget.epochs,
            seed=seed,
            device=str(device),
        )

    return failed


def _fit_and_evaluate(
    build_model: Callable[[], nn.Module],
    fit: tuple[np.ndarray, np.ndarray],
    evals: dict[str, tuple[np.ndarray, np.ndarray]],
    num_classes: int,
    budget: Budget | None,
    device: str | torch.device,
    seed: int,
    invalid_errors: tuple[type[Exception], ...] = (),
    start: float | None = None,
) -> TrainResult:
    """Build, gate, train on ``fit`` and score each of ``evals`` (keys ``val`` / ``test``)."""
    budget = budget or Budget()
    start = time.perf_counter() if start is None else start
    failed = _result_factory(budget, device, seed, start)
    dev = torch.device(device)
    model: nn.Module | None = None
    n_params: int | None = None
    # Fork the global RNGs (CPU, plus this CUDA device) so seeding leaves the caller's state alone.
    rng_devices = []
    if dev.type == "cuda":
        rng_devices = [torch.cuda.current_device() if dev.index is None else dev.index]
    try:
        with torch.random.fork_rng(devices=rng_devices):
            torch.manual_seed(seed)
            try:
                model = build_model()
            except invalid_errors as exc:
                raise _Rejected("invalid", str(exc)) from exc
            n_params = sum(p.numel() for p in model.parameters())
            if budget.max_params is not None and n_params > budget.max_params:
                raise _Rejected(
                    "too_large", f"{n_params:,} parameters > max_params {budget.max_params:,}"
                )
            model = model.to(dev)
            x, y = _to_tensors(*fit, dev)
            _forward_gate(model, x, num_classes, budget, dev)
            val = evals.get("val")
            val_t = _to_tensors(*val, dev) if val is not None else None
            curve = _train(model, x, y, budget, seed, start, val_t)
            scores = {
                name: curve[0][-1]
                if name == "val" and curve[0]  # the last epoch's score: same weights, no second pass
                else _accuracy(model, *_to_tensors(*xy, dev), budget)
                for name, xy in evals.items()
            }
    except _Rejected as exc:
        return replace(failed(exc.status, exc.reason), n_params=n_params)
    except Exception as exc:
        status = "oom" if _is_out_of_memory(exc) else "error"
        return replace(failed(status, f"{type(exc).__name__}: {exc}"), n_params=n_params)
    finally:
        del model
        if dev.type == "cuda":
            torch.cuda.empty_cache()
    return TrainResult(
        status="ok",
        val_acc=scores.get("val"),
        val_curve=curve[0],
        loss_curve=curve[1],
        test_acc=scores.get("test"),
        train_seconds=time.perf_counter() - start,
        n_params=n_params,
        epochs=budget.epochs,
        seed=seed,
        device=str(device),
    )


def _to_tensors(
    x: np.ndarray, y: np.ndarray, dev: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    # torch.tensor copies, so read-only or memory-mapped arrays are fine and the task's cached
    # arrays are never shared with (or modified through) the network.
    return torch.tensor(x, dtype=torch.float32, device=dev), torch.tensor(
        y, dtype=torch.long, device=dev
    )


def _synchronize(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def _forward_gate(
    model: nn.Module, x: torch.Tensor, num_classes: int, budget: Budget, dev: torch.device
) -> None:
    """Reject networks with the wrong output shape or a too slow forward pass on one batch."""
    model.eval()
    with torch.no_grad():
        out = model(x[:2])  # cheap first call: fails fast, and warms up kernels before timing
        expected = (len(x[:2]), num_classes)
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != expected:
            got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise _Rejected("invalid", f"network output is {got}, expected {expected}")
        if budget.max_forward_seconds is not None:
            batch = x[: budget.batch_size]
            _synchronize(dev)
            tic = time.perf_counter()
            model(batch)
            _synchronize(dev)
            seconds = time.perf_counter() - tic
            if seconds > budget.max_forward_seconds:
                raise _Rejected(
                    "too_slow",
                    f"forward pass on {len(batch)} examples took {seconds:.3f} s "
                    f"> max_forward_seconds {budget.max_forward_seconds}",
                )


def _train(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    budget: Budget,
    seed: int,
    start: float,
    val: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """SGD with a per-step cosine schedule; returns the learning curve: validation accuracy (when
    ``val`` is given) and mean training loss after each epoch."""
    n, batch_size = len(x), budget.batch_size
    # A last batch of one example would break BatchNorm in training mode: it is dropped.
    steps_per_epoch = max(1, n // batch_size + (n % batch_size > 1))
    total_steps = budget.epochs * steps_per_epoch
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=budget.lr,
        momentum=budget.momentum,
        weight_decay=budget.weight_decay,
        nesterov=budget.nesterov,
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1.0 + math.cos(math.pi * step / max(1, total_steps)))
    )
    loss_fn = nn.CrossEntropyLoss(label_smoothing=budget.label_smoothing)
    order = torch.Generator().manual_seed(seed)
    deadline = None if budget.max_train_seconds is None else start + budget.max_train_seconds
    val_curve: list[float] = []
    loss_curve: list[float] = []
    for epoch in range(budget.epochs):
        model.train()
        permutation = torch.randperm(n, generator=order).to(x.device)
        nonfinite = torch.zeros((), dtype=torch.bool, device=x.device)
        loss_sum = torch.zeros((), device=x.device)
        for step in range(steps_per_epoch):
            idx = permutation[step * batch_size : (step + 1) * batch_size]
            loss = loss_fn(model(x[idx]), y[idx])
            nonfinite |= ~torch.isfinite(loss)  # checked once per epoch: no device sync per step
            loss_sum += loss.detach()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            if deadline is not None and time.perf_counter() > deadline:
                raise _Rejected(
                    "timeout",
                    f"max_train_seconds {budget.max_train_seconds} exceeded in epoch "
                    f"{epoch + 1}/{budget.epochs}",
                )
        if nonfinite.item():
            raise _Rejected(
                "nan_loss", f"non-finite training loss in epoch {epoch + 1}/{budget.epochs}"
            )
        loss_curve.append(round(loss_sum.item() / steps_per_epoch, 6))
        if val is not None:
            val_curve.append(_accuracy(model, *val, budget))
        logger.debug("epoch %d/%d done, mean loss %.4f", epoch + 1, budget.epochs, loss_curve[-1])
    return tuple(val_curve), tuple(loss_curve)


def _accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, budget: Budget) -> float:
    """Top-1 accuracy in eval mode; a prediction with any non-finite logit counts as wrong."""
    model.eval()
    correct = torch.zeros((), dtype=torch.long, device=x.device)
    with torch.no_grad():
        for begin in range(0, len(x), budget.eval_batch_size):
            logits = model(x[begin : begin + budget.eval_batch_size])
            right = logits.argmax(dim=1) == y[begin : begin + budget.eval_batch_size]
            correct += (right & torch.isfinite(logits).all(dim=1)).sum()
    return correct.item() / max(1, len(x))


def _is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, (torch.OutOfMemoryError, MemoryError)):
        return True
    message = str(exc)
    return isinstance(exc, RuntimeError) and (
        "out of memory" in message or "can't allocate memory" in message
    )
