"""Ranking throughput: architectures/s for a surrogate, end to end from strings (for GRAF-XGBoost:
parse, shape check, GRAF + extras, XGBoost prediction, sort; for BERT: text, tokens, forward, sort).

    python benchmarks/rank.py [--surrogate einspace-graf-xgb] [--n 5000]
    python benchmarks/rank.py --surrogate runs/einspace-bert --n 1000 --repeats 2 --threads 2 --goal 100 \
        --out benchmarks/results/rank_bert.json
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, table, write_json  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    from surrogate_hub.space import sample_many, to_string
    from surrogate_hub.surrogates.registry import load_surrogate

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--surrogate", default="einspace-graf-xgb")
    p.add_argument("--n", type=int, default=5000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", default=str(RESULTS / "rank.json"))
    p.add_argument("--goal", type=int, default=1000, help="archs/s the surrogate should reach")
    p.add_argument("--threads", type=int, default=None, help="torch threads (BERT surrogates)")
    args = p.parse_args(argv)
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    sur = load_surrogate(args.surrogate)
    rows = []
    for shape, classes in (((3, 32, 32), 10), ((1, 8, 8), 10), ((3, 28, 28), 20)):
        texts = [to_string(a) for a in sample_many(args.n, shape, seed=0)]
        wall, cpu = [], []
        for _ in range(args.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            ranking = sur.rank(texts, input_shape=shape, num_classes=classes)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        assert len(ranking.order) == len(texts)
        rows.append({
            "input": "×".join(map(str, shape)), "n": len(texts),
            "archs/s (wall, best)": f"{len(texts) / min(wall):,.0f}",
            "archs/s (CPU, best)": f"{len(texts) / min(cpu):,.0f}",
            "median wall s": f"{statistics.median(wall):.2f}", "goal/s": f"{args.goal:,}",
            "meets goal": "yes" if len(texts) / min(cpu) >= args.goal else "NO",
        })
    print(table(rows, list(rows[0])))
    write_json({"surrogate": args.surrogate, "threads": args.threads, "rows": rows}, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
