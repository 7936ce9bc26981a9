"""The corpus build configuration (YAML), validated with errors that name the offending key."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

__all__ = ["RESOLVED", "CorpusConfig", "ConfigError", "EvolutionConfig", "NoiseConfig", "SourcesConfig"]

#: the resolved config a build writes into its corpus folder (the budget its records were trained with)
RESOLVED = "config.resolved.yaml"


class ConfigError(ValueError):
    """A bad corpus configuration: says which key, what was wrong and what is allowed."""


@dataclass(frozen=True)
class SourcesConfig:
    random: int = 0  #: random PCFG samples
    #: seed architectures by name (``surrogate_hub.space.seeds``), optionally width-scaled and fitted
    #: to each task's input shape: ``"vit_d2*0.25"`` (see `surrogate_hub.space.seeds.scaled_seed`)
    seeds: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvolutionConfig:
    """Short regularised-evolution runs per task (their children are corpus records)."""

    iterations: int = 0  #: children evaluated per task
    population: int = 30
    tournament: int = 5
    batch: int = 4  #: children asked per round before results are told (fixed, so resumes replay)


@dataclass(frozen=True)
class NoiseConfig:
    """A second training run of the first ``count`` shared random architectures on every task, with
    training seed ``seed``: the seed-to-seed agreement (noise ceiling) of each task's labels."""

    count: int = 0
    seed: int = 1


