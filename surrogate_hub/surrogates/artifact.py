"""The persistence path every surrogate family shares: file names, resolving an artifact file in a
folder or a Hub repo, reading ``config.json`` safely, the grammar check, and a Hub mixin.

:class:`SurrogateHubMixin` gives every family the ``huggingface_hub`` mixin protocol
(``save_pretrained`` / ``from_pretrained`` / ``push_to_hub``, the same arguments as
``huggingface_hub.ModelHubMixin``) with the changes that every family needs: ``from_pretrained``
validates before constructing and refuses unknown keywords; a card written by
``save_pretrained``/``push_to_hub`` names *its* repo id (or the folder's name); the Hub keywords
(:data:`HUB_KEYWORDS`) are passed through unchanged; ``save_pretrained`` refuses an unfitted
surrogate. It does not subclass ``ModelHubMixin``: ``huggingface_hub`` is imported only when the Hub
or a model card is used, so loading a local folder (and ranking with it) starts fast. It also does
the steps every family repeats: writing ``config.json``, reading and checking it (kind, format
version, grammar) before any model file is fetched, and the model card.

A family (which also subclasses :class:`~.base.SurrogateBase`, for ``_check_fitted``) sets
``_kind`` (its ``surrogate`` kind), ``_config_class`` (with ``from_dict(raw, source)`` and
``to_dict()``) and ``_card_name`` (the card's default model name), lists its own load options in
``_load_options``, and implements ``_save_model(folder)`` (its model files),
``_load(config, fetch, *, source, **options)`` (build the surrogate from a checked config;
``fetch(filename)`` gives the path of another file of the artifact) and ``_card_values()`` (its
template values); ``_check_config(config, source)`` may add checks.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

if TYPE_CHECKING:
    from huggingface_hub import ModelCard, ModelCardData

from ..space.ops import grammar_hash, legacy_grammar_hashes
from .errors import GrammarMismatchError, SurrogateLoadError

__all__ = [
    "CARD_FILE",
    "CARD_TAGS",
    "CONFIG_FILE",
    "HUB_KEYWORDS",
    "PAPER_URL",
    "SurrogateHubMixin",
    "check_grammar",
    "looks_like_repo_id",
    "read_config_file",
    "resolve_file",
    "write_config",
]

log = logging.getLogger(__name__)

CONFIG_FILE: Final = "config.json"
CARD_FILE: Final = "README.md"
PAPER_URL: Final = "https://arxiv.org/abs/2504.12971"
#: The model card tags of every surrogate; each family adds its own.
CARD_TAGS: Final = ("surrogate-hub", "einspace", "neural-architecture-search", "performance-prediction")
#: The ``huggingface_hub`` download keywords every ``from_pretrained`` accepts.
HUB_KEYWORDS: Final = ("revision", "cache_dir", "force_download", "local_files_only", "token")


# ------------------------------------------------------------------------------------- file access
def resolve_file(
    model_id: str | Path,
    filename: str,
    *,
    revision: str | None = None,
    cache_dir: str | Path | None = None,
    force_download: bool = False,
    local_files_only: bool = False,
    token: str | bool | None = None,
) -> Path:
    """``filename`` of a saved surrogate: in the folder ``model_id`` if it is one, else downloaded
    from the Hub repo ``model_id`` (through the cache). A file missing from the folder or repo is a
    :class:`SurrogateLoadError`; other Hub errors (no such repo, offline) propagate."""
    folder = Path(model_id)
    if folder.is_dir():
        path = folder / filename
        if not path.is_file():
            raise SurrogateLoadError(f"{path}: not found (a saved surrogate has {CONFIG_FILE} and its model file)")
        return path
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError

    try:
        return Path(
            hf_hub_download(
                repo_id=str(model_id),
                filename=filename,
                revision=revision,
                cache_dir=cache_dir,
                force_download=force_download,
                local_files_only=local_files_only,
                token=token,
            )
        )
    except EntryNotFoundError as err:
        if isinstance(err, LocalEntryNotFoundError):
            raise
        at = f"@{revision}" if revision else ""
        raise SurrogateLoadError(f"{model_id}{at}: the repo has no {filename}") from None


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The JSON object in ``path`` (a ``config.json``), or a :class:`SurrogateLoadError` saying why
    it is unusable. Only JSON is read: nothing is executed or unpickled."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SurrogateLoadError(f"{path}: not found (a saved surrogate has a {CONFIG_FILE})") from None
    except UnicodeDecodeError:
        raise SurrogateLoadError(f"{path}: not a text (JSON) file") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise SurrogateLoadError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(raw, dict):
        raise SurrogateLoadError(f"{path}: expected a JSON object, got {type(raw).__name__}")
    return raw


def write_config(folder: str | Path, config: Any) -> Path:
    """Write ``config.to_dict()`` as ``folder/config.json`` (indented, one trailing newline)."""
    path = Path(folder) / CONFIG_FILE
    path.write_text(json.dumps(config.to_dict(), indent=2) + "\n", encoding="utf-8")
    return path


def check_grammar(trained_for: str, source: str, allow_grammar_mismatch: bool) -> None:
    """Refuse (or, when allowed, warn about) a surrogate trained for another einspace grammar."""
    current = grammar_hash()
    if trained_for != current and trained_for not in legacy_grammar_hashes():
        msg = (
            f"{source}: the surrogate was trained for einspace grammar {trained_for}, this "
            f"installation has {current}; its scores may be meaningless"
        )
        if not allow_grammar_mismatch:
            raise GrammarMismatchError(msg + " (pass allow_grammar_mismatch=True to load it anyway)")
        log.warning(msg)


def looks_like_repo_id(text: str) -> bool:
    """``owner/name`` and not an existing path."""
    return bool(re.fullmatch(r"[A-Za-z0-9][\w.-]*/[\w.-]+", text)) and not Path(text).exists()


# ---------------------------------------------------------------------------------------- mixin
class SurrogateHubMixin:
    """The Hub mixin of surrogates (see the module docstring). The card metadata every family
    shares (library, license, tags, paper) is declared here; a family adds its ``tags`` and
    ``pipeline_tag`` as class keywords: ``class GrafSurrogate(..., tags=[...], pipeline_tag=...)``."""

    _card_tags: ClassVar[tuple[str, ...]] = CARD_TAGS
    _pipeline_tag: ClassVar[str | None] = None

    def __init_subclass__(cls, *, tags: list[str] | None = None, pipeline_tag: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if tags is not None:  # a family's own tags beside those of every surrogate (not its parent's)
            cls._card_tags = tuple(CARD_TAGS) + tuple(tags)
        if pipeline_tag is not None:
            cls._pipeline_tag = pipeline_tag

    #: keywords of ``from_pretrained`` beyond :data:`HUB_KEYWORDS`, passed to ``_from_pretrained``
    _load_options: ClassVar[tuple[str, ...]] = ()
    _kind: ClassVar[str]  #: the ``surrogate`` kind in ``config.json``; names the card template
    _config_class: ClassVar[Any]  #: the family's config dataclass
    _card_name: ClassVar[str]  #: the card's model name when neither a repo id nor a folder names it
    config: Any

    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str | Path,
        *,
        force_download: bool = False,
        token: str | bool | None = None,
        cache_dir: str | Path | None = None,
        local_files_only: bool = False,
        revision: str | None = None,
        **options: Any,
    ):
        """Load a saved surrogate from a local folder or a Hub repo id (``revision``, ``cache_dir``,
        ``force_download``, ``local_files_only`` and ``token`` as in ``huggingface_hub``) with the
        family's load ``options`` (``cls._load_options``); any other keyword is a ``TypeError``."""
        unknown = sorted(set(options) - set(cls._load_options))
        if unknown:
            raise TypeError(
                f"{cls.__name__}.from_pretrained() got unknown keyword argument(s) {unknown}; it accepts "
                f"the Hub keywords {list(HUB_KEYWORDS)} and {list(cls._load_options)}"
            )
        return cls._from_pretrained(
            model_id=str(pretrained_model_name_or_path),
            revision=revision,
            cache_dir=cache_dir,
            force_download=force_download,
            local_files_only=local_files_only,
            token=token,
            **options,
        )

    @classmethod
    def _from_pretrained(
        cls,
        *,
        model_id: str,
        revision: str | None,
        cache_dir: str | Path | None,
        force_download: bool,
        local_files_only: bool,
        token: str | bool | None,
        allow_grammar_mismatch: bool = False,
        **options: Any,
    ):
        """The loader behind ``from_pretrained``: validation comes first. ``config.json`` is read with
        the family's readers and checked (grammar hash: an error unless ``allow_grammar_mismatch``;
        then ``_check_config``) before ``_load`` fetches the model files."""
        fetch = functools.partial(
            resolve_file,
            model_id,
            revision=revision,
            cache_dir=cache_dir,
            force_download=force_download,
            local_files_only=local_files_only,
            token=token,
        )
        config_path = fetch(CONFIG_FILE)
        source = str(config_path)
        config = cls._config_class.from_dict(read_config_file(config_path), source=source)
        check_grammar(config.grammar_hash, source, allow_grammar_mismatch)
        cls._check_config(config, source)
        return cls._load(config, fetch, source=source, **options)

    @classmethod
    def _check_config(cls, config: Any, source: str) -> None:
        """Family checks of a read ``config.json`` beyond kind, version and grammar (none here)."""

    @classmethod
    def _load(cls, config: Any, fetch: Callable[[str], Path], *, source: str, **options: Any):  # pragma: no cover
        raise NotImplementedError

    def _save_pretrained(self, save_directory: Path) -> None:
        """Write ``config.json`` and the model files (``_save_model``); ``save_pretrained`` then
        writes the card (an existing ``README.md`` is replaced)."""
        write_config(save_directory, self.config)
        self._save_model(Path(save_directory))

    def _save_model(self, save_directory: Path) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- model card ---------------------------------------------------------------------------
    def card_data(self, model_name: str | None = None) -> ModelCardData:
        """The card's YAML metadata: library, tags, license, datasets and ``model-index`` metrics."""
        from huggingface_hub import ModelCardData

        from .card import eval_results

        base = {"library_name": "surrogate-hub", "license": "apache-2.0", "pipeline_tag": self._pipeline_tag,
                "tags": sorted(set(self._card_tags))}
        corpus = self.config.corpus.repo_or_path
        datasets = [corpus] if corpus and looks_like_repo_id(corpus) else None
        name = model_name or self._card_name
        results = eval_results(self.config.metrics, dataset_type=datasets[0] if datasets else "einspace-corpus")
        return ModelCardData(**{**base, "datasets": datasets, "model_name": name, "eval_results": results or None})

    def generate_model_card(self, *args: Any, **kwargs: Any) -> ModelCard:
        """The ``README.md`` card from the family's packaged template ``surrogates/cards/<kind>.md``
        (:func:`~.card.render_card`): the family's values (``_card_values``) and those every family
        shows (:func:`~.card.common_card_values`); ``kwargs`` reach the template."""
        from .card import common_card_values, render_card, template_path

        data = self.card_data(kwargs.pop("model_name", None))
        values = {
            "model_name": data.model_name,
            "kind": self._kind,
            **self._card_values(),
            **common_card_values(self.config),
            **kwargs,
        }
        return render_card(data, values, template_path(self._kind))

    def _card_values(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _lineage_card(self) -> dict[str, str]:
        """The card's lineage section (empty unless the config records a fine-tuning lineage)."""
        from .card import lineage_section

        return {"lineage": lineage_section(getattr(getattr(self, "config", None), "lineage", None))}

    def save_pretrained(
        self,
        save_directory: str | Path,
        *,
        repo_id: str | None = None,
        push_to_hub: bool = False,
        model_card_kwargs: dict[str, Any] | None = None,
        **push_to_hub_kwargs: Any,
    ) -> Any:
        """Save ``config.json``, the model files and the card into ``save_directory`` (refused before
        any folder is made when the surrogate is not fitted); the card is named after ``repo_id``,
        else the folder. With ``push_to_hub``, upload the folder to ``repo_id`` (default: the
        folder's name) and return the commit info, as ``ModelHubMixin.save_pretrained`` does."""
        self._check_fitted()  # type: ignore[attr-defined]
        if push_to_hub_kwargs and not push_to_hub:
            raise TypeError(f"save_pretrained() got keyword(s) {sorted(push_to_hub_kwargs)} that only apply with push_to_hub=True")
        folder = Path(save_directory)
        name = repo_id or folder.resolve().name
        card_kwargs = {"model_name": name, **self._lineage_card(), **(model_card_kwargs or {})}
        folder.mkdir(parents=True, exist_ok=True)
        self._save_pretrained(folder)
        self.generate_model_card(**card_kwargs).save(folder / CARD_FILE)
        if push_to_hub:
            return self.push_to_hub(repo_id or folder.name, model_card_kwargs=model_card_kwargs, **push_to_hub_kwargs)
        return None

    def push_to_hub(
        self,
        repo_id: str,
        *,
        commit_message: str = "Push surrogate with surrogate-hub",
        private: bool | None = None,
        token: str | None = None,
        branch: str | None = None,
        create_pr: bool | None = None,
        allow_patterns: list[str] | str | None = None,
        ignore_patterns: list[str] | str | None = None,
        delete_patterns: list[str] | str | None = None,
        model_card_kwargs: dict[str, Any] | None = None,
    ) -> Any:
        """Upload the saved surrogate to the Hub model repo ``repo_id`` (created if missing) in one
        commit, with ``ModelHubMixin.push_to_hub``'s arguments; the card is named after ``repo_id``.
        Returns the ``huggingface_hub`` commit info."""
        import tempfile

        from huggingface_hub import HfApi

        api = HfApi(token=token)
        repo_id = api.create_repo(repo_id=repo_id, private=private, exist_ok=True).repo_id
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / repo_id
            self.save_pretrained(folder, repo_id=repo_id, model_card_kwargs=model_card_kwargs)
            return api.upload_folder(
                repo_id=repo_id, repo_type="model", folder_path=folder, commit_message=commit_message,
                revision=branch, create_pr=create_pr, allow_patterns=allow_patterns,
                ignore_patterns=ignore_patterns, delete_patterns=delete_patterns,
            )
