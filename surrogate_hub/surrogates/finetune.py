"""Adapting a pretrained surrogate to a new task from architectures trained on it.

:func:`finetune` is the one entry point; ``strategy`` picks how the new rows are used (a registry:
:func:`register_finetune_strategy`). The base is never modified. Strategy options are keyword
arguments of :func:`finetune` (an unknown one is an error naming the accepted ones).

``"refit"`` (any surrogate; the default, and what a surrogate-filtered search does every
``refit_every`` trained candidates)
    A copy of ``base`` fitted from scratch on the new rows, optionally together with *transfer*
    rows (e.g. a corpus's other tasks, :func:`~.targets.training_rows`), each transfer row weighted
    ``weight`` (default 1) relative to a new row. Without transfer rows this is the *from-scratch*
    baseline: nothing of the base but its settings is used.
``"corpus"`` (any surrogate whose ``fit`` takes ``weights=``)
    Refit on the base's own training corpus (``config.corpus``, or ``transfer=``/``corpus=``) plus
    the new rows, the new rows up-weighted so that together they carry ``share`` of the total weight
    (default 0.8; the weights average 1 over all rows).
``"boost"`` (GRAF-XGBoost)
    Continued boosting: ``rounds`` (default 10) more trees with the base's own tree settings, fitted on the new
    rows starting from the base model's predictions (XGBoost ``xgb_model=``).
``"residual"`` (GRAF-XGBoost)
    A small, strongly regularised model of the *residual* of the zero-shot score on the new rows
    (shallow trees, ``max_depth`` 2, L2 ``reg_lambda`` 5, ``rounds`` 30 of them) added on top of the
    base's score. Stored as extra trees of the same XGBoost model, so the result saves and loads as
    an ordinary GRAF surrogate.
``"continue"`` (BERT)
    A few ``epochs`` of training from the pretrained surrogate's weights on the new rows (learning
    rate ``learning_rate``), the paper's recipe for refitting a BERT surrogate.

Targets are normalised per task as in pre-training (the new rows form one task). Which strategy to
use: :data:`RECOMMENDED` per surrogate kind, measured by ``benchmarks/finetune.py`` (results in
``benchmarks/results/finetune.md``).

:func:`finetune_with_report` adds what a user needs to trust the result: the Kendall tau of the base
and of the fine-tuned model on a held-out split of the user's rows, and the :class:`~.config.Lineage`
recorded in the saved ``config.json`` and model card.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import inspect
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..space.tree import Architecture
from .base import Surrogate, arch_texts
from .config import Lineage
from .targets import TrainingRows, normalise_targets

__all__ = [
    "FINETUNE_STRATEGIES",
    "RECOMMENDED",
    "base_revision",
    "effective_options",
    "finetune",
    "finetune_with_report",
    "recommended_strategy",
    "register_finetune_strategy",
    "rows_hash",
]

log = logging.getLogger(__name__)

#: The task label of the new rows when transfer rows are mixed in (never a corpus task name).
NEW_TASK = "<finetune-target>"

_STRATEGIES: dict[str, Callable[..., Surrogate]] = {}
FINETUNE_STRATEGIES = _STRATEGIES  # read-only view by convention: use register_finetune_strategy

#: The strategy to use per surrogate kind, picked by ``benchmarks/finetune.py`` (see its results).
#: :func:`finetune` keeps ``"refit"`` as its default (a search's periodic refit relies on it); the
#: ``surrogate-hub finetune`` command uses these.
RECOMMENDED: dict[str, str] = {"graf-xgb": "corpus", "bert": "continue"}


def recommended_strategy(surrogate: Any) -> str:
    """The recommended strategy for ``surrogate``'s kind (``"refit"`` for an unknown kind)."""
    kind = getattr(getattr(surrogate, "config", None), "surrogate", None)
    return RECOMMENDED.get(kind, "refit")


def register_finetune_strategy(name: str) -> Callable:
    """Decorator: ``fn(base, archs, accuracies, *, input_shape, num_classes, zcp, transfer, weight,
    **options)``; ``archs`` are strings, ``accuracies`` a float array (NaN for failed trainings)."""

    def register(fn: Callable[..., Surrogate]) -> Callable[..., Surrogate]:
        _STRATEGIES[name] = fn
        return fn

    return register


