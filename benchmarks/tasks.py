"""Task learnability and training cost under the corpus budget.

For every offline task: seconds per training, and validation accuracy of (a) trivial
architectures (the classifier head on pooled inputs; one linear layer), (b) a small hand-written
convolutional network in einspace, (c) the seed architectures (subject to the budget's gates),
(d) random samples (median, max). Good architectures must clearly beat trivial ones.

    python benchmarks/tasks.py [--config training/configs/corpus_v1.yaml] [--random 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, table, write_json  # noqa: E402

TRIVIAL = {
    "head-only": "computation<identity>",
    "linear": "computation<linear(16)>",
}
CNN = (
    "sequential(sequential(routing[im2col(3,1,1), computation<linear(64)>, col2im], computation<norm>), "
    "sequential(computation<relu>, sequential(sequential(routing[im2col(3,1,1), computation<linear(64)>, col2im], "
    "computation<norm>), computation<relu>)))"
)


def main(argv: list[str] | None = None) -> int:
    import torch

    from surrogate_hub.corpus import CorpusConfig
    from surrogate_hub.space import Limits, sample_many, to_string
    from surrogate_hub.space.seeds import list_seeds, seed_string
    from surrogate_hub.tasks import get_task
    from surrogate_hub.train import Budget, train_architecture

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", default="training/configs/corpus_v1.yaml", help="corpus config: budget and limits")
    p.add_argument("--random", type=int, default=20, help="random samples per task")
    p.add_argument("--tasks", nargs="*", default=None)
    p.add_argument("--out", default=str(RESULTS / "tasks.json"))
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    cfg = CorpusConfig.from_yaml(args.config)
    budget, limits = Budget(**cfg.budget), Limits(**cfg.limits)
    rows, detail = [], {}
    for name in args.tasks or cfg.tasks:
        task = get_task(name, seed=cfg.task_seed)
        shape = tuple(task.input_shape)

        def run(arch: str) -> dict:
            r = train_architecture(arch, task, budget, seed=cfg.seed)
            return {"status": r.status, "val_acc": r.val_acc, "seconds": round(r.train_seconds, 2)}

        res = {k: run(a) for k, a in TRIVIAL.items()}
        res["cnn"] = run(CNN)
        seeds = {s: run(seed_string(s)) for s in list_seeds()}
        randoms = [run(to_string(a)) for a in sample_many(args.random, shape, seed=cfg.seed, limits=limits)]
        accs = [r["val_acc"] for r in randoms if r["status"] == "ok"]
        secs = [r["seconds"] for r in [*res.values(), *randoms]]
        best_seed = max((r["val_acc"] for r in seeds.values() if r["status"] == "ok"), default=None)
        trivial = max(r["val_acc"] or 0 for k, r in res.items() if k in TRIVIAL)
        rows.append({
            "task": name,
            "s/train mean": round(statistics.mean(secs), 2),
            "head-only": f"{res['head-only']['val_acc'] or 0:.3f}",
            "linear": f"{res['linear']['val_acc'] or 0:.3f}",
            "cnn": f"{res['cnn']['val_acc'] or 0:.3f}",
            "best seed": "–" if best_seed is None else f"{best_seed:.3f}",
            "random median": f"{statistics.median(accs):.3f}" if accs else "–",
            "random max": f"{max(accs):.3f}" if accs else "–",
            "random ok": f"{len(accs)}/{len(randoms)}",
            "good beats trivial by": f"{max([res['cnn']['val_acc'] or 0, *accs]) - trivial:+.3f}",
        })
        detail[name] = {"trivial_and_cnn": res, "seeds": seeds, "random": randoms}
        print(table(rows[-1:], list(rows[-1])), flush=True)
    print()
    print(table(rows, list(rows[0])))
    write_json({"budget": budget.to_dict(), "limits": cfg.limits, "rows": rows, "detail": detail}, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
