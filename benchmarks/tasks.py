"""Task signal under a corpus budget: the three bars every task of a corpus must pass.

Per task of the corpus config (its per-task budget, its sampler profile):
1. near-chance share: successful random architectures within 1.2x of chance (bar: <= 40 %);
2. noise ceiling: Kendall tau between training seeds 0 and 1 of the same random architectures
   (bar: >= 0.6 on 60 architectures);
3. best scaled seed network (the config's seeds) against the best linear baseline (bar: seeds win on
   at least half of the tasks);
plus the mean seconds per training. Trainings run in worker processes with one torch thread each and
are cached in a JSONL file beside the output, so an interrupted run resumes where it stopped.

    python benchmarks/tasks.py --config training/configs/corpus_v2.yaml --random 60 --workers 2
    python benchmarks/tasks.py --config training/configs/corpus_v2.yaml --from-corpus corpus/einspace-offline-v2

``--from-corpus`` reads the random architectures, their noise pairs and the seeds from a built (or
partly built) corpus instead of training them; only the linear baselines are trained.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, table, write_json  # noqa: E402

#: linear models in einspace: no non-linearity between the input and the (linear) head
LINEAR = (
    "computation<identity>",
    "routing[im2col(1,1,0), computation<linear(64)>, identity]",
    "routing[im2col(4,4,0), computation<linear(64)>, identity]",
    "routing[im2col(8,8,0), computation<linear(64)>, identity]",
)
NEAR_CHANCE_BAR, CEILING_BAR, SEED_WIN_BAR = 0.40, 0.60, 0.5


def _train(job: tuple) -> dict:
    """Worker: one training; returns a plain row (module-level for process pools)."""
    import torch

    from surrogate_hub.corpus import CorpusConfig
    from surrogate_hub.tasks import get_task
    from surrogate_hub.train import train_architecture

    config_path, task_name, kind, arch, seed = job
    cfg = CorpusConfig.from_yaml(config_path)
    torch.set_num_threads(cfg.threads)
    task = get_task(task_name, seed=cfg.task_seed)
    r = train_architecture(arch, task, cfg.budget_for(task_name), seed=seed, threads=cfg.threads)
    return {"task": task_name, "kind": kind, "arch": arch, "seed": seed, "status": r.status,
            "val_acc": r.val_acc, "seconds": round(r.train_seconds, 3), "num_classes": task.num_classes,
            "origin": "random" if kind == "random" else kind}


def plan(cfg, n_random: int, tasks: list[str], seeds: bool = True) -> list[tuple]:
    """Jobs per task: n random architectures (profile, seeded per task) x seeds 0 and 1, the linear
    baselines and the config's shared seeds, all at the training seed of the config."""
    from surrogate_hub.corpus.build import _seed_arch
    from surrogate_hub.space import infer, parse, sample, to_string
    from surrogate_hub.tasks import get_task

    jobs = []
    for name in tasks:
        shape = tuple(get_task(name, seed=cfg.task_seed).input_shape)
        rng = random.Random(f"signal/{name}")
        # oversample: failed trainings are replaced by the next architectures in the stream
        for _ in range(int(n_random * 1.3) + 2 if n_random else 0):
            arch = to_string(sample(shape, rng=rng, limits=cfg.limits_value()))
            jobs += [(name, "random", arch, cfg.seed), (name, "random", arch, cfg.seed + 1)]
        for arch in LINEAR:
            try:
                infer(parse(arch), shape)
            except Exception:  # noqa: BLE001 - a baseline that does not fit this shape is skipped
                continue
            jobs.append((name, "linear", arch, cfg.seed))
        for spec in cfg.shared.seeds if seeds else ():
            jobs.append((name, f"seed:{spec}", _seed_arch(spec, shape), cfg.seed))
    return jobs


