"""Seed architectures (ResNet-18, WRN-16-4, ViT, MLP-Mixer) written in einspace, available by name.

The strings are the paper code's seed architectures; two of them needed corrections to build
(noted per entry in ``seeds.json``).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from .parse import parse
from .tree import Architecture

__all__ = ["list_seeds", "get_seed", "seed_string", "seed_description"]


@lru_cache(maxsize=1)
def _table() -> dict[str, dict]:
    text = resources.files(__package__).joinpath("seeds.json").read_text(encoding="utf-8")
    return json.loads(text)


def list_seeds() -> list[str]:
    """Names of the seed architectures."""
    return list(_table())


def _entry(name: str) -> dict:
    try:
        return _table()[name]
    except KeyError:
        raise KeyError(f"unknown seed architecture {name!r}; known: {', '.join(list_seeds())}") from None


def seed_string(name: str) -> str:
    """The compact string of a seed architecture."""
    return _entry(name)["arch"]


def seed_description(name: str) -> str:
    return _entry(name)["description"]


def get_seed(name: str) -> Architecture:
    """The seed architecture ``name`` as a value."""
    return parse(seed_string(name))
