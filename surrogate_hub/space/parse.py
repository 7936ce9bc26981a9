"""Parsing the compact notation (and the long LM encoding) into :class:`Architecture` values.

The grammar is the package-data file ``einspace.lark``; a lark ``Transformer`` runs inline with the
LALR parser and builds the frozen dataclasses directly. Every malformed input raises
:class:`ParseError` with the line, the column and what was expected there.
"""

from __future__ import annotations

import re
from functools import lru_cache

import lark

from .errors import ParseError
from .ops import BRANCH_FACTORS, Op, Role, grammar_text, options
from .tree import Architecture, Branching, Computation, Routing, Sequential

__all__ = ["parse", "parse_long", "MAX_CHARS", "MAX_NESTING"]

#: Inputs beyond these limits are refused before parsing (the tree is processed recursively).
MAX_CHARS = 1_000_000
MAX_NESTING = 400


def _bad(token: lark.Token, message: str) -> ParseError:
    return ParseError(message, line=token.line, column=token.column)


class _Build(lark.Transformer):
    """Parse tree → Architecture; checks each op against the option table of its role."""

    def op(self, items):  # raw op, role not yet known
        name, *args = items
        return name, tuple(None if a is None else a for a in args)

    @staticmethod
    def _check(raw, role: str, k: int = 0) -> Op:
        name_tok, arg_toks = raw
        args = tuple(int(a) if a.type == "INT" else str(a) for a in arg_toks if a is not None)
        op = Op(str(name_tok), args)
        allowed = options(role, k)
        if op not in allowed:
            listed = ", ".join(str(o) for o in allowed)
            known_name = any(o.name == op.name for o in allowed)
            what = "bad parameters for" if known_name else "unknown"
            raise _bad(name_tok, f"{what} {role} {op!s}; expected one of: {listed}")
        return op

    def sequential(self, items):
        return Sequential(*items)

    def branching(self, items):
        k_tok, fn, *modules, agg = items
        k = int(k_tok)
        if k not in BRANCH_FACTORS:
            raise _bad(k_tok, f"branching({k}) is not in the grammar; expected branching(2), (4) or (8)")
        want = 2 if k == 2 else 1
        if len(modules) != want:
            raise _bad(
                k_tok,
                f"branching({k}): expected {want} module{'s' if want > 1 else ''} between its "
                f"branching and aggregation functions, got {len(modules)}",
            )
        return Branching(k, self._check(fn, Role.BRANCH_FN, k), tuple(modules), self._check(agg, Role.AGGREGATION, k))

    def routing(self, items):
        pre, inner, post = items
        return Routing(self._check(pre, Role.PRE_ROUTING), inner, self._check(post, Role.POST_ROUTING))

    def computation(self, items):
        return Computation(self._check(items[0], Role.COMPUTATION))

    def lop(self, items):  # an op with its shape note: `_shape_note` inlines its INTs here; drop them
        return items[0]

    lsequential = sequential
    lbranching = branching
    lrouting = routing
    lcomputation = computation


@lru_cache(maxsize=1)
def _parser() -> lark.Lark:
    return lark.Lark(
        grammar_text(),
        parser="lalr",
        start=["compact", "long"],
        transformer=_Build(),
        maybe_placeholders=True,
    )


