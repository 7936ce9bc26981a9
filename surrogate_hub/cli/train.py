"""Commands on tasks and training: tasks, train."""

from __future__ import annotations

import argparse
import sys

from ._common import command, emit, positive_int


# -- tasks ------------------------------------------------------------------------------------
@command("tasks", "list the registered tasks with shapes, sizes and classes")(lambda p: p.add_argument("--json", action="store_true", help="JSON lines instead of a table"))
def _tasks(args: argparse.Namespace) -> int:
    from ..tasks import get_task, list_tasks

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
            emit(row)
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
    p.add_argument("--batch-size", type=positive_int, default=None)
    p.add_argument("--device", default="cpu", help="torch device, e.g. cpu, cuda, cuda:1")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--test", action="store_true", help="also report test accuracy")


@command("train", "train one architecture on a task and print the result as JSON")(_cfg_train)
def _train(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ..tasks import get_task
    from ..train import Budget, train_architecture

    budget = Budget()
    if args.epochs is not None:
        budget = replace(budget, epochs=args.epochs)
    if args.batch_size is not None:
        budget = replace(budget, batch_size=args.batch_size)
    result = train_architecture(args.arch, get_task(args.task), budget, device=args.device, seed=args.seed, evaluate_test=args.test)
    emit({"arch": args.arch, "task": args.task, **result.to_dict()})
    return 0 if result.ok else 1


