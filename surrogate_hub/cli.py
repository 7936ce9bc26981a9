"""The ``surrogate-hub`` command line. Each command is a function of parsed arguments; ``main(argv)``
is testable with an argument list. Heavy libraries are imported inside the commands that need them.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Iterator
from typing import TextIO

__all__ = ["main", "parse_input_shape"]

_COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {}


def command(name: str, help: str):
    """Register ``func(args) -> exit code`` as a subcommand; ``configure(parser)`` adds its options."""

    def wrap(configure):
        def register(run):
            _COMMANDS[name] = (configure, run, help)  # type: ignore[assignment]
            return run

        return register

    return wrap


def parse_input_shape(text: str) -> tuple[int, int, int]:
    """``"3,28,28"`` → ``(3, 28, 28)``; argparse reports a ``ValueError`` as a usage error."""
    try:
        shape = tuple(int(p) for p in text.replace("x", ",").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"input shape must be C,H,W integers, e.g. 3,28,28; got {text!r}") from None
    if len(shape) != 3 or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"input shape must be three positive integers C,H,W; got {text!r}")
    return shape  # type: ignore[return-value]


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _lines(path: str) -> Iterator[tuple[int, str]]:
    """Non-empty, non-comment lines of FILE (or stdin for ``-``), with 1-based line numbers."""
    stream: TextIO = sys.stdin if path == "-" else open(path, encoding="utf-8")
    try:
        for i, line in enumerate(stream, 1):
            text = line.strip()
            if text and not text.startswith("#"):
                yield i, text
    finally:
        if stream is not sys.stdin:
            stream.close()


def _emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")


# -- sample -----------------------------------------------------------------------------------
def _cfg_sample(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n", type=_positive, default=10, help="number of architectures (default 10)")
    p.add_argument("--input-shape", type=parse_input_shape, required=True, metavar="C,H,W")
    p.add_argument("--classes", type=_positive, required=True, metavar="K")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-params", type=_positive, default=None, help="backbone parameter limit")


@command("sample", "sample architectures from the einspace grammar, one compact string per line")(_cfg_sample)
def _sample(args: argparse.Namespace) -> int:
    from .space import Limits, sample_many, to_string

    limits = Limits(max_params=args.max_params) if args.max_params else None
    for arch in sample_many(args.n, args.input_shape, seed=args.seed, limits=limits):
        sys.stdout.write(to_string(arch) + "\n")
    return 0


# -- inspect ----------------------------------------------------------------------------------
def _cfg_inspect(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", nargs="?", default="-", help="one architecture per line (default: stdin)")
    p.add_argument("--input-shape", type=parse_input_shape, required=True, metavar="C,H,W")
    p.add_argument("--classes", type=_positive, required=True, metavar="K")


def describe(text: str, input_shape, num_classes: int) -> dict:
    """Everything ``inspect`` prints for one architecture string."""
    from .space import ArchitectureError, flops, infer, n_params, parse, to_long_string, tree_stats

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
    for lineno, text in _lines(args.file):
        row = describe(text, args.input_shape, args.classes)
        if row["error"]:
            failed += 1
            logging.getLogger(__name__).warning("line %d: %s", lineno, row["error"])
        _emit(row)
    return 0 if failed == 0 else 1


# -- features ---------------------------------------------------------------------------------
def _cfg_features(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", nargs="?", default="-", help="one architecture per line (default: stdin)")
    p.add_argument("--input-shape", type=parse_input_shape, default=None, metavar="C,H,W",
                   help="input shape for the extras (parameters, FLOPs, output shape); default: the task's")
    p.add_argument("--classes", type=_positive, default=None, metavar="K", help="classes for the extras")
    p.add_argument("--zcp", action="store_true", help="also compute zero-cost proxies (needs --task and torch)")
    p.add_argument("--task", default=None, help="task whose training batch the proxies use")
    p.add_argument("--batch-size", type=_positive, default=64, help="proxy batch size (default 64)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)


@command("features", "print GRAF features (and optionally zero-cost proxies) as JSON lines")(_cfg_features)
def _features(args: argparse.Namespace) -> int:
    from .features.graf import graf, graf_extras
    from .space import ArchitectureError, infer, parse

    task = None
    if args.zcp and not args.task:
        raise SystemExit("error: --zcp needs --task NAME (the proxies score one training batch of that task)")
    if args.task:
        from .tasks import get_task

        task = get_task(args.task, seed=0)
    shape = args.input_shape or (tuple(task.input_shape) if task else None)
    classes = args.classes or (task.num_classes if task else None)
    failed = 0
    for lineno, text in _lines(args.file):
        row: dict = {"arch": text, "graf": None, "error": None}
        try:
            arch = parse(text)
            if shape is not None:
                infer(arch, shape)
            row["graf"] = graf(arch)
            if shape is not None and classes is not None:
                row["extras"] = graf_extras(arch, shape, classes)
            if args.zcp:
                from .features.zero_cost import zero_cost

                row["zcp"] = zero_cost(arch, task, batch_size=args.batch_size, device=args.device, seed=args.seed)
        except ArchitectureError as err:
            failed += 1
            row["error"] = f"{type(err).__name__}: {err}"
            logging.getLogger(__name__).warning("line %d: %s", lineno, row["error"])
        _emit(row)
    return 0 if failed == 0 else 1


# -- rank -------------------------------------------------------------------------------------
def _cfg_rank(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", nargs="?", default="-", help="one architecture per line (default: stdin)")
    p.add_argument("--surrogate", default="einspace-graf-xgb",
                   help="registered name, local folder or Hub repo id (default: einspace-graf-xgb)")
    p.add_argument("--input-shape", type=parse_input_shape, required=True, metavar="C,H,W")
    p.add_argument("--classes", type=_positive, default=None, metavar="K",
                   help="number of classes (default: the surrogate's default)")
    p.add_argument("--top", type=_positive, default=None, metavar="K", help="print only the best K")
    p.add_argument("--json", action="store_true", help="JSON lines: rank, arch, score")
    p.add_argument("--revision", default=None, help="Hub revision of the surrogate")


@command("rank", "rank architectures by a pretrained surrogate's predicted score, best first")(_cfg_rank)
def _rank(args: argparse.Namespace) -> int:
    from .space import ArchitectureError, infer, parse
    from .surrogates.registry import load_surrogate

    log = logging.getLogger(__name__)
    archs, texts, skipped = [], [], 0
    for lineno, text in _lines(args.file):
        try:
            arch = parse(text)
            infer(arch, args.input_shape)
        except ArchitectureError as err:
            skipped += 1
            log.warning("line %d skipped: %s: %s", lineno, type(err).__name__, err)
            continue
        archs.append(arch)
        texts.append(text)
    if not archs:
        sys.stderr.write("error: no valid architectures to rank\n")
        return 1
    surrogate = load_surrogate(args.surrogate, revision=args.revision)
    ranking = surrogate.rank(archs, input_shape=args.input_shape, num_classes=args.classes)
    rows = ranking.to_records()[: args.top] if args.top else ranking.to_records()
    for row in rows:
        text = texts[row["index"]]
        if args.json:
            _emit({"rank": row["rank"], "arch": text, "score": row["score"]})
        else:
            sys.stdout.write(f"{row['rank']}\t{row['score']:.4f}\t{text}\n")
    if skipped:
        log.warning("%d malformed or invalid line(s) skipped", skipped)
    return 0


# -- tasks ------------------------------------------------------------------------------------
@command("tasks", "list the registered tasks with shapes, sizes and classes")(lambda p: p.add_argument("--json", action="store_true", help="JSON lines instead of a table"))
def _tasks(args: argparse.Namespace) -> int:
    from .tasks import get_task, list_tasks

    rows = []
    for name in list_tasks():
        task = get_task(name)
        data = task.load()
        rows.append({
            "name": name, "input_shape": list(task.input_shape), "num_classes": task.num_classes,
            "train": len(data.y_train), "valid": len(data.y_valid), "test": len(data.y_test),
            "description": task.description,
        })
    if args.json:
        for row in rows:
            _emit(row)
        return 0
    sys.stdout.write(f"{'task':<16} {'C,H,W':<10} {'classes':>7} {'train':>6} {'valid':>6} {'test':>6}\n")
    for r in rows:
        shape = ",".join(map(str, r["input_shape"]))
        sys.stdout.write(f"{r['name']:<16} {shape:<10} {r['num_classes']:>7} {r['train']:>6} {r['valid']:>6} {r['test']:>6}\n")
    return 0


# -- train ------------------------------------------------------------------------------------
def _cfg_train(p: argparse.ArgumentParser) -> None:
    p.add_argument("arch", help="compact architecture string")
    p.add_argument("--task", required=True, help="task name (see `surrogate-hub tasks`) or npy:ROOT/NAME")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default: the paper's 16)")
    p.add_argument("--batch-size", type=_positive, default=None)
    p.add_argument("--device", default="cpu", help="torch device, e.g. cpu, cuda, cuda:1")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--test", action="store_true", help="also report test accuracy")


@command("train", "train one architecture on a task and print the result as JSON")(_cfg_train)
def _train(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from .tasks import get_task
    from .train import Budget, train_architecture

    budget = Budget()
    if args.epochs is not None:
        budget = replace(budget, epochs=args.epochs)
    if args.batch_size is not None:
        budget = replace(budget, batch_size=args.batch_size)
    result = train_architecture(args.arch, get_task(args.task), budget, device=args.device, seed=args.seed, evaluate_test=args.test)
    _emit({"arch": args.arch, "task": args.task, **result.to_dict()})
    return 0 if result.ok else 1


# -- corpus -----------------------------------------------------------------------------------
def _cfg_corpus(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["build"], help="build (or resume) a corpus")
    p.add_argument("--config", required=True, help="corpus YAML config (see training/configs/)")
    p.add_argument("--workers", type=_positive, default=None, help="parallel training processes")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


@command("corpus", "build or resume the architecture corpus described by a YAML config")(_cfg_corpus)
def _corpus(args: argparse.Namespace) -> int:
    from .corpus import ConfigError, CorpusConfig
    from .corpus.build import build

    try:
        cfg = CorpusConfig.from_yaml(args.config)
        summary = build(cfg, workers=args.workers, progress=not args.no_progress)
    except ConfigError as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    _emit(summary)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="surrogate-hub",
        description="Pretrained performance predictors for the einspace architecture search space.",
    )
    parser.add_argument("--version", action="version", version=f"surrogate-hub {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (configure, _run, help_text) in _COMMANDS.items():  # type: ignore[misc]
        configure(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``surrogate-hub`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    _configure, run, _help = _COMMANDS[args.command]  # type: ignore[misc]
    return run(args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