@dataclass(frozen=True)
class CorpusConfig:
    name: str
    output: str
    tasks: tuple[str, ...]
    shared: SourcesConfig = field(default_factory=SourcesConfig)
    per_task: SourcesConfig = field(default_factory=SourcesConfig)
    evolution: EvolutionConfig = field(default_factory=EvolutionConfig)
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    budget: dict[str, Any] = field(default_factory=dict)  #: ``surrogate_hub.train.Budget`` fields
    #: per-task overrides of ``budget`` fields, e.g. ``{"digits": {"epochs": 20}}``
    task_budgets: dict[str, Any] = field(default_factory=dict)
    #: named sampler limits (``surrogate_hub.space.PROFILES``); ``limits`` overrides its fields
    profile: str = ""
    limits: dict[str, Any] = field(default_factory=dict)  #: ``surrogate_hub.space.Limits`` fields
    seed: int = 0
    task_seed: int = 0
    device: str = "cpu"
    workers: int = 1
    shard_size: int = 20
    zcp: tuple[str, ...] = ()  #: zero-cost proxies to compute and store (empty: none)
    zcp_batch_size: int = 64
    threads: int = 1  #: torch intra-op threads per training (pinned: labels must not depend on load)
    retries: int = 1  #: extra attempts for a candidate that hit the wall-clock safety net (timeout)

    def limits_value(self):
        """The sampler `Limits` of this build: the named profile (if any) with ``limits`` overrides."""
        from ..space import Limits, limits_profile

        return limits_profile(self.profile, **self.limits) if self.profile else Limits(**self.limits)

    def budget_for(self, task: str):
        """The training `Budget` of ``task``: ``budget`` with the task's ``task_budgets`` overrides."""
        from ..train import Budget

        return Budget(**{**self.budget, **self.task_budgets.get(task, {})})

    # -- reading and checking ------------------------------------------------------------------
    @classmethod
    def from_yaml(cls, path: str | Path) -> CorpusConfig:
        path = Path(path)
        return cls.from_dict(_read_yaml(path, "config file not found"), source=str(path))

    @classmethod
    def from_corpus(cls, folder: str | Path) -> CorpusConfig:
        """The config a corpus folder was built with (its ``config.resolved.yaml``); keys added to
        the config since that build take their defaults."""
        path = Path(folder) / RESOLVED
        raw = _read_yaml(path, f"not found (is {folder} a corpus folder written by the builder?)")
        if not isinstance(raw, dict) or not isinstance(raw.get("config"), dict):
            raise ConfigError(f"{path}: expected a mapping with a 'config' section")
        return cls.from_dict(raw["config"], source=str(path))

    @classmethod
    def from_dict(cls, raw: Any, source: str = "config") -> CorpusConfig:
        if not isinstance(raw, dict):
            raise ConfigError(f"{source}: expected a mapping of settings at the top level")
        cfg = _build(cls, raw, source)
        cfg.validate(source)
        return cfg

    def to_dict(self) -> dict[str, Any]:
        return _plain(dataclasses.asdict(self))

    def validate(self, source: str = "config") -> None:
        from ..space import Limits
        from ..space.seeds import list_seeds, parse_seed_spec
        from ..tasks import get_task

        def bad(key: str, msg: str) -> ConfigError:
            return ConfigError(f"{source}: {key}: {msg}")

        if not self.tasks:
            raise bad("tasks", "list at least one task (see `surrogate-hub tasks`)")
        if len(set(self.tasks)) != len(self.tasks):
            raise bad("tasks", "a task is listed twice")
        for t in self.tasks:
            try:
                get_task(t, seed=self.task_seed)
            except (KeyError, ValueError) as err:
                raise bad("tasks", str(err).strip("'\"")) from None
        for key, src in (("shared", self.shared), ("per_task", self.per_task)):
            if src.random < 0:
                raise bad(f"{key}.random", f"must be >= 0, got {src.random}")
            for spec in src.seeds:
                try:
                    parse_seed_spec(spec)
                except KeyError:
                    raise bad(f"{key}.seeds", f"unknown seed architecture {spec!r}; known: {list_seeds()}") from None
                except ValueError as err:
                    raise bad(f"{key}.seeds", str(err)) from None
        ev = self.evolution
        for name in ("iterations",):
            if getattr(ev, name) < 0:
                raise bad(f"evolution.{name}", "must be >= 0")
        for name in ("population", "tournament", "batch"):
            if getattr(ev, name) < 1:
                raise bad(f"evolution.{name}", f"must be >= 1, got {getattr(ev, name)}")
        if ev.iterations and ev.population > self.shared.random + len(self.shared.seeds) + self.per_task.random + len(self.per_task.seeds):
            raise bad("evolution.population", "larger than the architectures evaluated per task before evolution starts")
        if self.noise.count < 0 or self.noise.count > self.shared.random:
            raise bad("noise.count", f"must be between 0 and shared.random ({self.shared.random}), got {self.noise.count}")
        if self.noise.count and self.noise.seed == self.seed:
            raise bad("noise.seed", f"must differ from the training seed {self.seed}")
        for name in ("threads",):
            if getattr(self, name) < 1:
                raise bad(name, f"must be >= 1, got {getattr(self, name)}")
        if self.retries < 0:
            raise bad("retries", f"must be >= 0, got {self.retries}")
        unknown_tasks = sorted(set(self.task_budgets) - set(self.tasks))
        if unknown_tasks:
            raise bad("task_budgets", f"tasks {unknown_tasks} are not in tasks: {list(self.tasks)}")
        if self.workers < 1:
            raise bad("workers", f"must be >= 1, got {self.workers}")
        if self.shard_size < 1:
            raise bad("shard_size", f"must be >= 1, got {self.shard_size}")
        from ..train import Budget

        for key, values in [("budget", self.budget)] + [(f"task_budgets.{t}", v) for t, v in self.task_budgets.items()]:
            if not isinstance(values, dict):
                raise bad(key, f"expected a mapping of Budget fields, got {values!r}")
            try:
                Budget(**{**self.budget, **values})
            except TypeError as err:
                raise bad(key, f"{err}; allowed keys: {[f.name for f in fields(Budget)]}") from None
            except ValueError as err:
                raise bad(key, str(err)) from None
        try:
            self.limits_value()
        except KeyError as err:
            raise bad("profile", str(err).strip("'\"")) from None
        except TypeError as err:
            raise bad("limits", f"{err}; allowed keys: {[f.name for f in fields(Limits)]}") from None
        except ValueError as err:
            raise bad("limits", str(err)) from None
        if self.zcp:
            from ..features.proxies import list_proxies

            unknown = [z for z in self.zcp if z not in list_proxies()]
            if unknown:
                raise bad("zcp", f"unknown proxies {unknown}; known: {list_proxies()}")


def _build(cls, raw: dict, where: str):
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(known)}")
    kwargs = {}
    for name, value in raw.items():
        f = known[name]
        key = f"{where}.{name}" if where != "config" else name
        nested = {"shared": SourcesConfig, "per_task": SourcesConfig, "evolution": EvolutionConfig, "noise": NoiseConfig}.get(name)
        if nested is not None and cls is CorpusConfig:
            if not isinstance(value, dict):
                raise ConfigError(f"{key}: expected a mapping")
            value = _build(nested, value, key)
        else:
            value = _coerce(f, value, key)
        kwargs[name] = value
    missing = [f.name for f in fields(cls) if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and f.name not in kwargs]
    if missing:
        raise ConfigError(f"{where}: missing required key(s) {missing}")
    return cls(**kwargs)


def _coerce(f, value, key: str):
    t = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    if t.startswith("tuple"):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{key}: expected a list of names, got {value!r}")
        return tuple(value)
    if t == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
    elif t == "str":
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
    elif t.startswith("dict"):
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
    return value


def _plain(obj):
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def _read_yaml(path: Path, missing: str) -> Any:
    """The YAML document in ``path``; a :class:`ConfigError` ``"{path}: {missing}"`` when there is
    no such file, or saying why it is not valid YAML."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: {missing}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
