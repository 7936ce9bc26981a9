"""Registries of surrogate kinds and named pretrained surrogates, and the one front door to load them.

Kinds map the ``surrogate`` field of a ``config.json`` (``"graf-xgb"``) to the class that loads it,
named as ``"module:Class"`` so nothing heavy is imported until a surrogate of that kind is loaded.

Pretrained surrogates have a name (``"einspace-graf-xgb"``), a kind, a Hub repo id and optionally an
*embedded* copy shipped inside the package (``surrogate_hub/pretrained/<name>/``), which works with
no network.

:func:`load_surrogate` resolves first (:func:`resolve_source`, pure apart from looking at the file
system), loads second:

1. an exact registered name → its embedded folder when present (unless a ``revision`` or
   ``force_download`` asks for the Hub), else its Hub repo; a ``revision`` that names one of its
   embedded earlier revisions (e.g. ``"v1"``) loads that copy, offline;
2. an existing local folder → loaded by the class of the kind named in its ``config.json``;
3. a string shaped like a Hub repo id (``owner/name``) → that Hub repo;
4. anything else is refused. In particular a name that is a prefix, substring or near-miss of
   registered names is never silently accepted: the error lists the candidates.
"""

from __future__ import annotations

import difflib
import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from .errors import SurrogateLoadError, UnknownSurrogateError

__all__ = [
    "DEFAULT_SURROGATE",
    "PretrainedSurrogate",
    "Source",
    "get_kind",
    "get_pretrained",
    "list_surrogates",
    "load_surrogate",
    "register_kind",
    "register_pretrained",
    "resolve_source",
]

#: The surrogate to use when a user names none (GRAF-XGBoost: best leave-one-task-out tau, no torch).
DEFAULT_SURROGATE: Final = "einspace-graf-xgb"
#: Where embedded pretrained surrogates live (package data).
PACKAGE_DIR: Final = Path(__file__).resolve().parents[1]
_REPO_ID: Final = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")


@dataclass(frozen=True)
class PretrainedSurrogate:
    """A named pretrained surrogate: its kind, Hub repo and optional embedded copy."""

    name: str
    kind: str
    repo_id: str | None = None
    local_path: Path | None = None  #: absolute; may not exist (then the Hub repo is used)
    description: str = ""
    #: embedded copies of earlier revisions, by the Hub tag they are published under (absolute paths)
    revisions: Mapping[str, Path] = field(default_factory=dict)

    @property
    def embedded(self) -> bool:
        """Whether the embedded copy is present in this installation."""
        return self.local_path is not None and (self.local_path / "config.json").is_file()

    def embedded_revision(self, revision: str | None) -> Path | None:
        """The embedded copy of ``revision`` when this installation has it, else None."""
        path = self.revisions.get(revision) if revision is not None else None
        return path if path is not None and (path / "config.json").is_file() else None


@dataclass(frozen=True)
class Source:
    """Where :func:`load_surrogate` will load from: ``where`` is ``"local"`` (a folder) or
    ``"hub"`` (a repo id); ``name`` is the registered name, if any."""

    where: Literal["local", "hub"]
    location: str
    name: str | None = None
    kind: str | None = None  #: known for registered names; else read from config.json at load


_KINDS: dict[str, str] = {}
_PRETRAINED: dict[str, PretrainedSurrogate] = {}


# ------------------------------------------------------------------------------------------ kinds
def register_kind(kind: str, target: str) -> None:
    """Register the class that loads surrogates of ``kind``, as ``"package.module:Class"``."""
    if ":" not in target:
        raise ValueError(f"target must be 'module:Class', got {target!r}")
    _KINDS[kind] = target


def get_kind(kind: str) -> type:
    """The class registered for ``kind`` (imported now)."""
    try:
        target = _KINDS[kind]
    except KeyError:
        raise UnknownSurrogateError(f"unknown surrogate kind {kind!r}; known kinds: {sorted(_KINDS)}") from None
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


