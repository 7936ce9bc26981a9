"""Commands on the search space: sample, inspect, features."""

from __future__ import annotations

import argparse
import logging
import sys

from ._common import (
    CommandError,
    command,
    emit,
    integer,
    parse_input_shape,
    positive_int,
    read_lines,
)


# -- sample -----------------------------------------------------------------------------------
def _cfg_sample(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n", type=positive_int, default=10, help="number of architectures (default 10)")
    p.add_argument("--input-shape", type=parse_input_shape, required=True, metavar="C,H,W")
    p.add_argument("--classes", type=positive_int, default=None, metavar="K",
                   help="optional, not used: sampling does not depend on the class count (the head is "
                        "added when an architecture is compiled, scored or inspected)")
    p.add_argument("--seed", type=integer, default=0)
    p.add_argument("--profile", default=None, metavar="NAME",
                   help="named sampler limits, e.g. cpu-small-v2 (corpus v2's distribution); see "
                        "surrogate_hub.space.PROFILES (default: the grammar's default limits)")
    p.add_argument("--max-params", type=positive_int, default=None, help="backbone parameter limit")


@command("sample", "sample architectures from the einspace grammar, one compact string per line")(_cfg_sample)
def _sample(args: argparse.Namespace) -> int:
    from ..space import PROFILES, limits_profile, sample_many, to_string

    if args.profile is not None and args.profile not in PROFILES:
        raise CommandError(f"--profile: unknown limits profile {args.profile!r}; known: {', '.join(PROFILES)}")
    overrides = {"max_params": args.max_params} if args.max_params else {}
    limits = limits_profile(args.profile or "default", **overrides)
    for arch in sample_many(args.n, args.input_shape, seed=args.seed, limits=limits):
        sys.stdout.write(to_string(arch) + "\n")
    return 0


# -- inspect ----------------------------------------------------------------------------------
def _cfg_inspect(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", nargs="?", default="-", help="one architecture per line (default: stdin)")
    p.add_argument("--input-shape", type=parse_input_shape, required=True, metavar="C,H,W")
    p.add_argument("--classes", type=positive_int, required=True, metavar="K")


def describe(text: str, input_shape, num_classes: int) -> dict:
    """Everything ``inspect`` prints for one architecture string."""
    from ..space import (
        ArchitectureError,
        flops,
        infer,
        n_params,
        parse,
        to_long_string,
        tree_stats,
    )

    row: dict = {"arch": text, "arch_long": None, "n_params": None, "flops": None, "output_shape": None,
                 "backbone_shape": None, "depth": None, "n_nodes": None, "n_terminals": None, "error": None}
    try:
        arch = parse(text)
        root = infer(arch, input_shape)
        stats = tree_stats(arch)
        row.update(
            arch_long=to_long_string(arch, input_shape),
            n_params=n_params(arch, input_shape, num_classes),
            flops=flops(arch, input_shape, num_classes),
            output_shape=[2, num_classes],
            backbone_shape=[2, *root.output.shape],
            depth=stats.depth,
            n_nodes=stats.n_nodes,
            n_terminals=stats.n_terminals,
        )
    except ArchitectureError as err:
        row["error"] = f"{type(err).__name__}: {err}"
    return row


@command("inspect", "print shapes, parameter counts and tree statistics as JSON lines")(_cfg_inspect)
def _inspect(args: argparse.Namespace) -> int:
    failed = 0
    for lineno, text, unreadable in read_lines(args.file):
        row = describe(text, args.input_shape, args.classes)
        if unreadable:
            row["error"] = f"UnreadableLine: {unreadable}"
        if row["error"]:
            failed += 1
            logging.getLogger(__name__).warning("line %d: %s", lineno, row["error"])
        emit(row)
    return 0 if failed == 0 else 1


# -- features ---------------------------------------------------------------------------------
def _cfg_features(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", nargs="?", default="-", help="one architecture per line (default: stdin)")
    p.add_argument("--input-shape", type=parse_input_shape, default=None, metavar="C,H,W",
                   help="input shape for the extras (parameters, FLOPs, output shape); default: the task's")
    p.add_argument("--classes", type=positive_int, default=None, metavar="K", help="classes for the extras")
    p.add_argument("--zcp", action="store_true", help="also compute zero-cost proxies (needs --task and torch)")
    p.add_argument("--task", default=None, help="task whose training batch the proxies use")
    p.add_argument("--batch-size", type=positive_int, default=64, help="proxy batch size (default 64)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=integer, default=0)


@command("features", "print GRAF features (and optionally zero-cost proxies) as JSON lines")(_cfg_features)
def _features(args: argparse.Namespace) -> int:
    from ..features.graf import graf, graf_extras
    from ..space import ArchitectureError, infer, parse

    task = None
    if args.zcp and not args.task:
        raise CommandError("--zcp needs --task NAME (the proxies score one training batch of that task)", status=2)
    if args.task:
        from ..tasks import get_task

        task = get_task(args.task, seed=0)
    shape = args.input_shape or (tuple(task.input_shape) if task else None)
    classes = args.classes or (task.num_classes if task else None)
    failed = 0
    for lineno, text, unreadable in read_lines(args.file):
        row: dict = {"arch": text, "graf": None, "error": None}
        try:
            if unreadable:
                raise ArchitectureError(unreadable)
            arch = parse(text)
            if shape is not None:
                infer(arch, shape)
            row["graf"] = graf(arch)
            if shape is not None and classes is not None:
                row["extras"] = graf_extras(arch, shape, classes)
            if args.zcp:
                from ..features.zero_cost import zero_cost

                row["zcp"] = zero_cost(arch, task, batch_size=args.batch_size, device=args.device, seed=args.seed)
        except ArchitectureError as err:
            failed += 1
            row["error"] = f"{type(err).__name__}: {err}"
            logging.getLogger(__name__).warning("line %d: %s", lineno, row["error"])
        emit(row)
    return 0 if failed == 0 else 1