def _options_of(fn: Callable) -> list[str]:
    fixed = {"base", "archs", "accuracies", "input_shape", "num_classes", "zcp", "transfer", "weight"}
    return [p for p in inspect.signature(fn).parameters if p not in fixed]


def effective_options(strategy: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The options ``strategy`` runs with: its defaults updated by ``options`` (JSON values only;
    runtime switches such as ``progress`` left out)."""
    params = inspect.signature(_STRATEGIES[strategy]).parameters
    out = {k: p.default for k, p in params.items()
           if k in _options_of(_STRATEGIES[strategy]) and p.default is not p.empty and k != "progress"}
    out.update({k: v for k, v in (options or {}).items() if k != "progress"})
    return {k: v for k, v in out.items() if isinstance(v, (str, int, float, bool, type(None)))}


def finetune(
    base: Surrogate,
    archs: Sequence[str | Architecture],
    accuracies: Sequence[float | None] | np.ndarray,
    *,
    input_shape: Sequence[int],
    num_classes: int,
    zcp: Any = None,
    transfer: TrainingRows | None = None,
    weight: float | None = None,
    strategy: str = "refit",
    **options: Any,
) -> Surrogate:
    """A surrogate adapted to a task from ``archs`` trained on it with validation ``accuracies``
    (None/NaN for failed trainings; dropped like zero accuracies if the surrogate's config says so).

    ``input_shape``/``num_classes`` describe the task. ``zcp``: the task's zero-cost proxies of
    ``archs`` (``[n, k]`` in the surrogate's ``zcp_names`` order, or a mapping), required when the
    surrogate consumes proxies. ``transfer``: extra rows from other tasks (their ``zcp`` must be
    present when the surrogate consumes proxies), weighted ``weight`` each (``"refit"``). ``options``:
    the strategy's settings (see the module docstring). ``base`` is not changed.
    """
    try:
        fn = _STRATEGIES[strategy]
    except KeyError:
        raise ValueError(f"unknown fine-tuning strategy {strategy!r}; known: {sorted(_STRATEGIES)}") from None
    if weight is not None and not weight >= 0:
        raise ValueError(f"weight must be >= 0, got {weight}")
    accepted = _options_of(fn)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(f"strategy {strategy!r} has no option(s) {unknown}; it accepts {accepted or 'none'}")
    texts = list(arch_texts(archs))
    acc = np.array([np.nan if a is None else a for a in accuracies], dtype=np.float64).reshape(-1)
    if len(acc) != len(texts):
        raise ValueError(f"got {len(texts)} architectures but {len(acc)} accuracies")
    return fn(
        base, texts, acc, input_shape=tuple(input_shape), num_classes=int(num_classes), zcp=zcp,
        transfer=transfer, weight=None if weight is None else float(weight), **options,
    )


# ------------------------------------------------------------------------------------ shared pieces
def _zcp_matrix(zcp: Any, names: Sequence[str], n: int, what: str) -> np.ndarray | None:
    if not names:
        if zcp is not None:
            raise ValueError(f"{what}: the surrogate uses no zero-cost proxies; drop zcp=")
        return None
    if zcp is None:
        raise ValueError(f"{what}: the surrogate uses the zero-cost proxies {list(names)}: pass their values")
    if isinstance(zcp, Mapping):
        missing = [k for k in names if k not in zcp]
        if missing:
            raise ValueError(f"{what}: missing the proxies {missing} (needed: {list(names)})")
        zcp = np.stack([np.asarray([np.nan if v is None else v for v in zcp[k]], dtype=np.float64) for k in names], axis=1)
    m = np.asarray(zcp, dtype=np.float64)
    if m.size != n * len(names):
        raise ValueError(f"{what}: expected {n} x {len(names)} proxy values, got shape {m.shape}")
    return m.reshape(n, len(names))


def _fit_with(
    base: Surrogate,
    texts: list[str],
    acc: np.ndarray,
    *,
    input_shape: tuple[int, ...],
    num_classes: int,
    zcp: Any,
    transfer: TrainingRows | None,
    user_weight: float,
    transfer_weight: float,
) -> Surrogate:
    """A copy of ``base`` fitted on the new rows (weight ``user_weight``) + ``transfer`` rows."""
    names = tuple(getattr(base, "zcp_names", ()))
    z_new = _zcp_matrix(zcp, names, len(texts), "zcp")
    n_new = len(texts)
    texts = list(texts)
    shapes: list = [tuple(input_shape)] * n_new
    classes: list = [num_classes] * n_new
    tasks: list[str] = [NEW_TASK] * n_new
    weights = [user_weight] * n_new
    z_all = z_new
    if transfer is not None and len(transfer) and transfer_weight > 0:
        if names and transfer.zcp is None:
            raise ValueError(f"transfer rows have no zero-cost proxies; the surrogate needs {list(names)}")
        texts += list(transfer.archs)
        acc = np.concatenate([acc, transfer.targets])
        shapes += list(transfer.input_shapes)
        classes += list(transfer.num_classes)
        tasks += list(transfer.tasks)
        weights += [transfer_weight] * len(transfer)
        if names:
            z_all = np.concatenate([z_new, np.asarray(transfer.zcp, dtype=np.float64)])
    surrogate = copy.deepcopy(base)
    kwargs: dict[str, Any] = {"input_shapes": shapes, "num_classes": classes}
    if names:
        kwargs["zcp"] = z_all
    if any(w != 1.0 for w in weights):
        if "weights" not in inspect.signature(surrogate.fit).parameters:
            raise TypeError(f"{type(base).__name__}.fit takes no weights=; use weight=1.0 for its transfer rows")
        kwargs["weights"] = weights
    log.info("refit on %d new rows (weight %.3g) + %d transfer rows (weight %.3g)",
             n_new, user_weight, len(texts) - n_new, transfer_weight)
    return surrogate.fit(texts, acc, tasks, **kwargs)


# ---------------------------------------------------------------------------------------- strategies
@register_finetune_strategy("refit")
def _refit(
    base: Surrogate, archs: list[str], accuracies: np.ndarray, *, input_shape: tuple[int, ...], num_classes: int,
    zcp: Any, transfer: TrainingRows | None, weight: float | None,
) -> Surrogate:
    return _fit_with(base, archs, accuracies, input_shape=input_shape, num_classes=num_classes, zcp=zcp,
                     transfer=transfer, user_weight=1.0, transfer_weight=1.0 if weight is None else weight)


@functools.lru_cache(maxsize=4)
def _corpus_rows(location: str, revision: str | None, zcp: tuple[str, ...]) -> TrainingRows:
    from ..corpus import load
    from .targets import training_rows

    dataset = load(location, revision=revision, **({"zcp": True} if zcp else {}))
    return training_rows(dataset, drop_zero=False, zcp=zcp)


def base_corpus_rows(base: Surrogate, corpus: str | None = None, revision: str | None = None) -> TrainingRows:
    """The training rows of ``base``'s corpus (``config.corpus``, or the given ``corpus`` folder or
    Hub dataset id), with the zero-cost proxies the surrogate consumes. Cached per location."""
    ref = getattr(getattr(base, "config", None), "corpus", None)
    location = corpus or getattr(ref, "repo_or_path", None)
    if corpus is None:
        revision = getattr(ref, "revision", None)
    if not location:
        raise ValueError("the base surrogate records no training corpus: pass corpus= (a corpus folder or Hub dataset id)")
    names = tuple(getattr(base, "zcp_names", ()))
    try:
        # a local folder's "revision" is a content hash, not a Hub revision
        rows = _corpus_rows(str(location), None if Path(str(location)).is_dir() else revision, names)
    except FileNotFoundError as err:
        raise ValueError(f"the base surrogate's training corpus {location!r} is not available here ({err}); "
                         "pass corpus= (a corpus folder or Hub dataset id; surrogate-hub finetune --corpus)") from None
    except Exception as err:
        if type(err).__module__.startswith("huggingface_hub"):
            raise ValueError(f"the base surrogate's training corpus {location!r} could not be loaded "
                             f"({' '.join(str(err).split())[:200]}); pass corpus= (a local corpus folder)") from None
        raise
    return rows


@register_finetune_strategy("corpus")
def _corpus(
    base: Surrogate, archs: list[str], accuracies: np.ndarray, *, input_shape: tuple[int, ...], num_classes: int,
    zcp: Any, transfer: TrainingRows | None, weight: float | None, share: float = 0.8, corpus: str | None = None,
) -> Surrogate:
    if weight is not None:
        raise ValueError("strategy 'corpus' weights the rows itself: give share= (the new rows' share of the total weight), not weight=")
    if not 0 < share < 1:
        raise ValueError(f"share must be in (0, 1), got {share}")
    rows = transfer if transfer is not None else base_corpus_rows(base, corpus)
    n_new = max(1, int(np.sum(np.isfinite(accuracies) & (accuracies != 0))))
    n_t = len(rows)
    # weights average 1 over all rows, so XGBoost's regularisation (min_child_weight, lambda) keeps its scale
    total = n_new + n_t
    return _fit_with(base, archs, accuracies, input_shape=input_shape, num_classes=num_classes, zcp=zcp,
                     transfer=rows, user_weight=share * total / n_new, transfer_weight=(1 - share) * total / max(n_t, 1))


def _graf_only(base: Any, strategy: str) -> None:
    if getattr(getattr(base, "config", None), "surrogate", None) != "graf-xgb" or not hasattr(type(base), "booster"):
        raise ValueError(f"strategy {strategy!r} continues an XGBoost model: it needs a GRAF-XGBoost surrogate, "
                         f"got {type(base).__name__}; use 'refit', 'corpus' or 'continue'")
    if not getattr(base, "is_fitted", False):
        raise ValueError(f"strategy {strategy!r} continues the base model, but the base surrogate is not fitted")


def _boost_from_base(
    base: Any, archs: list[str], accuracies: np.ndarray, input_shape: tuple[int, ...], num_classes: int, zcp: Any,
    params: dict[str, Any], rounds: int,
) -> Any:
    from .graf_xgb import _xgboost

    xgb = _xgboost()
    names = tuple(base.zcp_names)
    z = _zcp_matrix(zcp, names, len(archs), "zcp")
    keep = np.isfinite(accuracies)
    if base.config.target.drop_zero:
        keep &= accuracies != 0
    idx = np.flatnonzero(keep)
    if len(idx) < 2:
        raise ValueError(f"need at least 2 new rows with a usable accuracy, got {len(idx)} of {len(archs)}")
    y = normalise_targets(accuracies[idx], None, base.config.target.normalisation)
    X = base.features([archs[i] for i in idx], input_shapes=input_shape, num_classes=num_classes,
                      zcp=None if z is None else z[idx])
    if not isinstance(rounds, int) or isinstance(rounds, bool) or rounds < 1:
        raise ValueError(f"rounds must be a positive int, got {rounds!r}")
    merged = {k: v for k, v in base.config.xgb_params.items() if k != "n_estimators"}
    merged.update(params)
    merged.setdefault("verbosity", 0)
    merged["nthread"] = base._nthread()
    dtrain = xgb.DMatrix(X, label=y, missing=np.nan, feature_names=list(base.feature_names))
    booster = xgb.train(merged, dtrain, num_boost_round=rounds, xgb_model=base.booster.copy())
    tuned = copy.copy(base)  # config (frozen) and any runtime settings are shared; the trees are new
    tuned._booster, tuned._forest, tuned._model_path = booster, None, None
    return tuned


@register_finetune_strategy("boost")
def _boost(
    base: Surrogate, archs: list[str], accuracies: np.ndarray, *, input_shape: tuple[int, ...], num_classes: int,
    zcp: Any, transfer: TrainingRows | None, weight: float | None, rounds: int = 10,
    learning_rate: float | None = None,
) -> Surrogate:
    _graf_only(base, "boost")
    if transfer is not None or weight is not None:
        raise ValueError("strategy 'boost' continues from the base model on the new rows only: drop transfer=/weight=")
    params = {} if learning_rate is None else {"learning_rate": float(learning_rate)}
    return _boost_from_base(base, archs, accuracies, input_shape, num_classes, zcp, params, rounds)


@register_finetune_strategy("residual")
def _residual(
    base: Surrogate, archs: list[str], accuracies: np.ndarray, *, input_shape: tuple[int, ...], num_classes: int,
    zcp: Any, transfer: TrainingRows | None, weight: float | None, rounds: int = 30, max_depth: int = 2,
    learning_rate: float = 0.05, reg_lambda: float = 5.0,
) -> Surrogate:
    _graf_only(base, "residual")
    if transfer is not None or weight is not None:
        raise ValueError("strategy 'residual' models the new rows only: drop transfer=/weight=")
    params = {"max_depth": int(max_depth), "learning_rate": float(learning_rate), "reg_lambda": float(reg_lambda),
              "min_child_weight": 1, "subsample": 1.0, "colsample_bytree": 1.0}
    return _boost_from_base(base, archs, accuracies, input_shape, num_classes, zcp, params, rounds)


@register_finetune_strategy("continue")
def _continue(
    base: Surrogate, archs: list[str], accuracies: np.ndarray, *, input_shape: tuple[int, ...], num_classes: int,
    zcp: Any, transfer: TrainingRows | None, weight: float | None, epochs: float = 3.0,
    learning_rate: float = 5e-5, batch_size: int | None = None, progress: bool = False,
) -> Surrogate:
    cfg = getattr(base, "config", None)
    if getattr(cfg, "surrogate", None) != "bert" or not hasattr(cfg, "training"):
        raise ValueError(f"strategy 'continue' trains a neural surrogate further from its weights: it needs a BERT "
                         f"surrogate, got {type(base).__name__}; for GRAF-XGBoost use 'boost' (more trees from the base)")
    if not getattr(base, "is_fitted", False):
        raise ValueError("strategy 'continue' starts from the base's weights, but the base surrogate is not fitted")
    if zcp is not None or transfer is not None or weight is not None:
        raise ValueError("strategy 'continue' trains on the new rows only: drop zcp=/transfer=/weight=")
    training = dataclasses.replace(cfg.training, epochs=float(epochs), learning_rate=float(learning_rate),
                                   **({"batch_size": int(batch_size)} if batch_size else {}))
    tuned = copy.deepcopy(base)
    tuned.config = dataclasses.replace(cfg, training=training)
    return tuned.fit(archs, accuracies, [NEW_TASK] * len(archs), input_shapes=input_shape, num_classes=num_classes,
                     progress=progress)


# ------------------------------------------------------------------------------- report and lineage
def rows_hash(archs: Sequence[str], accuracies: Sequence[float | None] | np.ndarray) -> str:
    """SHA-256 of the rows as canonical JSON lines ``[arch, accuracy]`` (accuracy ``null`` when missing):
    the same rows give the same hash whatever file format they came from."""
    h = hashlib.sha256()
    for a, v in zip(arch_texts(archs), accuracies):
        value = None if v is None or not np.isfinite(float(v)) else float(v)
        h.update(json.dumps([a, value], separators=(",", ":")).encode() + b"\n")
    return h.hexdigest()


def _folder_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.name != "README.md"):
        h.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:16]


def base_revision(name_or_path: str, revision: str | None = None) -> str | None:
    """The exact version of a base surrogate as loaded by ``load_surrogate(name_or_path, revision=...)``:
    the Hub commit of a repo (from the local cache), ``embedded:<package version>:<hash>`` for an
    embedded copy, ``folder:<hash>`` for a local folder (hash of its files but the card)."""
    from .. import __version__
    from .errors import SurrogateError
    from .registry import resolve_source

    try:
        source = resolve_source(name_or_path, prefer_hub=revision is not None)
    except SurrogateError:  # e.g. an in-memory surrogate given a descriptive name
        return revision
    if source.where == "local":
        digest = _folder_hash(Path(source.location))
        return f"embedded:{__version__}:{digest}" if source.name else f"folder:{digest}"
    try:
        from huggingface_hub import hf_hub_download

        path = Path(hf_hub_download(source.location, "config.json", revision=revision, local_files_only=True))
        return path.parent.name  # .../snapshots/<commit>/config.json
    except Exception as err:  # noqa: BLE001 - the revision is informative; never fail a fine-tune on it
        log.warning("could not determine the revision of %s: %s", source.location, err)
        return revision


def _kendall(scores: np.ndarray, acc: np.ndarray) -> float | None:
    from scipy.stats import kendalltau

    ok = np.isfinite(scores) & np.isfinite(acc)
    x, y = scores[ok], acc[ok]
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    return float(kendalltau(x, y).statistic)


def heldout_split(accuracies: np.ndarray, holdout: float, seed: int, min_rows: int = 5) -> np.ndarray:
    """Indices of the held-out rows: a ``holdout`` fraction of the usable rows (finite, non-zero),
    at least ``min_rows``; none when fewer than ``2 * min_rows`` rows are usable."""
    if not 0 <= holdout < 1:
        raise ValueError(f"holdout must be in [0, 1), got {holdout}")
    usable = np.flatnonzero(np.isfinite(accuracies) & (accuracies != 0))
    if holdout == 0 or len(usable) < 2 * min_rows:
        return np.empty(0, dtype=np.int64)
    k = max(min_rows, round(holdout * len(usable)))
    return np.sort(np.random.default_rng(seed).choice(usable, size=k, replace=False))


def finetune_with_report(
    base: Surrogate,
    archs: Sequence[str | Architecture],
    accuracies: Sequence[float | None] | np.ndarray,
    *,
    input_shape: Sequence[int],
    num_classes: int,
    base_name: str,
    zcp: Any = None,
    strategy: str | None = None,
    holdout: float = 0.2,
    seed: int = 0,
    data_file: str | None = None,
    revision: str | None = None,
    **options: Any,
) -> tuple[Surrogate, Lineage]:
    """Fine-tune ``base`` and measure it: returns the surrogate fine-tuned on *all* rows, with its
    :class:`~.config.Lineage` set in ``config.lineage`` (saved by ``save_pretrained``), and the lineage.

    ``holdout`` of the usable rows (random, ``seed``; at least 5, none when fewer than 10 rows are
    usable) are held out first: the base's zero-shot Kendall tau on them (``tau_before``) and the tau
    of a model fine-tuned on the other rows (``tau_after``) go into the lineage. ``strategy``: default
    :func:`recommended_strategy`. ``base_name``/``revision``: how the base was loaded (for the record).
    """
    from .. import __version__

    strategy = strategy or recommended_strategy(base)
    texts = list(arch_texts(archs))
    acc = np.array([np.nan if a is None else a for a in accuracies], dtype=np.float64).reshape(-1)
    if len(acc) != len(texts):
        raise ValueError(f"got {len(texts)} architectures but {len(acc)} accuracies")
    names = tuple(getattr(base, "zcp_names", ()))
    z = _zcp_matrix(zcp, names, len(texts), "zcp")
    shape, k = tuple(int(d) for d in input_shape), int(num_classes)
    held = heldout_split(acc, holdout, seed)
    tau_before = tau_after = None
    if len(held):
        rest = np.setdiff1d(np.arange(len(texts)), held)
        part = finetune(base, [texts[i] for i in rest], acc[rest], input_shape=shape, num_classes=k,
                        zcp=None if z is None else z[rest], strategy=strategy, **options)
        h_texts = [texts[i] for i in held]
        extra = {} if z is None else {"zcp": z[held]}
        before = base.predict(h_texts, input_shape=shape, num_classes=k, **extra)
        after = part.predict(h_texts, input_shape=shape, num_classes=k, **extra)
        tau_before, tau_after = _kendall(before, acc[held]), _kendall(after, acc[held])
        log.info("held-out tau on %d rows: %s before, %s after", len(held), tau_before, tau_after)
    tuned = finetune(base, texts, acc, input_shape=shape, num_classes=k, zcp=z, strategy=strategy, **options)
    parent = getattr(getattr(base, "config", None), "lineage", None)
    lineage = Lineage(
        base=str(base_name),
        base_revision=revision if revision and len(revision) == 40 else base_revision(str(base_name), revision),
        strategy=strategy,
        options=effective_options(strategy, options),
        data_sha256=rows_hash(texts, acc),
        data_file=data_file,
        n_rows=int(np.sum(np.isfinite(acc))),
        n_heldout=len(held),
        tau_before=tau_before,
        tau_after=tau_after,
        input_shape=shape,
        num_classes=k,
        split_seed=int(seed),
        package_version=__version__,
        parent=None if parent is None else parent.to_dict(),
    )
    cfg = getattr(tuned, "config", None)
    if dataclasses.is_dataclass(cfg) and any(f.name == "lineage" for f in dataclasses.fields(cfg)):
        tuned.config = dataclasses.replace(cfg, lineage=lineage)  # type: ignore[attr-defined]
    return tuned, lineage
