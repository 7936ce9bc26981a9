"""Sampling architectures from the einspace PCFG with shape-aware filtering and backtracking.

The derivation is pre-order. At every decision the options valid for the current input are drawn
with the grammar's probabilities (renormalised over the valid ones, i.e. invalid draws are struck
out). The only dead end is a branching(2) whose two branch outputs no aggregation can combine; it
backtracks locally and boundedly: resample the second branch (``branch_retries`` times), then the
first, then strike out the branching function, then the module kind. (The paper's code backtracks
chronologically without a bound, which can take seconds for one sample.) Limits are deterministic (no wall clock,
no RSS): past ``max_depth`` or ``max_nodes`` module slots close with ``computation``; ops that would
exceed ``max_params`` or ``max_activation`` are not offered.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Optional

from .ops import MODULE_PROBS, ROOT_PROBS, Op, Role, options
from .shapes import TensorState, aggregate_rule, branch_rule, op_params, unary_rule
from .tree import Architecture, Branching, Computation, Module, Routing, Sequential

__all__ = ["Limits", "PROFILES", "limits_profile", "sample", "sample_many", "Sampler"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Deterministic limits that force the derivation to close.

    ``max_work`` bounds the module slots drawn in one derivation, failed attempts included; past
    it, module slots close (which always succeeds), so a sample costs bounded time.
    ``max_params`` counts backbone parameters (all branch copies); ``max_activation`` bounds the
    elements, per example, of any single op's output summed over its copies, and
    ``max_total_activation`` those of all ops together (a memory and compute estimate).
    ``max_op_copies`` bounds the op instances to build (branching(4/8) copies multiply through
    nesting): past it slots close, and no branching is offered that alone would pass an eighth of it. The defaults suit CPU
    training of small-input tasks; raise them for GPU searches.
    ``min_head_features`` rejects (and redraws) whole samples whose backbone output has fewer
    channels than that: the classifier head sees only those features after pooling, so a network
    whose head sees one number cannot separate ten classes, whatever its training.
    """

    max_depth: int = 20
    max_nodes: int = 250
    max_params: int = 20_000_000
    max_activation: int = 2_000_000
    max_total_activation: int = 20_000_000
    max_op_copies: int = 4_000
    branch_retries: int = 4
    max_work: int = 400
    min_head_features: int = 1

    def __post_init__(self) -> None:
        for name in ("max_depth", "max_nodes", "max_params", "max_activation", "max_total_activation", "max_op_copies", "branch_retries", "max_work", "min_head_features"):
            if getattr(self, name) < 1:
                raise ValueError(f"Limits.{name} must be positive, got {getattr(self, name)}")
        if self.max_depth < 2:
            raise ValueError("Limits.max_depth must be at least 2 (a module with one terminal)")


_COMPUTATION = options(Role.COMPUTATION)
_PRE = options(Role.PRE_ROUTING)
_POST = options(Role.POST_ROUTING)
_KINDS = {
    name: tuple(probs.items()) for name, probs in (("root", ROOT_PROBS), ("module", MODULE_PROBS))
}

Result = Optional[tuple[Module, TensorState]]


