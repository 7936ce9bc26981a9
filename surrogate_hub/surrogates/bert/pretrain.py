"""Masked-language-model pretraining of the einspace-native BERT on strings sampled from the grammar.

Samples are cheap and unlimited: architectures drawn by the PCFG sampler at several input shapes,
written in both encodings (:mod:`.text`), tokenised with a fresh einspace tokenizer. A small BERT
(:data:`~.model.NATIVE_SIZES`) learns to fill in 15 % masked tokens (``DataCollatorForLanguageModeling``)
for a bounded number of steps or seconds. The output folder is a standard transformers folder
(``config.json``, ``model.safetensors``, tokenizer files) plus ``einspace_mlm.json`` (what was done);
give it as ``base`` to :class:`~.model.BertSurrogate` to fine-tune from it. Checkpoints go to
``<out>/checkpoints``; running again resumes from the last one.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

__all__ = ["DEFAULT_SHAPES", "MARKER_FILE", "pretrain_mlm", "sample_texts"]

log = logging.getLogger(__name__)

MARKER_FILE: Final = "einspace_mlm.json"
#: input shapes sampled for pretraining: those of the offline corpus and common image sizes
DEFAULT_SHAPES: Final = ((1, 8, 8), (3, 8, 8), (12, 8, 8), (1, 16, 16), (1, 16, 26), (1, 32, 32), (3, 32, 32), (3, 28, 28))
#: sampler limits of corpus v1 (small networks), used for half of the samples
CORPUS_LIMITS: Final = {"max_params": 300_000, "max_activation": 30_000, "max_total_activation": 100_000}


def sample_texts(n: int, shapes: Sequence[Sequence[int]] = DEFAULT_SHAPES, seed: int = 0) -> list[str]:
    """``n`` texts: architectures sampled at ``shapes`` (half with the corpus limits, half with
    the sampler's defaults), alternately in the long and the compact encoding."""
    from ...space import Limits, sample_many
    from .text import encode

    texts: list[str] = []
    per = -(-n // (2 * len(shapes)))
    for i, shape in enumerate(shapes):
        for j, limits in enumerate((Limits(**CORPUS_LIMITS), None)):
            for k, arch in enumerate(sample_many(per, tuple(shape), seed=seed * 1000 + 2 * i + j, limits=limits)):
                texts.append(encode(arch, "long" if k % 2 == 0 else "compact", shape))
    return texts[:n]


class _StopAfter:
    """A TrainerCallback that stops training after ``seconds`` of wall time."""

    def __new__(cls, seconds: float):
        from transformers import TrainerCallback

        class StopAfter(TrainerCallback):
            def __init__(self) -> None:
                self.start = time.monotonic()

            def on_step_end(self, args, state, control, **kwargs):
                if time.monotonic() - self.start > seconds:
                    control.should_training_stop = True
                    control.should_save = True
                return control

        return StopAfter()


def pretrain_mlm(
    out_dir: str | Path,
    *,
    n_texts: int = 20_000,
    shapes: Sequence[Sequence[int]] = DEFAULT_SHAPES,
    max_tokens: int = 256,
    seconds: float = 600.0,
    max_steps: int = 20_000,
    batch_size: int = 32,
    learning_rate: float = 5e-4,
    seed: int = 0,
    sizes: dict[str, int] | None = None,
    device: str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Pretrain the native BERT with MLM and save it to ``out_dir``; returns the summary written
    to ``einspace_mlm.json``. Texts longer than ``max_tokens`` are left out (counted in the summary)."""
    import torch
    from transformers import (
        BertConfig,
        BertForMaskedLM,
        DataCollatorForLanguageModeling,
        PreTrainedTokenizerFast,
        Trainer,
        TrainingArguments,
    )
    from transformers.trainer_utils import get_last_checkpoint

    from .model import NATIVE_SIZES
    from .tokenizer import build_tokenizer

    out_dir = Path(out_dir)
    ckpt_dir = out_dir / "checkpoints"
    start = time.perf_counter()
    texts = sample_texts(n_texts, shapes, seed)
    tok = build_tokenizer(texts)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]"
    )
    encoded = [e.ids for e in tok.encode_batch(texts)]
    kept = [{"input_ids": ids} for ids in encoded if len(ids) <= max_tokens]
    dropped = len(encoded) - len(kept)
    log.info("MLM pretraining on %d texts (%d longer than %d tokens left out)", len(kept), dropped, max_tokens)
    size = {**NATIVE_SIZES, **(sizes or {})}
    torch.manual_seed(seed)
    model = BertForMaskedLM(BertConfig(vocab_size=tok.get_vocab_size(), pad_token_id=tok.token_to_id("[PAD]"), **size))
    dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
    args = TrainingArguments(
        output_dir=str(ckpt_dir),
        learning_rate=learning_rate,
        weight_decay=0.01,
        warmup_steps=100,
        lr_scheduler_type="constant_with_warmup",  # training usually ends on the time budget
        max_steps=max_steps,
        per_device_train_batch_size=batch_size,
        save_strategy="steps",
        save_steps=200,
        save_total_limit=1,
        logging_steps=50,
        report_to="none",
        disable_tqdm=not progress,
        use_cpu=dev == "cpu",
        seed=seed,
        remove_unused_columns=False,
        train_sampling_strategy="group_by_length",
        dataloader_pin_memory=dev != "cpu",
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=kept,
        data_collator=DataCollatorForLanguageModeling(tokenizer=fast, mlm_probability=0.15),
        callbacks=[_StopAfter(seconds)],
    )
    last = get_last_checkpoint(str(ckpt_dir)) if ckpt_dir.is_dir() else None
    result = trainer.train(resume_from_checkpoint=last)
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    fast.save_pretrained(out_dir)
    summary = {
        "n_texts": len(kept),
        "dropped_longer_than_max_tokens": dropped,
        "max_tokens": max_tokens,
        "shapes": [list(s) for s in shapes],
        "steps": int(result.global_step),
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "first_loss": losses[0] if losses else None,
        "final_loss": losses[-1] if losses else None,
        "seconds": round(time.perf_counter() - start, 1),
        "resumed_from": last,
        "sizes": size,
        "vocab_size": tok.get_vocab_size(),
        "n_parameters": int(sum(p.numel() for p in model.parameters())),
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
    }
    tmp = out_dir / (MARKER_FILE + ".tmp")
    tmp.write_text(json.dumps(summary, indent=1) + "\n")
    tmp.replace(out_dir / MARKER_FILE)
    return summary
