"""One corpus record per (architecture, task, seed): the columns, their types and meaning.

GRAF features are not stored: they are a pure function of ``arch`` and are computed on load
(:func:`surrogate_hub.corpus.load` with ``features=True``), so the corpus never goes stale when the
feature set is versioned. Zero-cost proxies depend on a random batch and initialisation, so when a
build computes them they are stored as ``zcp_<name>`` columns.
"""

from __future__ import annotations

from typing import Any

__all__ = ["COLUMNS", "FAILURE_STATUSES", "OPTIONAL_COLUMNS", "arrow_schema", "normalise_record"]

#: column → (arrow type name, description)
COLUMNS: dict[str, tuple[str, str]] = {
    "job_id": ("string", "unique id of the evaluation: task/source/index"),
    "arch": ("string", "compact einspace string (canonical form)"),
    "arch_long": ("string", "long LM encoding with output shapes for this task's input shape"),
    "task": ("string", "task name"),
    "input_shape": ("list<int64>", "C, H, W of the task's inputs"),
    "num_classes": ("int64", "number of classes of the task"),
    "seed": ("int64", "training seed"),
    "val_acc": ("float64", "validation accuracy after the final epoch (null on failure)"),
    "test_acc": ("float64", "test accuracy when measured, else null"),
    "train_seconds": ("float64", "wall time of the evaluation"),
    "n_params": ("int64", "trainable parameters incl. the classifier head (null if unparsable)"),
    "flops": ("int64", "forward multiply-accumulates per example (null if unparsable)"),
    "status": ("string", "ok, or the failure reason code"),
    "reason": ("string", "human-readable failure reason (null when ok)"),
    "origin": ("string", "random | evolution | seed"),
    "pool": ("string", "shared (evaluated on every task) | task (task-specific)"),
    "parent": ("string", "job_id of the evolution parent's evaluation, else null"),
    "epochs": ("int64", "training epochs"),
    "budget": ("string", "JSON of the full training budget"),
    "package_version": ("string", "surrogate-hub version that produced the record"),
    "grammar_hash": ("string", "hash of the grammar and option table"),
    # added in corpus v2 (absent from v1 shards, read as null)
    "val_curve": ("list<float64>", "validation accuracy after each epoch (the learning curve)"),
    "loss_curve": ("list<float64>", "mean training loss in each epoch"),
    "activations": ("int64", "output elements of all ops per example (analytic; the activation gate)"),
    "task_seed": ("int64", "seed that generated the task's data"),
    "threads": ("int64", "torch intra-op threads the training ran with"),
    "attempts": ("int64", "trainings run for this record (> 1 when a timeout was retried)"),
}

#: columns that shards written before corpus v2 lack; readers fill them with null
OPTIONAL_COLUMNS = ("val_curve", "loss_curve", "activations", "task_seed", "threads", "attempts")

FAILURE_STATUSES = ("invalid", "too_large", "too_slow", "nan_loss", "oom", "timeout", "error")


def arrow_schema(zcp_names: tuple[str, ...] = ()):
    """The pyarrow schema of a shard (imports pyarrow)."""
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "int64": pa.int64(),
        "float64": pa.float64(),
        "list<int64>": pa.list_(pa.int64()),
        "list<float64>": pa.list_(pa.float64()),
    }
    fields = [pa.field(name, types[t]) for name, (t, _) in COLUMNS.items()]
    fields += [pa.field(f"zcp_{n}", pa.float64()) for n in zcp_names]
    return pa.schema(fields)


def normalise_record(record: dict[str, Any], zcp_names: tuple[str, ...] = ()) -> dict[str, Any]:
    """Exactly the schema's keys, missing ones as None; unknown keys are an error."""
    names = list(COLUMNS) + [f"zcp_{n}" for n in zcp_names]
    extra = set(record) - set(names)
    if extra:
        raise ValueError(f"record has columns outside the corpus schema: {sorted(extra)}")
    return {name: record.get(name) for name in names}