class Sampler:
    """One derivation's state: random stream, limits and running node/parameter totals.

    Every ``_kind`` method returns ``(module, output_state)`` or ``None`` for a dead end; a failed
    attempt restores the running totals it had added.
    """

    def __init__(self, rng: random.Random, limits: Limits) -> None:
        self.rng = rng
        self.limits = limits
        self.nodes = 0
        self.params = 0
        self.acts = 0  # activation elements per example, summed over ops and copies
        self.copies = 0  # op instances, branching copies included (modules to build)
        self.work = 0  # nodes generated, failed attempts included; never restored

    def _save(self) -> tuple[int, int, int, int]:
        return self.nodes, self.params, self.acts, self.copies

    def _restore(self, saved: tuple[int, int, int, int]) -> None:
        self.nodes, self.params, self.acts, self.copies = saved

    def _weighted(self, items: tuple[tuple[str, float], ...]) -> Iterator[str]:
        left = list(items)
        while left:
            r = self.rng.random() * sum(w for _, w in left)
            i = 0
            while i < len(left) - 1 and r >= left[i][1]:
                r -= left[i][1]
                i += 1
            yield left.pop(i)[0]

    def _uniform(self, ops: tuple[Op, ...]) -> Iterator[Op]:
        left = list(ops)
        rand = self.rng.random
        while left:
            yield left.pop(int(rand() * len(left)))

    def _fits(self, out: TensorState, mult: int, params: int = 0) -> bool:
        lim = self.limits
        size = math.prod(out.shape) * mult
        return (
            self.params + params <= lim.max_params
            and size <= lim.max_activation
            and self.acts + size <= lim.max_total_activation
        )

    def _take(self, out: TensorState, mult: int, params: int = 0) -> None:
        self.params += params
        self.acts += math.prod(out.shape) * mult
        self.copies += mult

    def module(self, st: TensorState, depth: int, mult: int = 1, root: bool = False) -> Result:
        """A module for input ``st`` at ``depth``; struck-out kinds are redrawn from the rest."""
        lim = self.limits
        if root:
            kinds = _KINDS["root"]
        elif (
            depth > lim.max_depth - 2
            or self.nodes >= lim.max_nodes
            or self.work >= lim.max_work
            or self.copies >= lim.max_op_copies
        ):
            kinds = (("computation", 1.0),)
        else:
            kinds = _KINDS["module"]
        cap = lim.max_op_copies // 8  # no branching whose copies alone would pass an eighth of the cap
        if mult * 8 > cap:
            kinds = tuple((k, w) for k, w in kinds if not k.startswith("branching") or mult * int(k[10:-1]) <= cap)
        for kind in self._weighted(kinds):
            self.work += 1
            saved = self._save()
            if kind == "computation":
                got = self._computation(st, mult)
            elif kind == "sequential":
                got = self._sequential(st, depth, mult)
            elif kind == "routing":
                got = self._routing(st, depth, mult)
            else:
                got = self._branching(int(kind[10:-1]), st, depth, mult)
            if got is not None:
                return got
            self._restore(saved)
        return None

    def _computation(self, st: TensorState, mult: int) -> Result:
        for op in self._uniform(_COMPUTATION):
            out = unary_rule(op, st)
            p = op_params(op, (st,)) * mult
            if self._fits(out, mult, p):
                self.nodes += 2
                self._take(out, mult, p)
                return Computation(op), out
        return None  # pragma: no cover - identity always fits

    def _sequential(self, st: TensorState, depth: int, mult: int) -> Result:
        self.nodes += 1
        first = self.module(st, depth + 1, mult)
        if first is None:
            return None
        second = self.module(first[1], depth + 1, mult)
        if second is None:
            return None
        return Sequential(first[0], second[0]), second[1]

    def _routing(self, st: TensorState, depth: int, mult: int) -> Result:
        self.nodes += 3
        for pre in self._uniform(_PRE):
            mid = unary_rule(pre, st)
            if isinstance(mid, str) or not self._fits(mid, mult):
                continue
            if pre.name == "im2col" and min(st.shape[1:]) < pre.args[0]:
                continue  # the paper's stricter sampling filter: the patch fits without padding
            saved = self._save()
            self._take(mid, mult)
            inner = self.module(mid, depth + 1, mult)
            if inner is None:
                self._restore(saved)
                continue
            for post in self._uniform(_POST):
                out = unary_rule(post, inner[1])
                if not isinstance(out, str) and self._fits(out, mult):
                    self._take(out, mult)
                    return Routing(pre, inner[0], post), out
            self._restore(saved)
        return None

    def _branching(self, k: int, st: TensorState, depth: int, mult: int) -> Result:
        self.nodes += 3
        aggs = options(Role.AGGREGATION, k)
        inner_mult = mult if k == 2 else mult * k
        for fn in self._uniform(options(Role.BRANCH_FN, k)):
            b = branch_rule(fn, st)
            if isinstance(b, str) or not self._fits(b, inner_mult * (2 if k == 2 else 1)):
                continue
            for _ in range(self.limits.branch_retries):
                saved = self._save()
                self._take(b, inner_mult * (2 if k == 2 else 1))
                first = self.module(b, depth + 1, inner_mult)
                if first is None:
                    self._restore(saved)
                    continue
                for _ in range(self.limits.branch_retries if k == 2 else 1):
                    saved2 = self._save()
                    second = self.module(b, depth + 1, inner_mult) if k == 2 else first
                    if second is not None:
                        outs = (first[1], second[1]) if k == 2 else (first[1],) * k
                        for agg in self._uniform(aggs):
                            out = aggregate_rule(agg, outs)
                            if not isinstance(out, str) and self._fits(out, mult):
                                self._take(out, mult)
                                branches = (first[0], second[0]) if k == 2 else (first[0],)
                                return Branching(k, fn, branches, agg), out
                    self._restore(saved2)
                self._restore(saved)
        return None