# ------------------------------------------------------------------------------------- pretrained
def register_pretrained(
    name: str,
    *,
    kind: str,
    repo_id: str | None = None,
    local_path: str | Path | None = None,
    description: str = "",
    revisions: Mapping[str, str | Path] | None = None,
    overwrite: bool = False,
) -> PretrainedSurrogate:
    """Register a pretrained surrogate. ``local_path`` (the embedded copy) is absolute or relative
    to the ``surrogate_hub`` package folder; at least one of ``repo_id`` / ``local_path``.
    ``revisions`` maps Hub tags of earlier revisions to embedded copies of them (paths as for
    ``local_path``), so ``load_surrogate(name, revision=tag)`` works offline."""
    if not name or "/" in name or name != name.strip():
        raise ValueError(f"a surrogate name has no '/' or surrounding spaces, got {name!r}")
    if name in _PRETRAINED and not overwrite:
        raise ValueError(f"surrogate {name!r} is already registered (pass overwrite=True to replace it)")
    if repo_id is None and local_path is None:
        raise ValueError("give a repo_id, a local_path or both")
    if repo_id is not None and not _REPO_ID.match(repo_id):
        raise ValueError(f"repo_id must look like 'owner/name', got {repo_id!r}")
    path = None if local_path is None else _package_path(local_path)
    older = {str(tag): _package_path(folder) for tag, folder in (revisions or {}).items()}
    entry = PretrainedSurrogate(name, kind, repo_id, path, description, older)
    _PRETRAINED[name] = entry
    return entry


def _package_path(path: str | Path) -> Path:
    return Path(path) if Path(path).is_absolute() else PACKAGE_DIR / path


def get_pretrained(name: str) -> PretrainedSurrogate:
    """The registered entry of exactly ``name`` (see :func:`load_surrogate` for the error on a miss)."""
    try:
        return _PRETRAINED[name]
    except KeyError:
        raise UnknownSurrogateError(_unknown_message(name)) from None


def list_surrogates(filter: str = "", *, pretrained: bool = True) -> list[str]:
    """Sorted names of registered pretrained surrogates (``pretrained=True``) or of surrogate kinds
    (``pretrained=False``, what you can ``fit`` and load), keeping those containing ``filter``."""
    names = _PRETRAINED if pretrained else _KINDS
    return sorted(n for n in names if filter in n)


def _unknown_message(query: str) -> str:
    q = query.lower()
    partial = sorted(n for n in _PRETRAINED if q and q in n.lower())
    close = difflib.get_close_matches(query, list(_PRETRAINED), n=5, cutoff=0.6)
    candidates = sorted(set(partial) | set(close) | {n for n in _PRETRAINED if n.lower() in q})
    same = [n for n in _PRETRAINED if n.lower() == q]
    if same:
        head = f"{query!r} is not a registered surrogate name (names are case-sensitive); did you mean {same[0]!r}?"
    elif len(partial) > 1:
        head = f"{query!r} is not a registered surrogate name and is ambiguous: it matches {partial}"
    elif len(partial) == 1 or len(candidates) == 1:
        head = f"{query!r} is not a registered surrogate name; did you mean {(partial or candidates)[0]!r}?"
    elif candidates:
        head = f"{query!r} is not a registered surrogate name; did you mean one of {candidates}?"
    else:
        head = f"{query!r} is not a registered surrogate name, a local folder or a Hub repo id (owner/name)"
    return f"{head} Registered: {list_surrogates()}; give the exact name, a folder or an owner/name repo id."


