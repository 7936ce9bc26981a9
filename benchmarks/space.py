"""Benchmark the einspace search space on one CPU core: sampling, text forms, shapes, mutation, compile.

    python benchmarks/space.py [--n 10000] [--out benchmarks/results/space.json]

Per input shape (3×28×28, 1×8×8, 3×32×32): ``--n`` samples from one seeded stream (valid samples per
second, every sample re-checked by shape inference afterwards, untimed); then, over those samples,
``parse`` of their compact strings, ``infer``, ``to_string`` and ``to_long_string`` (architectures per
second, best of ``--repeats`` passes because the machine may be shared), ``mutate`` of the first
``--mutations`` samples, and the distribution of depth, nodes, op instances (branching copies
expanded), characters and parameters (``--classes`` classes). Compile: milliseconds per
``compile_architecture`` for the first ``--compile-archs`` samples at 3×28×28 (architectures with more
than ``--max-instances`` op instances are skipped and counted: building hundreds of thousands of torch
modules takes minutes and gigabytes), and for each seed architecture at its reference input (best of 3).
Rates are per wall-clock second and per CPU second of this process (equal on an idle core).
Goals: ≥ 500 samples/s and ≥ 5,000 parses/s. Prints a table and writes JSON with machine facts.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core, before torch loads its thread pools

import argparse
import math
import platform
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from _common import RESULTS, machine, table, write_json

from surrogate_hub.space import (
    Limits,
    infer,
    n_params,
    parse,
    sample_many,
    to_long_string,
    to_string,
    tree_stats,
)
from surrogate_hub.space.mutate import mutate
from surrogate_hub.space.seeds import list_seeds, seed_string

SHAPES = ((3, 28, 28), (1, 8, 8), (3, 32, 32))
GOALS = {"sample": 500.0, "parse": 5_000.0}  # per second
#: Reference input of each seed architecture (the Mixers are written for 8×8 patch grids).
SEED_INPUTS = {name: ((3, 32, 32), 10) if name.startswith("mlpmixer") else ((3, 28, 28), 20) for name in list_seeds()}


def _one_core() -> int | None:
    """Pin the process to one CPU (Linux); returns the CPU or None where pinning is unavailable."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def _timing(n: int, wall: float, cpu: float) -> dict:
    """Rates per wall-clock second and per CPU second of this process (the two differ when other
    processes share the core; the CPU rate is what an idle core would give)."""
    return {"per_s": n / wall, "per_cpu_s": n / cpu if cpu > 0 else math.nan, "seconds": wall, "cpu_seconds": cpu, "n": n}


def _rate(fn: Callable, items: Sequence, repeats: int) -> dict:
    """Items per second over a whole pass, best of ``repeats`` passes."""
    best = (math.inf, math.inf)
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        for item in items:
            fn(item)
        best = min(best, (time.perf_counter() - start, time.process_time() - cpu))
    return _timing(len(items), *best)


def _summary(values: Sequence[float]) -> dict:
    xs = sorted(values)

    def pct(q: float) -> float:  # nearest rank
        return xs[min(len(xs) - 1, max(0, math.ceil(q / 100 * len(xs)) - 1))]

    return {
        "min": xs[0],
        "median": statistics.median(xs),
        "mean": statistics.fmean(xs),
        "p90": pct(90),
        "p99": pct(99),
        "max": xs[-1],
    }


def _instances(root) -> int:
    return sum(o.mult for o in root.iter_ops())


def bench_shape(shape: tuple[int, int, int], n: int, n_mutations: int, classes: int, repeats: int, seed: int) -> dict:
    start, cpu = time.perf_counter(), time.process_time()
    archs = sample_many(n, shape, seed=seed)
    sample_s, sample_cpu = time.perf_counter() - start, time.process_time() - cpu

    invalid = 0
    roots = []
    for a in archs:  # untimed: every sample must pass shape inference
        try:
            roots.append(infer(a, shape))
        except ValueError:
            invalid += 1
    texts = [to_string(a) for a in archs]
    stats = [tree_stats(a) for a in archs]
    mutate_items = list(enumerate(archs[:n_mutations]))
    timings = {
        "sample": _timing(n - invalid, sample_s, sample_cpu),
        "parse": _rate(parse, texts, repeats),
        "infer": _rate(lambda a: infer(a, shape), archs, repeats),
        "to_string": _rate(to_string, archs, repeats),
        "to_long_string": _rate(lambda a: to_long_string(a, shape), archs, repeats),
        "mutate": _rate(lambda item: mutate(item[1], shape, rng=item[0]), mutate_items, 1),
    }
    return {
        "input_shape": list(shape),
        "n": n,
        "seed": seed,
        "invalid": invalid,
        "timings": timings,
        "distribution": {
            "depth": _summary([s.depth for s in stats]),
            "n_nodes": _summary([s.n_nodes for s in stats]),
            "op_instances": _summary([_instances(r) for r in roots]),
            "chars": _summary([len(t) for t in texts]),
            f"n_params_{classes}_classes": _summary([n_params(a, shape, classes) for a in archs]),
        },
        "limits": {k: getattr(Limits(), k) for k in Limits.__dataclass_fields__},
    }


