"""The configuration of a search run: profiles (paper, cpu), YAML files, validation.

A run is defined by a :class:`SearchConfig`. Defaults come from a *profile* (``paper``: the
paper's protocol, meant for a GPU; ``cpu``: small sizes that finish in minutes on a laptop), a YAML
file may set any field, and explicit command-line values win over both (never the reverse).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

__all__ = ["PROFILES", "SearchConfig", "SearchConfigError", "RUNTIME_KEYS"]

#: keys that may differ between a run and its resumption (they do not change what is computed)
RUNTIME_KEYS = ("workers", "evaluator")


class SearchConfigError(ValueError):
    """A bad search configuration or command-line value; the message names the key and the fix."""


@dataclass(frozen=True)
class SearchConfig:
    """Everything that defines a search run (see ``search/*.yaml`` for annotated examples).

    Sizes count *trained* candidates: ``budget`` includes the ``population`` random architectures
    of the initial population. Each round mutates ``proposals`` offspring, of which
    ``train_per_round`` are trained (picked at random by ``evolution``, by the surrogate's rank by
    ``surrogate-filter``). The surrogate is refit every ``refit_every`` trained candidates (0: never)
    on what the run has trained, plus the ``transfer_corpus`` rows of other tasks weighted
    ``transfer_weight`` each. ``surrogate-objective`` scores ``objective_iterations`` offspring with
    the surrogate after the initial population, then trains the running-best architectures (those
    improving the predicted best by more than ``objective_improvement``) within the budget.
    ``train``/``final_train`` are :class:`surrogate_hub.train.Budget` fields for candidates and for
    the final retraining of the best architecture; ``limits`` are
    :class:`surrogate_hub.space.Limits` fields for sampling and mutation.
    """

    task: str
    strategy: str
    profile: str = "paper"
    task_seed: int = 0
    seed: int = 0
    budget: int = 300
    population: int = 100
    tournament: int = 10
    proposals: int = 20
    train_per_round: int = 5
    refit_every: int = 20
    surrogate: str | None = "einspace-graf-xgb"
    acquisition: str = "mean"  #: surrogate-filter: mean | ucb | ei (see search/acquisition.py)
    kappa: float = 1.0  #: the ucb exploration weight
    transfer_corpus: str | None = None
    transfer_weight: float = 0.1
    transfer_exclude: tuple[str, ...] = ()  #: corpus tasks never used as transfer rows (the run's own task never is)
    objective_iterations: int | None = None  #: None: budget - population (the baseline's rounds)
    objective_improvement: float = 0.005
    train: dict[str, Any] = field(default_factory=dict)
    final_train: dict[str, Any] = field(default_factory=lambda: {"epochs": 64})
    final_seed: int = 0
    limits: dict[str, Any] = field(default_factory=dict)
    zcp_batch_size: int = 64
    device: str = "cpu"
    workers: int = 1
    evaluator: str = "local"

    # -- building -----------------------------------------------------------------------------
    @classmethod
    def make(cls, *, profile: str | None = None, yaml_path: str | Path | None = None, **overrides: Any) -> SearchConfig:
        """Profile defaults, then the YAML file's values, then ``overrides`` (None values ignored).

        The profile is ``profile`` if given, else the YAML file's ``profile``, else ``paper``.
        """
        raw = _read_yaml(Path(yaml_path)) if yaml_path is not None else {}
        profile = profile or raw.get("profile") or "paper"
        if profile not in PROFILES:
            raise SearchConfigError(f"unknown profile {profile!r}; choose one of {sorted(PROFILES)}")
        values: dict[str, Any] = {**PROFILES[profile], **raw, "profile": profile}
        for key in ("train", "final_train", "limits"):  # nested settings update the profile's
            if isinstance(raw.get(key), dict):
                values[key] = {**PROFILES[profile].get(key, {}), **raw[key]}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_dict(values, source=str(yaml_path) if yaml_path else "config")

    @classmethod
    def from_dict(cls, raw: Any, source: str = "config") -> SearchConfig:
        if not isinstance(raw, dict):
            raise SearchConfigError(f"{source}: expected a mapping of settings")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise SearchConfigError(f"{source}: unknown keys {unknown}; allowed: {sorted(known)}")
        for key in ("task", "strategy"):
            if not raw.get(key):
                raise SearchConfigError(f"{source}: {key} is required")
        if isinstance(raw.get("transfer_exclude"), list):
            raw = {**raw, "transfer_exclude": tuple(raw["transfer_exclude"])}
        try:
            cfg = cls(**raw)
        except TypeError as err:
            raise SearchConfigError(f"{source}: {err}") from None
        cfg.validate(source)
        return cfg

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["transfer_exclude"] = list(self.transfer_exclude)
        if self.acquisition == "mean":  # the default: left out, so runs written before it resume
            del out["acquisition"], out["kappa"]
        return out

    def replace(self, **changes: Any) -> SearchConfig:
        return dataclasses.replace(self, **changes)

    # -- checking -----------------------------------------------------------------------------
    def validate(self, source: str = "config") -> None:
        """Check values (not the task or surrogate, which :func:`~.engine.prepare` resolves)."""
        from .strategies import list_strategies

        def bad(key: str, msg: str) -> SearchConfigError:
            return SearchConfigError(f"{source}: {key}: {msg}")

        if self.strategy not in list_strategies():
            raise bad("strategy", f"unknown strategy {self.strategy!r}; choose one of {list_strategies()}")
        ints = ("budget", "population", "tournament", "proposals", "train_per_round", "workers", "zcp_batch_size")
        for key in ints:
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise bad(key, f"must be a positive integer, got {value!r}")
        if not isinstance(self.refit_every, int) or self.refit_every < 0:
            raise bad("refit_every", f"must be an integer >= 0 (0: never refit), got {self.refit_every!r}")
        if self.strategy != "random" and self.budget < self.population:
            raise bad(
                "budget", f"{self.budget} trained candidates is smaller than the population ({self.population}); "
                "raise the budget or lower the population",
            )
        if self.train_per_round > self.proposals:
            raise bad("train_per_round", f"{self.train_per_round} > proposals {self.proposals}")
        from .acquisition import ACQUISITIONS

        if self.acquisition not in ACQUISITIONS:
            raise bad("acquisition", f"unknown acquisition {self.acquisition!r}; choose one of {list(ACQUISITIONS)}")
        if self.acquisition != "mean" and self.strategy != "surrogate-filter":
            raise bad("acquisition", f"{self.acquisition!r} applies to surrogate-filter only, not {self.strategy!r}")
        if isinstance(self.kappa, bool) or not isinstance(self.kappa, (int, float)) or not self.kappa >= 0:
            raise bad("kappa", f"must be a number >= 0, got {self.kappa!r}")
        if self.objective_iterations is not None and self.objective_iterations < 0:
            raise bad("objective_iterations", "must be >= 0")
        if not self.transfer_weight >= 0:
            raise bad("transfer_weight", f"must be >= 0, got {self.transfer_weight}")
        if self.strategy.startswith("surrogate") and not self.surrogate:
            raise bad("surrogate", f"strategy {self.strategy!r} needs a surrogate (a registered name or a folder)")
        from ..space import Limits
        from ..train import Budget

        for key, cls_ in (("train", Budget), ("final_train", Budget), ("limits", Limits)):
            try:
                cls_(**getattr(self, key))
            except TypeError as err:
                raise bad(key, f"{err}; allowed keys: {[f.name for f in fields(cls_)]}") from None
            except ValueError as err:
                raise bad(key, str(err)) from None

    def limits_obj(self):
        from ..space import Limits

        return Limits(**self.limits)


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SearchConfigError(f"{path}: config file not found") from None
    except yaml.YAMLError as err:
        raise SearchConfigError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(raw, dict):
        raise SearchConfigError(f"{path}: expected a mapping of settings at the top level")
    return raw


#: Defaults per profile. ``paper``: the paper's protocol (16-epoch candidates, 64-epoch final
#: retraining, a 0.1 s GPU forward gate). ``cpu``: the offline corpus's candidate budget and small
#: sizes, so a run on a small task takes minutes.
PROFILES: dict[str, dict[str, Any]] = {
    "paper": {
        "budget": 300, "population": 100, "tournament": 10, "proposals": 20, "train_per_round": 5,
        "refit_every": 20,
        "train": {"epochs": 16, "batch_size": 256, "max_forward_seconds": 0.1},
        "final_train": {"epochs": 64, "batch_size": 256, "max_forward_seconds": None},
        "limits": {},
    },
    "cpu": {
        "budget": 30, "population": 10, "tournament": 3, "proposals": 12, "train_per_round": 3,
        "refit_every": 6,
        "train": {"epochs": 5, "batch_size": 64, "max_params": 1_000_000, "max_forward_seconds": 0.5, "max_train_seconds": 30},
        "final_train": {"epochs": 10, "batch_size": 64, "max_params": 1_000_000, "max_forward_seconds": None},
        "limits": {"max_params": 300_000, "max_activation": 30_000, "max_total_activation": 100_000},
    },
}
