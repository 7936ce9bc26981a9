"""Architecture search strategies in einspace (regularised evolution, random search)."""

from .evolution import RegularizedEvolution

__all__ = ["RegularizedEvolution"]