def bench_compile(n_archs: int, max_instances: int, classes: int, seed: int) -> dict:
    import torch

    from surrogate_hub.space.compile import compile_architecture

    torch.set_num_threads(1)
    shape = SHAPES[0]
    times, skipped = [], []
    for i, arch in enumerate(sample_many(n_archs, shape, seed=seed)):
        instances = _instances(infer(arch, shape))
        if instances > max_instances:
            skipped.append(instances)
            continue
        torch.manual_seed(i)
        start = time.perf_counter()
        net = compile_architecture(arch, shape, classes)
        times.append((time.perf_counter() - start) * 1e3)
        del net
    seeds = {}
    for name, (seed_shape, seed_classes) in SEED_INPUTS.items():
        arch = parse(seed_string(name))
        best = math.inf
        for _ in range(3):
            start = time.perf_counter()
            compile_architecture(arch, seed_shape, seed_classes)
            best = min(best, time.perf_counter() - start)
        seeds[name] = {
            "input_shape": list(seed_shape),
            "num_classes": seed_classes,
            "n_params": n_params(arch, seed_shape, seed_classes),
            "ms": best * 1e3,
        }
    return {
        "input_shape": list(shape),
        "num_classes": classes,
        "n_architectures": n_archs,
        "compiled": len(times),
        "skipped_over_max_instances": len(skipped),
        "skipped_instances": sorted(skipped),
        "max_instances": max_instances,
        "ms": _summary(times),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "seeds": seeds,
    }


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True, cwd=Path(__file__).parent
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _print(result: dict) -> None:
    rows = []
    for r in result["shapes"]:
        shape = "×".join(map(str, r["input_shape"]))
        for op, t in r["timings"].items():
            goal = GOALS.get(op)
            rows.append({
                "input": shape,
                "operation": op,
                "per second": _fmt(t["per_s"]),
                "per CPU second": _fmt(t["per_cpu_s"]),
                "n": t["n"],
                "goal/s": _fmt(goal) if goal else "",
                "meets goal": ("yes" if t["per_s"] >= goal else "NO") if goal else "",
                "per CPU s meets goal": ("yes" if t["per_cpu_s"] >= goal else "NO") if goal else "",
            })
    print(table(rows, ["input", "operation", "per second", "per CPU second", "n", "goal/s", "meets goal", "per CPU s meets goal"]))

    print()
    rows = []
    for r in result["shapes"]:
        shape = "×".join(map(str, r["input_shape"]))
        for name, s in r["distribution"].items():
            rows.append({"input": shape, "statistic": name, **{k: _fmt(v) for k, v in s.items()}})
    print(table(rows, ["input", "statistic", "min", "median", "mean", "p90", "p99", "max"]))

    c = result.get("compile")
    if c:
        print()
        s = c["ms"]
        print(
            f"compile_architecture at {'×'.join(map(str, c['input_shape']))}: {c['compiled']} of {c['n_architectures']} "
            f"samples (skipped {c['skipped_over_max_instances']} with > {c['max_instances']:,} op instances), ms: "
            + ", ".join(f"{k} {_fmt(v)}" for k, v in s.items())
        )
        rows = [
            {"seed": name, "input": "×".join(map(str, v["input_shape"])), "params": f"{v['n_params']:,}", "ms": _fmt(v["ms"])}
            for name, v in c["seeds"].items()
        ]
        print(table(rows, ["seed", "input", "params", "ms"]))


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="samples per input shape (default 10,000)")
    parser.add_argument("--mutations", type=int, default=2_000, help="mutations timed per input shape")
    parser.add_argument("--compile-archs", type=int, default=200, help="sampled architectures compiled (0: skip)")
    parser.add_argument("--max-instances", type=int, default=100_000, help="skip compiling bigger samples")
    parser.add_argument("--classes", type=int, default=10, help="classes for parameter counts and compile")
    parser.add_argument("--repeats", type=int, default=3, help="passes for parse/infer/print rates (best kept)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS / "space.json")
    args = parser.parse_args(argv)
    if args.n < 1 or args.repeats < 1 or args.mutations < 0 or args.compile_archs < 0:
        parser.error("--n and --repeats must be positive; --mutations and --compile-archs non-negative")

    cpu = _one_core()
    result = {
        "environment": {
            "git_commit": _git_commit(),
            "python": platform.python_version(),
            "pinned_cpu": cpu,
            "note": "single process pinned to one core; the machine is shared, so parse/infer/print rates are "
            "best of the passes and every rate is also given per CPU second of this process",
        },
        "goals_per_s": GOALS,
        "shapes": [],
    }
    for shape in SHAPES:
        print(f"sampling {args.n:,} at {shape} ...", flush=True)
        result["shapes"].append(bench_shape(shape, args.n, min(args.mutations, args.n), args.classes, args.repeats, args.seed))
    if args.compile_archs:
        print(f"compiling {args.compile_archs} samples and the seeds ...", flush=True)
        result["compile"] = bench_compile(args.compile_archs, args.max_instances, args.classes, args.seed)
    print()
    _print(result)
    out = write_json(result, args.out)
    print(f"\nwrote {out} ({machine()['date']})")
    return result


if __name__ == "__main__":
    main()
