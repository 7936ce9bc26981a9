"""Fine-tuning a sequence-regression model with the Hugging Face ``Trainer`` (MSE on normalised
targets): optional augmentations and label noise, early stopping on the validation Kendall tau,
checkpoints in ``output_dir`` (resumable), CPU or CUDA, tqdm progress."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .config import TrainingConfig

__all__ = ["Example", "TrainResult", "collate", "train"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Example:
    """One training row: token ids (already encoded) or, with augmentations, the architecture."""

    ids: tuple[int, ...]
    target: float
    arch: Any = None
    input_shape: tuple[int, ...] = ()
    num_classes: int = 10


@dataclass(frozen=True)
class TrainResult:
    epochs_run: float
    best_val_tau: float | None
    steps: int
    seconds: float
    resumed_from: str | None


def collate(batch_ids: Sequence[Sequence[int]], pad_id: int) -> dict[str, Any]:
    """Right-padded ``input_ids`` and ``attention_mask`` tensors."""
    import torch

    width = max(len(x) for x in batch_ids)
    ids = torch.full((len(batch_ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch_ids), width), dtype=torch.long)
    for i, x in enumerate(batch_ids):
        ids[i, : len(x)] = torch.as_tensor(x, dtype=torch.long)
        mask[i, : len(x)] = 1
    return {"input_ids": ids, "attention_mask": mask}


class _Rows:
    """A map-style dataset; with augmentations each access draws a fresh augmented text."""

    def __init__(self, rows: Sequence[Example], cfg: TrainingConfig | None, tokenise: Callable[[Any, tuple, int], list[int]]):
        self.rows, self.cfg, self.tokenise = rows, cfg, tokenise
        self.rng = random.Random(cfg.seed if cfg else 0)
        self.np_rng = np.random.default_rng(cfg.seed if cfg else 0)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, Any]:
        from .augment import augment

        row, cfg = self.rows[i], self.cfg
        ids, target = row.ids, row.target
        if cfg is not None and cfg.augmentations and row.arch is not None and self.rng.random() < cfg.augment_p:
            new = augment(row.arch, cfg.augmentations, row.input_shape, self.rng, row.num_classes)
            if new is not row.arch:
                ids = tuple(self.tokenise(new, row.input_shape, row.num_classes))
        if cfg is not None and cfg.label_noise > 0:
            target = target + float(self.np_rng.normal(0.0, cfg.label_noise))
        return {"input_ids": ids, "labels": target}


def _kendall(pred: np.ndarray, y: np.ndarray) -> float:
    from scipy.stats import kendalltau

    pred = np.asarray(pred, dtype=np.float64).reshape(-1)
    if np.all(pred == pred[0]):
        return 0.0
    return float(kendalltau(pred, np.asarray(y).reshape(-1)).statistic)


def _last_checkpoint(output_dir: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(output_dir)) if output_dir.is_dir() else None


def train(
    model: Any,
    train_rows: Sequence[Example],
    val_rows: Sequence[Example],
    cfg: TrainingConfig,
    *,
    pad_id: int,
    tokenise: Callable[[Any, tuple, int], list[int]],
    output_dir: str | Path,
    device: str,
    resume: bool = False,
    progress: bool = True,
    save_checkpoints: bool = True,
) -> TrainResult:
    """Fine-tune ``model`` in place; the best model by validation Kendall tau is loaded at the end
    (when there is a validation split). ``resume``: continue from the last checkpoint in
    ``output_dir`` if there is one."""
    import time

    import torch
    from transformers import EarlyStoppingCallback, Trainer, TrainingArguments

    output_dir = Path(output_dir)
    has_val = len(val_rows) >= 2
    epoch_steps = -(-len(train_rows) // cfg.batch_size)
    strategy = "epoch" if has_val else "no"
    args = TrainingArguments(
        output_dir=str(output_dir),
        learning_rate=cfg.learning_rate,
        weight_decay=cfg.weight_decay,
        warmup_steps=cfg.warmup_ratio,  # a float < 1 is a fraction of the total steps
        lr_scheduler_type=cfg.scheduler,
        num_train_epochs=cfg.epochs,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=max(64, cfg.batch_size),
        eval_strategy=strategy,
        save_strategy="epoch" if (save_checkpoints or has_val) else "no",
        save_total_limit=2,
        save_only_model=not save_checkpoints,
        load_best_model_at_end=has_val,
        metric_for_best_model="tau" if has_val else None,
        greater_is_better=True,
        logging_strategy="steps",
        logging_steps=max(1, epoch_steps),
        report_to="none",
        disable_tqdm=not progress,
        use_cpu=device == "cpu",
        seed=cfg.seed,
        data_seed=cfg.seed,
        dataloader_pin_memory=device != "cpu",
        remove_unused_columns=False,
        train_sampling_strategy="group_by_length",  # batches of similar length: little padding
    )

    def data_collator(batch: list[dict]) -> dict:
        out = collate([b["input_ids"] for b in batch], pad_id)
        out["labels"] = torch.tensor([b["labels"] for b in batch], dtype=torch.float32)
        return out

    def compute_metrics(pred) -> dict[str, float]:
        return {"tau": _kendall(pred.predictions, pred.label_ids)}

    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=_Rows(train_rows, cfg, tokenise),
        eval_dataset=_Rows(val_rows, None, tokenise) if has_val else None,
        data_collator=data_collator,
        compute_metrics=compute_metrics if has_val else None,
        callbacks=[EarlyStoppingCallback(early_stopping_patience=cfg.patience)] if has_val else [],
    )
    if not progress:
        from transformers import PrinterCallback

        trainer.remove_callback(PrinterCallback)
    checkpoint = _last_checkpoint(output_dir) if resume else None
    if checkpoint:
        log.info("resuming from %s", checkpoint)
    start = time.perf_counter()
    out = trainer.train(resume_from_checkpoint=checkpoint)
    state = trainer.state
    best = state.best_metric if has_val else None
    return TrainResult(
        epochs_run=float(state.epoch or 0.0),
        best_val_tau=None if best is None else float(best),
        steps=int(out.global_step),
        seconds=time.perf_counter() - start,
        resumed_from=checkpoint,
    )