def summarise(rows: list[dict], n_random: int) -> list[dict]:
    from surrogate_hub.corpus.signal import near_chance_share, noise_ceiling

    out = []
    for name in sorted({r["task"] for r in rows}):
        mine = [r for r in rows if r["task"] == name]
        k = mine[0]["num_classes"]
        by_arch: dict[str, dict[int, dict]] = {}
        for r in mine:
            if r["kind"] == "random":
                by_arch.setdefault(r["arch"], {})[r["seed"]] = r
        seeds_sorted = sorted({r["seed"] for r in mine if r["kind"] == "random"})
        pairs = []
        for runs in by_arch.values():
            if len(seeds_sorted) >= 2 and all(s in runs and runs[s]["status"] == "ok" for s in seeds_sorted[:2]):
                pairs.append((runs[seeds_sorted[0]]["val_acc"], runs[seeds_sorted[1]]["val_acc"]))
        pairs = pairs[:n_random] if n_random else pairs
        first = [r["val_acc"] for r in mine if r["kind"] == "random" and r["status"] == "ok" and r["seed"] == seeds_sorted[0]] if seeds_sorted else []
        linear = [r["val_acc"] for r in mine if r["kind"] == "linear" and r["status"] == "ok"]
        seeds = {r["kind"][5:]: r for r in mine if r["kind"].startswith("seed:")}
        seed_ok = [r["val_acc"] for r in seeds.values() if r["status"] == "ok"]
        near = near_chance_share(first, k)
        ceiling = noise_ceiling(pairs)
        best_linear = max(linear, default=None)
        best_seed = max(seed_ok, default=None)
        out.append({
            "task": name, "classes": k, "random": len(first), "pairs": len(pairs),
            "near_chance": None if near is None else round(near, 3),
            "ceiling_tau": None if ceiling is None else round(ceiling, 3),
            "random_median": round(sorted(first)[len(first) // 2], 3) if first else None,
            "random_max": round(max(first), 3) if first else None,
            "best_linear": best_linear, "best_seed": best_seed,
            "best_seed_name": max(seeds, key=lambda s: seeds[s]["val_acc"] or -1) if seed_ok else None,
            "seed_beats_linear": None if best_seed is None or best_linear is None else best_seed > best_linear,
            "seeds_ok": f"{len(seed_ok)}/{len(seeds)}",
            "s_per_training": round(sum(r["seconds"] for r in mine) / len(mine), 2),
            "near_chance_ok": near is not None and near <= NEAR_CHANCE_BAR,
            "ceiling_ok": ceiling is not None and ceiling >= CEILING_BAR,
        })
    return out


def main(argv: list[str] | None = None) -> int:
    from surrogate_hub.corpus import CorpusConfig

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", default="training/configs/corpus_v2.yaml", help="corpus config: tasks, budgets, profile, seeds")
    p.add_argument("--random", type=int, default=60, help="random architectures per task (each trained with 2 seeds)")
    p.add_argument("--tasks", nargs="*", default=None)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--from-corpus", default=None, help="read near-chance share and noise ceiling from a corpus folder")
    p.add_argument("--out", default=str(RESULTS / "tasks.json"))
    args = p.parse_args(argv)
    cfg = CorpusConfig.from_yaml(args.config)
    tasks = args.tasks or list(cfg.tasks)
    corpus_rows: list[dict] = []
    if args.from_corpus:
        from surrogate_hub.corpus.build import read_shards

        records, _ = read_shards(Path(args.from_corpus) / "data", quarantine=False)
        for r in records.values():
            if r["task"] in tasks and r["origin"] in ("random", "seed"):
                kind = "random" if r["origin"] == "random" else "seed:" + r["job_id"].split("/seed/", 1)[-1]
                corpus_rows.append({"task": r["task"], "kind": kind, "arch": r["arch"], "seed": r["seed"],
                                    "status": r["status"], "val_acc": r["val_acc"], "seconds": r["train_seconds"] or 0.0,
                                    "num_classes": r["num_classes"], "origin": r["origin"]})
    cache = Path(args.out).with_suffix(".runs.jsonl")
    done = {}
    if cache.exists():
        for line in cache.read_text().splitlines():
            r = json.loads(line)
            done[(r["task"], r["kind"], r["arch"], r["seed"])] = r
    planned = plan(cfg, 0, tasks, seeds=False) if args.from_corpus else plan(cfg, args.random, tasks)
    jobs = [j for j in planned if j not in done]
    print(f"{len(done)} trainings cached, {len(jobs)} to run", flush=True)
    with ProcessPoolExecutor(args.workers, mp_context=get_context("spawn")) as pool, cache.open("a") as fh:
        for row in pool.map(_train, [(args.config, *j) for j in jobs], chunksize=1):
            done[(row["task"], row["kind"], row["arch"], row["seed"])] = row
            fh.write(json.dumps(row) + "\n")
            fh.flush()
    trained = [r for r in done.values() if r["task"] in tasks and (r["kind"] == "linear" or not args.from_corpus)]
    rows = summarise(trained + corpus_rows, 0 if args.from_corpus else args.random)
    cols = ["task", "classes", "random", "pairs", "near_chance", "ceiling_tau", "random_median", "random_max",
            "best_linear", "best_seed", "best_seed_name", "s_per_training"]
    print(table(rows, cols))
    wins = sum(bool(r["seed_beats_linear"]) for r in rows)
    print(f"\nseeds beat the best linear baseline on {wins}/{len(rows)} tasks (bar: half)")
    write_json({"config": args.config, "source": args.from_corpus or "fresh trainings", "budget": cfg.budget, "task_budgets": cfg.task_budgets,
                "profile": cfg.profile, "random_per_task": args.random, "linear_baselines": list(LINEAR),
                "bars": {"near_chance_max": NEAR_CHANCE_BAR, "ceiling_min": CEILING_BAR, "seed_win_share": SEED_WIN_BAR},
                "seed_wins": wins, "rows": rows}, args.out)
    if args.from_corpus:  # the corpus card shows the seed-vs-linear bar from here
        write_baselines(Path(args.from_corpus) / "report" / "baselines.json", rows)
    return 0


def write_baselines(path: Path, rows: list[dict]) -> None:
    """Per task, the best linear baseline (trained with the corpus's budget) and the best scaled seed
    network of the corpus, as ``{corpus}/report/baselines.json`` for the dataset card."""
    keys = ("best_linear", "best_seed", "best_seed_name", "seed_beats_linear")
    doc = {"linear_baselines": list(LINEAR), "tasks": {r["task"]: {k: r[k] for k in keys} for r in rows}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