# ----------------------------------------------------------------------------------------- loading
def resolve_source(name_or_path: str | Path, *, prefer_hub: bool = False, revision: str | None = None) -> Source:
    """Where ``name_or_path`` loads from, without loading (see the module docstring).
    ``prefer_hub``: for a registered name, use its Hub repo even when an embedded copy exists.
    ``revision``: for a registered name with an embedded copy of that revision, that copy."""
    text = str(name_or_path)
    entry = _PRETRAINED.get(text)
    if entry is not None:
        older = entry.embedded_revision(revision)
        if older is not None:
            return Source("local", str(older), entry.name, entry.kind)
        if entry.embedded and not (prefer_hub and entry.repo_id):
            return Source("local", str(entry.local_path), entry.name, entry.kind)
        if entry.repo_id:
            return Source("hub", entry.repo_id, entry.name, entry.kind)
        raise SurrogateLoadError(
            f"surrogate {text!r} has no Hub repo and its embedded copy is missing from this "
            f"installation ({entry.local_path})"
        )
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return Source("local", str(path))
    if isinstance(name_or_path, Path) or text.startswith((".", "/", "~")) or text.endswith("/") or "\\" in text:
        raise SurrogateLoadError(f"{text}: no such folder")
    if _REPO_ID.match(text):
        return Source("hub", text)
    raise UnknownSurrogateError(_unknown_message(text))


def load_surrogate(
    name_or_path: str | Path,
    *,
    revision: str | None = None,
    cache_dir: str | Path | None = None,
    force_download: bool = False,
    local_files_only: bool = False,
    token: str | bool | None = None,
    **load_kwargs: Any,
):
    """Load a surrogate by registered name, local folder or Hub repo id (see the module docstring).

    The Hub keywords (``revision``, ``cache_dir``, ``force_download``, ``local_files_only``,
    ``token``) are passed on; ``revision`` or ``force_download`` with a registered name skips its
    embedded copy. ``load_kwargs`` go to the class's ``from_pretrained`` (e.g.
    ``allow_grammar_mismatch=True``). The class comes from the ``surrogate`` kind in ``config.json``.
    """
    source = resolve_source(name_or_path, prefer_hub=revision is not None or force_download,
                            revision=None if force_download else revision)
    hub = dict(
        revision=revision,
        cache_dir=cache_dir,
        force_download=force_download,
        local_files_only=local_files_only,
        token=token,
    )
    from .artifact import CONFIG_FILE, read_config_file, resolve_file

    if source.where == "hub" and not local_files_only:
        hub["local_files_only"] = _offline_fallback(source, CONFIG_FILE, hub)
    try:
        config_path = resolve_file(source.location, CONFIG_FILE, **hub) if source.where == "hub" else Path(
            source.location, CONFIG_FILE
        )
    except Exception as err:
        if not _is_hub_error(err):
            raise
        first = " ".join(str(err).split())[:300] or type(err).__name__
        if source.name is not None:  # a registered name: say which one and why it is not available
            raise SurrogateLoadError(
                f"surrogate {source.name!r} is not embedded in this installation and could not be "
                f"fetched from the Hub repo {source.location!r}: {first}"
            ) from err
        raise  # a repo id: the Hub client's own error (e.g. RepositoryNotFoundError) says what is wrong
    kind = read_config_file(config_path).get("surrogate")
    if not isinstance(kind, str) or kind not in _KINDS:
        raise SurrogateLoadError(
            f"{config_path}: unknown surrogate kind {kind!r}; this installation loads {sorted(_KINDS)}"
        )
    if source.kind is not None and kind != source.kind:
        raise SurrogateLoadError(f"{config_path}: registered as a {source.kind!r} surrogate but the config says {kind!r}")
    cls = get_kind(kind)
    if source.where == "local":
        return cls.from_pretrained(source.location, **load_kwargs)
    return cls.from_pretrained(source.location, **hub, **load_kwargs)


def _is_hub_error(err: BaseException) -> bool:
    """An error of the Hub client or the network (not a bug of ours)."""
    module = type(err).__module__ or ""
    return module.startswith(("huggingface_hub", "httpx", "httpcore", "requests", "urllib3")) or isinstance(err, OSError)


