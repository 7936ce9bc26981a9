"""BERT surrogate inputs and bases: token lengths per encoding and tokenizer on a corpus, and the
two bases (einspace-native, all-MiniLM-L6-v2) compared on size and prediction speed.

    python benchmarks/bert.py corpus/einspace-offline-v1 [--mlm runs/einspace-mlm] [--n 60] [--repeats 1] [--threads 1] \
        [--rank-model runs/einspace-bert-untrained]

Token lengths count [CLS] and [SEP]; "over 512" is how many texts MiniLM (512 positions) would have
to cut. Speed: ``predict`` on ``--n`` corpus architectures at their input shape, end to end (text,
tokens, forward), best of ``--repeats``, with ``--threads`` torch threads. The regression heads are
untrained: speed does not depend on the weights. ``--rank-model DIR`` also saves the einspace-native
surrogate (from ``--mlm``, head untrained) for ``benchmarks/rank.py``'s throughput measurement.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, table, write_json  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    import torch

    from surrogate_hub.corpus import load
    from surrogate_hub.surrogates.bert.model import BertSurrogate, resolve_base
    from surrogate_hub.surrogates.bert.text import encode
    from surrogate_hub.surrogates.bert.tokenizer import build_tokenizer

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus")
    p.add_argument("--mlm", default=None, help="MLM-pretrained native base (else randomly initialised)")
    p.add_argument("--n", type=int, default=60)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--rank-model", type=Path, default=None)
    p.add_argument("--out", default=str(RESULTS / "bert.json"))
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    ds = load(args.corpus, ok_only=True)
    archs, shapes = ds["arch"], [tuple(s) for s in ds["input_shape"]]
    from transformers import AutoTokenizer

    wordpiece = AutoTokenizer.from_pretrained(resolve_base("minilm")).backend_tokenizer
    wordpiece.no_truncation()
    einspace = build_tokenizer()
    unk = einspace.token_to_id("[UNK]")
    token_rows = []
    for encoding in ("long", "compact"):
        texts = [encode(a, encoding, s) for a, s in zip(archs, shapes)]
        for name, tok in (("einspace", einspace), ("minilm-wordpiece", wordpiece)):
            enc = tok.encode_batch(texts)
            n = np.array([len(e.ids) for e in enc])
            token_rows.append({
                "encoding": encoding, "tokenizer": name, "texts": len(n), "mean": round(float(n.mean()), 1),
                "median": int(np.median(n)), "p90": int(np.percentile(n, 90)), "p99": int(np.percentile(n, 99)),
                "max": int(n.max()), "over 512": int((n > 512).sum()),
                "unknown tokens": int(sum(e.ids.count(unk) for e in enc)) if name == "einspace" else "-",
            })
    raw_long = [len(wordpiece.encode(t).ids) for t in ds["arch_long"][:300]]
    print(table(token_rows, list(token_rows[0])))
    print(f"(paper's unshortened arch_long with WordPiece: mean {np.mean(raw_long):.0f} tokens over the first 300 rows)")

    rng = np.random.default_rng(0)
    idx = rng.choice(len(archs), size=min(args.n, len(archs)), replace=False)
    by_shape: dict[tuple, list[str]] = {}
    for i in idx:
        by_shape.setdefault(shapes[i], []).append(archs[i])
    base_rows = []
    candidates = [("einspace-native", "long"), ("minilm", "long"), ("einspace-native", "compact"), ("minilm", "compact")]
    for base, encoding in candidates:
        if base == "einspace-native" and args.mlm:
            sur = BertSurrogate(base=args.mlm, encoding=encoding, device="cpu").init_model()
        else:
            sur = BertSurrogate(base=base, encoding=encoding, device="cpu")
            sur.init_model([encode(a, encoding, s) for a, s in zip(archs, shapes)] if base == "einspace-native" else ())
        if args.rank_model and base == "einspace-native" and encoding == "long":
            sur.save_pretrained(args.rank_model, half=True)
        best = np.inf
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            for shape, group in by_shape.items():
                sur.predict(group, input_shape=shape)
            best = min(best, time.perf_counter() - t0)
        base_rows.append({
            "base": base, "encoding": encoding, "parameters": f"{sur.n_parameters:,}",
            "fp16 MB": round(sur.n_parameters * 2 / 2**20, 1), "archs/s": round(len(idx) / best, 1),
            "max_length": sur.config.max_length, "threads": args.threads,
        })
        print(base_rows[-1], flush=True)
    print(table(base_rows, list(base_rows[0])))
    write_json({"corpus": args.corpus, "n": len(idx), "mlm": args.mlm, "tokens": token_rows, "bases": base_rows,
                "unshortened_long_wordpiece_mean_first300": float(np.mean(raw_long))}, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
