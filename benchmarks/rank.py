"""Ranking speed: cold starts of the command line against ``python -c "import numpy"``, and warm
throughput of the embedded GRAF surrogate.

Cold start: each command runs as a fresh process, ``--repeats`` times, interleaved with the
baseline so that machine load hits all of them alike; the figure is the best (minimum) wall time
and its ratio to the baseline's best. Commands: ``import surrogate_hub.surrogates``, and
``surrogate-hub rank`` of 1 and 1,000 sampled architectures without ``--task`` (GRAF-only model,
numpy trees: no xgboost) and with ``--task`` (GRAF+ZCP model: torch, the task's data and the
zero-cost proxies of every architecture). The goal (issue 10): the import and the 1,000-architecture
rank without ``--task`` within 6x the baseline.

Architectures are sampled with the sampler limits of corpus v1 (``training/configs/corpus_v1.yaml``),
the distribution the surrogates were fitted on; proxy cost grows with network size.

Warm throughput: architectures/s end to end from strings (parse, shape check, GRAF + extras, tree
evaluation, sort) in one process, per wall second and per CPU second (``time.process_time``: all
threads of the process), best of ``--repeats``; each repeat ranks freshly sampled architectures
(seed = repeat), so no cache of an earlier repeat helps.

``--bert``: the same for the BERT surrogate (issue 12: at least 100 architectures/s on 2 cores),
with ``einspace-graf-xgb`` measured in the same run as the baseline row, written to
``results/rank_bert.json``. The BERT surrogate is the shipped ``einspace-bert`` (loaded as a user
would load it); ``--bert-model NAME_OR_DIR`` measures another one, and ``--bert-model untrained`` an
untrained einspace-native model of the shipped size (``NATIVE_SIZES``) in the long form, the
slower encoding. On a loaded machine, OpenMP threads spin while they wait for a core and the spinning
counts as CPU time; ``OMP_WAIT_POLICY=PASSIVE`` (recorded in the JSON) keeps the CPU figure to the
work done.

    python benchmarks/rank.py [--repeats 5] [--task digits] [--n 5000]
    OMP_WAIT_POLICY=PASSIVE python benchmarks/rank.py --bert --n 1000 --repeats 2 --threads 2
    python benchmarks/rank.py --warm-only --surrogate NAME_OR_DIR --n 1000 --goal 100 --out FILE  # any surrogate
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, table, write_json  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CORPUS_LIMITS = {"max_params": 300_000, "max_activation": 30_000, "max_total_activation": 100_000}
GOAL_RATIO = 6.0


def _wall(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, env=env, cwd=ROOT, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr.decode()[-2000:]}")
    return wall


def cold_start(repeats: int, task: str, task_repeats: int, task_n: int, save) -> list[dict]:
    """Cold-start rows; ``save(rows)`` is called after each stage, so a run cut short keeps what it
    measured (the 1,000-architecture ``--task`` run comes last: it is by far the longest)."""
    from surrogate_hub.space import Limits, sample_many, to_string

    py = sys.executable
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    tmp = Path(tempfile.mkdtemp(prefix="rank-bench-"))
    archs = [to_string(a) for a in sample_many(1000, (1, 8, 8), seed=0, limits=Limits(**CORPUS_LIMITS))]
    files = {1: tmp / "one.txt", 1000: tmp / "thousand.txt", "task": tmp / "task.txt"}
    files[1].write_text(archs[0] + "\n")
    files[1000].write_text("\n".join(archs) + "\n")
    files["task"].write_text("\n".join(archs[:task_n]) + "\n")
    cli = [py, "-m", "surrogate_hub.cli", "rank"]
    baseline = "python -c 'import numpy' (baseline)"
    stages = [
        {  # interleaved rounds, so that load changes hit every command alike
            baseline: [py, "-c", "import numpy"],
            "python -c 'import surrogate_hub.surrogates'": [py, "-c", "import surrogate_hub.surrogates"],
            "rank 1 arch": [*cli, str(files[1]), "--input-shape", "1,8,8", "--classes", "10"],
            "rank 1,000 archs": [*cli, str(files[1000]), "--input-shape", "1,8,8", "--classes", "10"],
        },
        {f"rank 1 arch --task {task}": [*cli, str(files[1]), "--task", task, "--no-progress"]},
        {f"rank {task_n:,} archs --task {task}": [*cli, str(files["task"]), "--task", task, "--no-progress"]},
    ]
    rounds = [repeats, task_repeats, 1]
    times: dict[str, list[float]] = {}
    rows: list[dict] = []
    for stage, n in zip(stages, rounds):
        for _ in range(n):
            for name, cmd in stage.items():
                times.setdefault(name, []).append(_wall(cmd, env))
                print(f"  {name}: {times[name][-1]:.2f} s", file=sys.stderr)
        rows = _rows(times, baseline)
        save(rows)
    return rows


def _rows(times: dict[str, list[float]], baseline: str) -> list[dict]:
    base = min(times[baseline])
    rows = []
    for name, walls in times.items():
        goal = name in ("python -c 'import surrogate_hub.surrogates'", "rank 1,000 archs")
        ratio = min(walls) / base
        rows.append({
            "command": name, "runs": len(walls), "best wall s": round(min(walls), 3),
            "median wall s": round(statistics.median(walls), 3), "x import numpy": round(ratio, 2),
            "goal": f"<= {GOAL_RATIO:g}x" if goal else "",
            "meets goal": ("yes" if ratio <= GOAL_RATIO else "NO") if goal else "",
        })
    return rows


#: input shape and class count of the warm-throughput rows
WARM_INPUTS = (((3, 32, 32), 10), ((1, 8, 8), 10), ((3, 28, 28), 20))


def throughput(
    n: int, repeats: int, surrogate: str = "einspace-graf-xgb", goal: int = 1000, label: str | None = None, **load: str
) -> list[dict]:
    """Warm-throughput rows (one per :data:`WARM_INPUTS`) of ``surrogate`` (a name or folder,
    loaded with the ``load`` options, e.g. ``device``)."""
    from surrogate_hub.space import sample_many, to_string
    from surrogate_hub.surrogates.registry import load_surrogate

    sur = load_surrogate(surrogate, **load)
    warm = [to_string(a) for a in sample_many(8, (3, 32, 32), seed=10_000)]
    sur.rank(warm, input_shape=(3, 32, 32), num_classes=10)  # first-call costs (imports, kernels) are not throughput
    rows = []
    for shape, classes in WARM_INPUTS:
        wall, cpu = [], []
        for r in range(repeats):
            texts = [to_string(a) for a in sample_many(n, shape, seed=r)]
            t0, c0 = time.perf_counter(), time.process_time()
            ranking = sur.rank(texts, input_shape=shape, num_classes=classes)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            assert len(ranking.order) == len(texts)
        rows.append({
            "surrogate": label or surrogate, "input": "×".join(map(str, shape)), "n": n,
            "archs/s (wall, best)": f"{n / min(wall):,.0f}",
            "archs/s (CPU, best)": f"{n / min(cpu):,.0f}",
            "median wall s": f"{statistics.median(wall):.2f}", "median CPU s": f"{statistics.median(cpu):.2f}",
            "goal/s": f"{goal:,}", "meets goal (CPU)": "yes" if n / min(cpu) >= goal else "NO",
        })
        print(f"  {rows[-1]}", file=sys.stderr, flush=True)
    return rows


def untrained_bert(folder: Path) -> Path:
    """Save an untrained einspace-native BERT surrogate of the shipped size in ``folder``."""
    from surrogate_hub.surrogates.bert.model import NATIVE_SIZES, BertSurrogate

    sur = BertSurrogate(device="cpu").init_model(sizes=NATIVE_SIZES)
    sur.save_pretrained(folder, half=True)
    return folder


def bert_throughput(n: int, repeats: int, threads: int | None, model: str, goal: int, out: str) -> list[dict]:
    """BERT warm throughput on the CPU, with the GRAF-XGB baseline in the same run; writes ``out``."""
    load = [round(os.getloadavg()[0], 2)]
    with tempfile.TemporaryDirectory(prefix="rank-bert-") as tmp:
        untrained = model == "untrained"
        folder = str(untrained_bert(Path(tmp) / "einspace-bert-untrained")) if untrained else model
        label = "untrained einspace-native BERT (shipped size, long form)" if untrained else model
        rows = throughput(n, repeats, "einspace-graf-xgb", 1000, "einspace-graf-xgb (baseline)")
        rows += throughput(n, repeats, folder, goal, label, device="cpu")
    load.append(round(os.getloadavg()[0], 2))
    import torch

    write_json({
        "surrogate": label, "baseline": "einspace-graf-xgb", "threads": threads, "torch_threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"), "n": n, "repeats": repeats,
        "load_average_1min": {"start": load[0], "end": load[1]},
        "caveats": "CPU seconds count every thread of the process; on a loaded machine wall seconds mostly "
                   "measure waiting for a core (see load_average_1min); the goal is judged on CPU seconds",
        "rows": rows,
    }, out)
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=5, help="cold-start runs per command (best is reported)")
    p.add_argument("--task-repeats", type=int, default=2, help="runs of the 1-architecture --task command")
    p.add_argument("--task", default="digits", help="task for the --task runs")
    p.add_argument("--task-n", type=int, default=1000, help="architectures of the long --task run")
    p.add_argument("--n", type=int, default=5000, help="architectures per warm-throughput row")
    p.add_argument("--out", default=str(RESULTS / "rank.json"))
    p.add_argument("--surrogate", default="einspace-graf-xgb", help="surrogate of the warm-throughput rows")
    p.add_argument("--goal", type=int, default=1000, help="archs/s the surrogate should reach")
    p.add_argument("--threads", type=int, default=None, help="torch threads (BERT surrogates)")
    p.add_argument("--warm-only", action="store_true", help="only the warm throughput of --surrogate")
    p.add_argument("--bert", action="store_true",
                   help="warm throughput of a BERT surrogate with einspace-graf-xgb as the baseline row (default --out: "
                        "results/rank_bert.json, --goal 100)")
    p.add_argument("--bert-model", default="einspace-bert", metavar="NAME_OR_DIR",
                   help="with --bert: the BERT surrogate to measure (default einspace-bert; 'untrained': an untrained "
                        "native model of the shipped size in the long form)")
    args = p.parse_args(argv)
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    if args.bert:
        out = args.out if args.out != p.get_default("out") else str(RESULTS / "rank_bert.json")
        goal = args.goal if args.goal != p.get_default("goal") else 100
        rows = bert_throughput(args.n, args.repeats, args.threads, args.bert_model, goal, out)
        print(table(rows, list(rows[0])))
        return 0
    if args.warm_only:
        warm = throughput(args.n, args.repeats, args.surrogate, args.goal)
        print(table(warm, list(warm[0])))
        write_json({"surrogate": args.surrogate, "threads": args.threads, "rows": warm}, args.out)
        return 0
    warm = throughput(args.n, 3, args.surrogate, args.goal)
    print(table(warm, list(warm[0])))

    def save(cold: list[dict]) -> None:
        write_json({
            "surrogate": "einspace-graf-xgb (GRAF-only) / einspace-graf-zcp-xgb (--task)",
            "cold_start": cold, "cold_start_goal_ratio": GOAL_RATIO, "sampler_limits": CORPUS_LIMITS,
            "load_average_1min": round(os.getloadavg()[0], 2),
            "caveats": "wall times on a shared 2-core machine (see load_average_1min); best of the runs; "
                       "the --task runs include importing torch, generating the task's data and computing "
                       "7 proxies per architecture (a process pool over all cores for 48 or more)",
            "rows": warm,
        }, args.out)

    cold = cold_start(args.repeats, args.task, args.task_repeats, args.task_n, save)
    print(table(cold, list(cold[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