def _nesting_ok(text: str) -> None:
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{<":
            depth += 1
            if depth > MAX_NESTING:
                line = text.count("\n", 0, i) + 1
                col = i - text.rfind("\n", 0, i)
                raise ParseError(f"brackets nested deeper than {MAX_NESTING} levels", line=line, column=col)
        elif ch in ")]}>":
            depth -= 1


def _anonymous(name: str) -> str | None:
    """The literal text of a terminal lark named itself (e.g. ``__ANON_0`` for ``'out_feature_shape'``)."""
    if not name.startswith("__ANON"):
        return None
    try:
        return repr(_parser().get_terminal(name).pattern.value)
    except KeyError:  # pragma: no cover - every name lark reports is one of its terminals
        return None


def _expected(err: lark.exceptions.UnexpectedInput) -> str:
    names = sorted(getattr(err, "accepts", None) or getattr(err, "expected", None) or getattr(err, "allowed", None) or [])
    pretty = {
        "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'", "LBRACE": "'{'", "RBRACE": "'}'",
        "LESSTHAN": "'<'", "MORETHAN": "'>'", "COMMA": "','", "NAME": "an operation name",
        "INT": "an integer", "COLON": "':'", "$END": "end of input",
    }
    shown = [pretty.get(n) or _anonymous(n) or n.lower() for n in names]
    return ", ".join(dict.fromkeys(shown)) or "something else"


def _parse(text: str, start: str) -> Architecture:
    if not isinstance(text, str):
        raise TypeError(f"expected an architecture string, got {type(text).__name__}")
    if not text.strip():
        raise ParseError("empty architecture string; expected a module such as 'sequential(...)'", line=1, column=1)
    if len(text) > MAX_CHARS:
        raise ParseError(f"architecture string of {len(text):,} characters exceeds the limit of {MAX_CHARS:,}", line=1, column=1)
    _nesting_ok(text)
    try:
        return _parser().parse(text, start=start)
    except ParseError:
        raise
    except lark.exceptions.VisitError as err:  # an error raised inside the transformer
        if isinstance(err.orig_exc, ParseError):
            raise err.orig_exc from None
        raise
    except lark.exceptions.UnexpectedEOF as err:
        lines = text.splitlines() or [""]
        raise ParseError(
            f"unexpected end of input (unbalanced brackets?); expected {_expected(err)}",
            line=len(lines), column=len(lines[-1]) + 1,
        ) from None
    except lark.exceptions.UnexpectedCharacters as err:
        raise ParseError(
            f"unexpected character {text[err.pos_in_stream]!r}; expected {_expected(err)}",
            line=err.line, column=err.column,
        ) from None
    except lark.exceptions.UnexpectedToken as err:
        tok = err.token
        if tok.type == "$END":
            lines = text.splitlines() or [""]
            raise ParseError(
                f"unexpected end of input (unbalanced brackets?); expected {_expected(err)}",
                line=len(lines), column=len(lines[-1]) + 1,
            ) from None
        shown = repr(str(tok))
        raise ParseError(
            f"unexpected {shown}; expected {_expected(err)}",
            line=getattr(tok, "line", None) or 1, column=getattr(tok, "column", None) or 1,
        ) from None


# -- fast path ---------------------------------------------------------------------------------
# Lark's LALR parser runs at ~10 us per token. Well-formed compact strings (the common case: ranking
# thousands of sampled strings) take a regex-tokenised recursive descent over the same option
# table; anything it does not accept goes to the lark parser, which is the reference (the tests
# check both agree) and produces the error messages.
_TOKEN = re.compile(r"[a-z_][a-z0-9_]*(?:\([a-z0-9_,\s]*\))?|\S")
_WS = re.compile(r"\s+")
_MODULE_OPEN = {"sequential": "(", "routing": "[", "computation": "<"}


class _NotFast(Exception):
    """The fast path gives up; the lark parser decides."""


@lru_cache(maxsize=1)
def _op_tables() -> dict[tuple[str, int], dict[str, Op]]:
    roles = [(Role.PRE_ROUTING, 0), (Role.POST_ROUTING, 0), (Role.COMPUTATION, 0)]
    roles += [(r, k) for r in (Role.BRANCH_FN, Role.AGGREGATION) for k in BRANCH_FACTORS]
    return {key: {str(op): op for op in options(*key)} for key in roles}


def _fast(text: str) -> Architecture:
    toks = _TOKEN.findall(text)
    tables = _op_tables()
    pos = 0

    def take(expected: str) -> None:
        nonlocal pos
        if pos >= len(toks) or toks[pos] != expected:
            raise _NotFast
        pos += 1

    def op(role: str, k: int = 0) -> Op:
        nonlocal pos
        if pos >= len(toks):
            raise _NotFast
        found = tables[(role, k)].get(_WS.sub("", toks[pos]))
        if found is None:
            raise _NotFast
        pos += 1
        return found

    def module(depth: int):
        nonlocal pos
        if depth > MAX_NESTING or pos >= len(toks):
            raise _NotFast
        head = toks[pos]
        pos += 1
        if head == "sequential":
            take("(")
            first = module(depth + 1)
            take(",")
            second = module(depth + 1)
            take(")")
            return Sequential(first, second)
        if head == "computation":
            take("<")
            o = op(Role.COMPUTATION)
            take(">")
            return Computation(o)
        if head == "routing":
            take("[")
            pre = op(Role.PRE_ROUTING)
            take(",")
            inner = module(depth + 1)
            take(",")
            post = op(Role.POST_ROUTING)
            take("]")
            return Routing(pre, inner, post)
        k = {"branching(2)": 2, "branching(4)": 4, "branching(8)": 8}.get(_WS.sub("", head))
        if k is None:
            raise _NotFast
        take("{")
        fn = op(Role.BRANCH_FN, k)
        take(",")
        branches = [module(depth + 1)]
        take(",")
        if k == 2:
            branches.append(module(depth + 1))
            take(",")
        agg = op(Role.AGGREGATION, k)
        take("}")
        return Branching(k, fn, tuple(branches), agg)

    arch = module(1)
    if pos != len(toks):
        raise _NotFast
    return arch


def parse(text: str) -> Architecture:
    """Parse the compact notation, e.g. ``"sequential(computation<norm>, computation<relu>)"``.

    Whitespace is free. Raises :class:`ParseError` (with line and column) on malformed input.
    """
    if isinstance(text, str) and len(text) <= MAX_CHARS:
        try:
            return _fast(text)
        except (_NotFast, RecursionError):
            pass
    return _parse(text, "compact")


def parse_long(text: str) -> Architecture:
    """Parse the long LM encoding (``arch_long``); the shape annotations are ignored."""
    return _parse(text, "long")
