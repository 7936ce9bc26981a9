"""Errors raised by surrogates, their artifacts and the registry."""

from __future__ import annotations

__all__ = [
    "GrammarMismatchError",
    "NotFittedError",
    "SurrogateError",
    "SurrogateLoadError",
    "UnknownSurrogateError",
]


class SurrogateError(Exception):
    """Base class of the errors of :mod:`surrogate_hub.surrogates`."""


class SurrogateLoadError(SurrogateError, ValueError):
    """A saved surrogate that cannot be loaded: a missing, unreadable or inconsistent artifact file.

    The message names the file (or repo) and what is wrong with it.
    """


class GrammarMismatchError(SurrogateLoadError):
    """The surrogate was trained for a different version of the einspace grammar."""


class NotFittedError(SurrogateError, RuntimeError):
    """``predict``/``rank``/``save_pretrained`` called on a surrogate that has not been fitted."""


class UnknownSurrogateError(SurrogateError, LookupError):
    """A surrogate name that is not registered, or that matches several registered names."""
