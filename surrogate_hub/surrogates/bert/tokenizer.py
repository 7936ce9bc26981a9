"""The einspace-native tokenizer: one token per grammar symbol, built with ``tokenizers``.

Vocabulary: the special tokens, the brackets, the module names (``sequential``, ``routing``,
``computation``, ``branching(2|4|8)``), every terminal the grammar can produce
(``linear(64)``, ``im2col(3,1,1)``, ``cat(2,3)``, ...; see :func:`surrogate_hub.space.options`) and the
shape sizes 0..1024, powers of two up to 2^30 with and without the ``~`` mark of
:func:`~.text.shorten_shapes`, and any other token in ``extra_texts``. A number
outside the vocabulary becomes ``[UNK]`` (counted by :func:`token_stats`), never a silent cut.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from ...space.ops import BRANCH_FACTORS, Role, options
from .text import TOKEN_PATTERN, split_tokens

__all__ = ["SPECIAL_TOKENS", "build_tokenizer", "grammar_tokens", "token_stats"]

SPECIAL_TOKENS: Final = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
BRACKETS: Final = ("(", ")", "[", "]", "{", "}", "<", ">")


def grammar_tokens() -> list[str]:
    """Every module name and terminal of the einspace grammar, as tokens."""
    tokens = ["sequential", "routing", "computation"] + [f"branching({k})" for k in BRANCH_FACTORS]
    roles = [(Role.BRANCH_FN, k) for k in BRANCH_FACTORS] + [(Role.AGGREGATION, k) for k in BRANCH_FACTORS]
    roles += [(Role.PRE_ROUTING, 0), (Role.POST_ROUTING, 0), (Role.COMPUTATION, 0)]
    for role, k in roles:
        tokens += [str(op) for op in options(role, k)]
    return list(dict.fromkeys(tokens))


def build_tokenizer(extra_texts: Iterable[str] = ()) -> Any:
    """A ``tokenizers.Tokenizer`` (word level) for einspace texts; ``extra_texts`` add the numbers
    (and any other tokens) they contain to the vocabulary."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, processors

    numbers = [str(n) for n in range(1025)] + [str(2**p) for p in range(11, 31)] + [f"~{2**p}" for p in range(10, 31)]
    vocab_list = list(SPECIAL_TOKENS) + list(BRACKETS) + grammar_tokens() + numbers
    seen = set(vocab_list)
    for text in extra_texts:
        for tok in split_tokens(text):
            if tok not in seen:
                seen.add(tok)
                vocab_list.append(tok)
    vocab = {tok: i for i, tok in enumerate(vocab_list)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(TOKEN_PATTERN), behavior="removed", invert=True)
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])]
    )
    return tok


def token_stats(lengths: Iterable[int], max_length: int, n_unknown: int = 0) -> dict[str, float]:
    """Summary of token lengths (with ``[CLS]``/``[SEP]``): count, mean, median, p90, p99, max, and
    how many texts exceed ``max_length`` (truncated)."""
    import numpy as np

    a = np.asarray(list(lengths), dtype=np.float64)
    if not len(a):
        return {"n": 0}
    return {
        "n": len(a),
        "mean": float(a.mean()),
        "median": float(np.median(a)),
        "p90": float(np.percentile(a, 90)),
        "p99": float(np.percentile(a, 99)),
        "max": int(a.max()),
        "max_length": int(max_length),
        "truncated": int((a > max_length).sum()),
        "unknown_tokens": int(n_unknown),
    }