def _endpoint_reachable(endpoint: str, timeout: float = 1.0) -> str | None:
    """``None`` when a TCP connection to ``endpoint`` opens within ``timeout`` seconds, else why not.
    Name resolution runs in a thread, so a hanging resolver cannot stall the caller either."""
    import socket
    import threading
    from urllib.parse import urlsplit

    url = urlsplit(endpoint)
    host, port = url.hostname or "", url.port or (443 if url.scheme == "https" else 80)
    outcome: list[str | None] = []

    def probe() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            outcome.append(None)
        except OSError as err:
            outcome.append(f"{type(err).__name__}: {err}")

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 0.2)
    return outcome[0] if outcome else f"no answer within {timeout:g} s"


def _offline_fallback(source: Source, filename: str, hub: dict[str, Any]) -> bool:
    """Decide, in about a second, how a Hub repo loads: ``False`` (online, the normal path) or
    ``True`` (offline but cached: use the cache). A repo that is neither reachable nor cached is a
    :class:`SurrogateLoadError` saying so, instead of a long series of network retries."""
    from huggingface_hub import constants, try_to_load_from_cache

    if hub.get("force_download"):
        return False
    cached = try_to_load_from_cache(
        source.location, filename, cache_dir=hub.get("cache_dir"), revision=hub.get("revision")
    )
    is_cached = isinstance(cached, str)
    if constants.HF_HUB_OFFLINE:
        reason = "offline mode is on (HF_HUB_OFFLINE=1)"
    else:
        reason = _endpoint_reachable(constants.ENDPOINT)
        if reason is None:
            return False
        reason = f"the Hub at {constants.ENDPOINT} cannot be reached ({reason})"
    if is_cached:
        return True
    what = f"surrogate {source.name!r} is not embedded in this installation, its Hub repo {source.location!r}" if source.name else f"{source.location!r}"
    raise SurrogateLoadError(
        f"{what} is not a local folder and not in the Hugging Face cache, and {reason}; "
        f"connect to the network, or give a local folder or one of the embedded surrogates {list_surrogates()}"
    )


# ------------------------------------------------------------------------------------ built-ins
register_kind("graf-xgb", "surrogate_hub.surrogates.graf_xgb:GrafSurrogate")
register_kind("bert", "surrogate_hub.surrogates.bert.model:BertSurrogate")
register_kind("forest", "surrogate_hub.surrogates.forest:ForestSurrogate")
register_pretrained(
    "einspace-graf-xgb",
    kind="graf-xgb",
    repo_id="surrogate-hub/einspace-graf-xgb",
    local_path="pretrained/einspace-graf-xgb",
    revisions={"v1": "pretrained/einspace-graf-xgb-v1", "v2": "pretrained/einspace-graf-xgb"},
    description="GRAF + extras XGBoost surrogate fitted on all 8 tasks of the offline einspace corpus v2 (revision v2; v1: corpus v1)",
)
register_pretrained(
    "einspace-graf-zcp-xgb",
    kind="graf-xgb",
    repo_id="surrogate-hub/einspace-graf-zcp-xgb",
    local_path="pretrained/einspace-graf-zcp-xgb",
    revisions={"v1": "pretrained/einspace-graf-zcp-xgb-v1", "v2": "pretrained/einspace-graf-zcp-xgb"},
    description="GRAF + extras + 7 zero-cost proxies XGBoost surrogate fitted on corpus v2 (revision v2; v1: corpus v1); needs a task "
    "(the proxies are computed on its data)",
)
register_pretrained(
    "einspace-bert",
    kind="bert",
    repo_id="surrogate-hub/einspace-bert",
    local_path="pretrained/einspace-bert",
    revisions={"v2": "pretrained/einspace-bert"},
    description="einspace-native BERT (0.7M parameters, mean-max head) on the compact architecture string, fine-tuned on "
    "corpus v2; needs the bert extra (torch, transformers)",
)
