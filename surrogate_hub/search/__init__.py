"""Architecture search in einspace: regularised evolution as an ask/tell optimiser
(:class:`RegularizedEvolution`, with :class:`Proposal` and :class:`Member`)."""

from .evolution import Member, Proposal, RegularizedEvolution

__all__ = ["Member", "Proposal", "RegularizedEvolution"]