def _rng(rng: random.Random | int | None) -> random.Random:
    return rng if isinstance(rng, random.Random) else random.Random(rng)


def sample_state(
    st: TensorState, depth: int, mult: int, rng: random.Random, limits: Limits, *, root: bool = False
) -> tuple[Module, TensorState]:
    """One module sampled for input state ``st`` at ``depth`` (used by :mod:`.mutate`)."""

    for _ in range(100):
        got = Sampler(rng, limits).module(st, depth, mult, root=root)
        if got is not None:
            return got
    raise RuntimeError(f"no valid derivation found for input {st.shape}; loosen the limits")


def sample(
    input_shape, *, rng: random.Random | int | None = None, limits: Limits | None = None
) -> Architecture:
    """Sample one architecture valid for (C, H, W) inputs. ``rng`` is a seed or ``random.Random``."""
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"input_shape must be (C, H, W) with positive sizes, got {tuple(input_shape)}")
    limits = limits or Limits()
    rng = _rng(rng)
    for _ in range(1000):
        arch, out = sample_state(TensorState(shape), 0, 1, rng, limits, root=True)
        if out.shape[0] >= limits.min_head_features:
            return arch
    raise RuntimeError(
        f"no sample with at least {limits.min_head_features} head features for input {shape} in 1,000 draws; "
        "lower Limits.min_head_features"
    )


def sample_many(
    n: int, input_shape, *, seed: int = 0, limits: Limits | None = None
) -> list[Architecture]:
    """``n`` architectures from one seeded stream (deterministic for ``seed``)."""
    rng = random.Random(seed)
    return [sample(input_shape, rng=rng, limits=limits) for _ in range(n)]


#: Named sampler limits, so that users can reproduce a corpus's architecture distribution
#: (``surrogate-hub sample --profile NAME``; a corpus config's ``profile:`` key).
PROFILES: dict[str, Limits] = {
    "default": Limits(),
    # corpus v1 and v2: small networks that train in seconds on a CPU core at inputs up to 32×32
    "cpu-small": Limits(max_params=300_000, max_activation=30_000, max_total_activation=100_000),
    # corpus v2: as cpu-small, and the classifier head sees at least 8 features (on 1-channel
    # inputs a third of cpu-small's samples keep one channel: their labels are chance-level noise)
    "cpu-small-v2": Limits(
        max_params=300_000, max_activation=30_000, max_total_activation=100_000, min_head_features=8
    ),
}


def limits_profile(name: str, **overrides: int) -> Limits:
    """The named limits of `PROFILES`, with individual fields overridden."""
    try:
        base = PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown limits profile {name!r}; known: {', '.join(PROFILES)}") from None
    import dataclasses

    known = {f.name for f in dataclasses.fields(Limits)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown Limits field(s) {unknown}; allowed: {sorted(known)}")
    return dataclasses.replace(base, **overrides)
