"""Architecture search in einspace: strategies on an ask/tell core, durable runs, plots.

``run_search(SearchConfig.make(task=..., strategy=..., profile="cpu"), out_dir)`` runs (or
resumes) a search; strategies: ``random``, ``evolution``, ``surrogate-filter``,
``surrogate-objective`` (see :mod:`.strategies`). :class:`RegularizedEvolution` is the ask/tell
optimiser they (and the corpus builder) use. Importing this package does not import torch.
"""

from .config import PROFILES, SearchConfig, SearchConfigError
from .engine import Prepared, SearchSetupError, prepare, run_search
from .evolution import Member, Proposal, RegularizedEvolution
from .rundir import ResumeError
from .strategies import list_strategies, register_strategy

__all__ = [
    "Member",
    "PROFILES",
    "Proposal",
    "Prepared",
    "RegularizedEvolution",
    "ResumeError",
    "SearchConfig",
    "SearchConfigError",
    "SearchSetupError",
    "list_strategies",
    "prepare",
    "register_strategy",
    "run_search",
]
