"""Architecture strings as language-model input: the two encodings and the shape shorthand.

``long`` (default)
    the paper's ``arch_long`` (every module in ``[]``, each terminal followed by its output shape)
    with the shape note ``{'out_feature_shape': [3, 28, 16]}`` shortened to ``{3 28 16}``: the same
    information in a third of the tokens. Sizes up to 1024 and powers of two are kept exactly;
    other sizes above 1024 (products such as ``C·k²`` after an ``im2col``) are written as the
    nearest power of two with a ``~`` mark (``1224`` → ``~1024``), so that a closed vocabulary
    covers every string.
``compact``
    the canonical compact string (no shapes; the same text at every input shape).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Final

from ...space import as_architecture, to_long_string, to_string
from ...space.tree import Architecture

__all__ = ["ENCODINGS", "TOKEN_PATTERN", "encode", "shorten_shapes", "split_tokens"]

ENCODINGS: Final = ("long", "compact")
#: One token per terminal (``linear(64)``, ``im2col(3,1,1)``, ``dot_product(scaled)``), module name
#: (``branching(2)``, ``sequential``), bracket or number; everything else (spaces, commas) separates.
TOKEN_PATTERN: Final = r"[a-z][a-z_0-9]*\((?:[0-9,]+|scaled)\)|[a-z][a-z_0-9]*|~?[0-9]+|[\[\](){}<>]"
#: shape sizes written exactly; larger ones that are not powers of two become ``~2^k``
EXACT_UP_TO: Final = 1024
_TOKEN_RE: Final = re.compile(TOKEN_PATTERN)
_SHAPE_NOTE: Final = re.compile(r"\{'out_feature_shape': \[([0-9, ]*)\]\}")


def _size(n: int) -> str:
    if n <= EXACT_UP_TO or n & (n - 1) == 0:
        return str(n)
    return f"~{1 << round(math.log2(n))}"


def shorten_shapes(long_text: str) -> str:
    """``{'out_feature_shape': [3, 28, 16]}`` → ``{3 28 16}`` everywhere in a long-form string
    (sizes as the module docstring says)."""
    return _SHAPE_NOTE.sub(lambda m: "{" + " ".join(_size(int(d)) for d in m.group(1).split(", ") if d) + "}", long_text)


def encode(arch: str | Architecture, encoding: str, input_shape: Sequence[int]) -> str:
    """The text the language model reads for ``arch`` at ``input_shape`` (see the module docstring).

    Raises :class:`~surrogate_hub.space.ArchitectureError` for a string that does not parse or an
    architecture that is invalid at ``input_shape`` (long form only: the compact form has no shapes).
    """
    if encoding == "compact":
        return arch if isinstance(arch, str) else to_string(arch)
    if encoding == "long":
        return shorten_shapes(to_long_string(as_architecture(arch), tuple(input_shape)))
    raise ValueError(f"unknown encoding {encoding!r}; expected one of {ENCODINGS}")


def split_tokens(text: str) -> list[str]:
    """The einspace tokens of ``text`` (what the einspace tokenizer's pre-tokenizer produces)."""
    return _TOKEN_RE.findall(text)
