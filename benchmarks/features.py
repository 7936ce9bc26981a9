"""Benchmark feature extraction: GRAF throughput and zero-cost proxy cost, on one CPU core.

    python benchmarks/features.py [--n 2000] [--zcp-archs 20] [--out benchmarks/results/features.json]

GRAF: ``--n`` architectures sampled at 3×28×28 (sampling not timed); architectures per second for
``graf_vector`` from compact strings (parse included) and from values, ``graf_extras``,
``to_graph`` and the networkx reference ``graf_from_graph``; each the best of ``--repeats`` passes
(the machine may be shared). ZCP: ``--zcp-archs`` architectures sampled at 1×8×8 and compiled for 10
classes, one random batch of 64; seconds per architecture for each registered proxy through
``compute_proxies`` (deep copy of the model included), median and p90. Prints a table and writes JSON.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core, before numpy/torch load their thread pools

import argparse
import json
import math
import platform
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from surrogate_hub.features.graf import GRAF_VERSION, graf_extras, graf_from_graph, graf_vector
from surrogate_hub.features.graph import to_graph
from surrogate_hub.space import n_params, parse, sample_many, to_string

DEFAULT_OUT = Path(__file__).parent / "results" / "features.json"


def _rate(fn: Callable, items: Sequence, repeats: int) -> dict:
    """Throughput (items per second over the pass) and the median time per item, best of
    ``repeats`` passes (the two can differ a lot: a few huge architectures dominate some totals)."""
    best_total, best_median = math.inf, math.inf
    for _ in range(repeats):
        times = []
        for item in items:
            start = time.perf_counter()
            fn(item)
            times.append(time.perf_counter() - start)
        best_total = min(best_total, sum(times))
        best_median = min(best_median, statistics.median(times))
    return {"per_s": len(items) / best_total, "median_us": best_median * 1e6}


def bench_graf(n: int, repeats: int, seed: int) -> dict:
    shape, classes = (3, 28, 28), 20
    archs = sample_many(n, shape, seed=seed)
    texts = [to_string(a) for a in archs]
    graph_sizes = [to_graph(a).number_of_nodes() for a in archs]
    return {
        "n_architectures": n,
        "input_shape": list(shape),
        "num_classes": classes,
        "graph_vertices_median": float(np.median(graph_sizes)),
        "graph_vertices_max": int(max(graph_sizes)),
        "timings": {
            "graf_from_strings": _rate(graf_vector, texts, repeats),
            "graf_from_values": _rate(graf_vector, archs, repeats),
            "parse": _rate(parse, texts, repeats),
            "graf_extras": _rate(lambda a: graf_extras(a, shape, classes), archs, repeats),
            "to_graph": _rate(to_graph, archs, repeats),
            "to_graph_then_graf_from_graph": _rate(lambda a: graf_from_graph(to_graph(a)), archs, 1),
        },
    }


def bench_zcp(n_archs: int, batch_size: int, seed: int) -> dict:
    import torch

    from surrogate_hub.features.proxies import compute_proxies, list_proxies
    from surrogate_hub.space.compile import compile_architecture

    torch.set_num_threads(1)
    shape, classes = (1, 8, 8), 10
    gen = torch.Generator().manual_seed(seed)
    batch = (torch.randn(batch_size, *shape, generator=gen), torch.randint(0, classes, (batch_size,), generator=gen))
    names = list_proxies()
    seconds: dict[str, list[float]] = {name: [] for name in names}
    nans = dict.fromkeys(names, 0)
    per_arch = []
    for i, arch in enumerate(sample_many(n_archs, shape, seed=seed)):
        torch.manual_seed(i)
        start = time.perf_counter()
        model = compile_architecture(arch, shape, classes)
        row = {"arch": to_string(arch), "compile_s": time.perf_counter() - start,
               "n_params": n_params(arch, shape, classes), "op_instances": _op_instances(arch)}  # fmt: skip
        for name in names:
            start = time.perf_counter()
            value = compute_proxies(model, batch, names=[name])[name]
            seconds[name].append(time.perf_counter() - start)
            nans[name] += math.isnan(value)
        row["proxies_s"] = sum(s[-1] for s in seconds.values())
        per_arch.append(row)
        print(f"  zcp {i + 1}/{n_archs}: {row['op_instances']} ops, {row['proxies_s']:.1f} s", flush=True)
    return {
        "n_architectures": n_archs,
        "input_shape": list(shape),
        "num_classes": classes,
        "batch_size": batch_size,
        "torch_threads": torch.get_num_threads(),
        "per_proxy": {
            name: {
                "median_s": statistics.median(s),
                "p90_s": float(np.percentile(s, 90)),
                "max_s": max(s),
                "n_nan": nans[name],
            }
            for name, s in seconds.items()
        },
        "all_proxies_median_s": statistics.median(map(sum, zip(*seconds.values()))),
        "per_architecture": per_arch,
    }


def _op_instances(arch) -> int:
    """Op instances (graph vertices less input and output), from the ``cnt_*`` of the op labels."""
    return int(graf_vector(arch)[4:55].sum())


def _environment() -> dict:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True,
            cwd=Path(__file__).parent,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        commit = None
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_commit": commit,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "graf_version": GRAF_VERSION,
        "note": "single process, one thread; shared machine, GRAF rates are best of the passes",
    }


def _print_table(result: dict) -> None:
    g = result["graf"]
    print(f"GRAF on {g['n_architectures']} architectures at {tuple(g['input_shape'])} "
          f"(graph vertices: median {g['graph_vertices_median']:.0f}, max {g['graph_vertices_max']})")  # fmt: skip
    print(f"  {'operation':32s} {'archs/s':>10s} {'median µs':>10s}")
    for name, rate in g["timings"].items():
        print(f"  {name:32s} {rate['per_s']:10.0f} {rate['median_us']:10.1f}")
    if "zcp" in result:
        z = result["zcp"]
        print(f"\nZero-cost proxies, {z['n_architectures']} architectures at {tuple(z['input_shape'])}, "
              f"batch {z['batch_size']}, {z['torch_threads']} thread")  # fmt: skip
        print(f"  {'proxy':12s} {'median s':>10s} {'p90 s':>10s} {'max s':>10s} {'NaN':>5s}")
        for name, s in z["per_proxy"].items():
            print(f"  {name:12s} {s['median_s']:10.4f} {s['p90_s']:10.4f} {s['max_s']:10.4f} {s['n_nan']:5d}")
        print(f"  {'all':12s} {z['all_proxies_median_s']:10.4f}")


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="architectures for the GRAF benchmark")
    parser.add_argument("--repeats", type=int, default=3, help="passes per GRAF measurement (best kept)")
    parser.add_argument("--zcp-archs", type=int, default=20, help="architectures for the ZCP benchmark (0: skip)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--update", action="store_true",
        help="keep the sections of an existing --out that this run skips (e.g. zcp with --zcp-archs 0)",
    )  # fmt: skip
    args = parser.parse_args(argv)

    result = json.loads(args.out.read_text()) if args.update and args.out.is_file() else {}
    env = _environment()
    result["graf"] = {**bench_graf(args.n, args.repeats, args.seed), "environment": env}
    if args.zcp_archs > 0:
        result["zcp"] = {**bench_zcp(args.zcp_archs, args.batch_size, args.seed), "environment": env}
    _print_table(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return result


if __name__ == "__main__":
    main()
