"""The resumable, loss-free corpus builder.

A build is a deterministic plan of evaluation jobs (architecture × task × seed) followed by short
regularised-evolution runs per task. Finished records are appended to ``{output}/data`` in
parquet shards, each written to a temporary file and atomically renamed, so a shard on disk is
always complete. Restarting the same command reads the shards, skips finished jobs and replays
the evolution runs from their stored results (the static plan is stored in ``plan.jsonl``, so a
resume does not depend on the sampler's code): killing the process at any moment (``kill -9``
included) loses at most the records not yet in a shard, which are recomputed. A shard that does
not read back (corrupt or truncated) is moved aside as ``*.corrupt`` and its jobs are redone. The config
must not change between runs, except runtime keys and a larger ``evolution.iterations`` (which extends
the same evolution runs). One task of a finished corpus can be replaced by another with the same
input shape (:func:`replace_task`): its records are dropped and the new task trains the same
architectures, while every other task's records stay.

Jobs run on an evaluator backend (:mod:`surrogate_hub.evaluators`: local processes or a Ray
cluster) through :class:`CorpusRunner`, which makes each job's record in the worker; what a record
holds, the plan, the shards and resuming do not depend on the backend.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import random
import re
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .. import __version__
from ..space import ArchitectureError, Limits, grammar_hash, n_params, output_shape, parse, sample, to_string
from ..space.seeds import parse_seed_spec, scaled_seed, seed_string
from .config import RESOLVED, ConfigError, CorpusConfig
from .config import _build as _build_config
from .schema import COLUMNS, OPTIONAL_COLUMNS, arrow_schema, normalise_record

__all__ = ["CorpusRunner", "Job", "plan_jobs", "build", "read_shards", "evaluate_job", "replace_task"]

log = logging.getLogger(__name__)

SHARD_RE = re.compile(r"^shard-(\d{5})\.parquet(\.corrupt)?$")
PLAN = "plan.jsonl"
#: keys that may change between a build and its resumption; all others define the plan
RUNTIME_KEYS = ("workers", "device", "shard_size", "output")


@dataclass(frozen=True)
class Job:
    job_id: str
    arch: str
    task: str
    origin: str  #: random | seed | evolution
    pool: str  #: shared | task
    seed: int
    parent: str | None = None


def _stable_seed(*parts: object) -> int:
    return zlib.crc32(repr(parts).encode())


@lru_cache(maxsize=32)
def _task(name: str, task_seed: int):
    from ..tasks import get_task

    return get_task(name, seed=task_seed)


def _fits_everywhere(arch, shapes: list[tuple[int, ...]], limits: Limits) -> bool:
    for shape in shapes:
        try:
            if n_params(arch, shape, 1) > limits.max_params:
                return False
            if limits.min_head_features > 1 and output_shape(arch, shape)[0] < limits.min_head_features:
                return False
        except ArchitectureError:
            return False
    return True


def _seed_arch(spec: str, shape) -> str:
    """A seed (``NAME`` or ``NAME*SCALE``) fitted to ``shape``; a plain name is used as written, and
    a seed that cannot be fitted keeps its original string (its record then says why it is invalid)."""
    name, _ = parse_seed_spec(spec)
    if "*" not in spec:
        return seed_string(name)
    try:
        return to_string(scaled_seed(spec, shape))
    except ArchitectureError:
        return seed_string(name)


def plan_jobs(cfg: CorpusConfig) -> list[Job]:
    """The static part of the plan: seeds, the shared pool on every task (its first ``noise.count``
    architectures trained twice, with the second seed right after the first, so that even a partial
    build measures label noise), then task-specific random architectures.

    Jobs are interleaved across tasks so that a partial build covers every task evenly. Shared
    random architectures are valid (and within the limits) for every task's input shape.
    """
    limits = cfg.limits_value()
    shapes = {t: tuple(_task(t, cfg.task_seed).input_shape) for t in cfg.tasks}
    jobs: list[Job] = []
    for spec in cfg.shared.seeds:
        jobs += [Job(f"{t}/seed/{spec}", _seed_arch(spec, shapes[t]), t, "seed", "shared", cfg.seed) for t in cfg.tasks]
    rng = random.Random(_stable_seed(cfg.seed, "shared"))
    first = shapes[cfg.tasks[0]]
    shared: list[str] = []
    seen: set[str] = set()
    while len(shared) < cfg.shared.random:
        arch = sample(first, rng=rng, limits=limits)
        text = to_string(arch)
        if text not in seen and _fits_everywhere(arch, list(shapes.values()), limits):
            seen.add(text)
            shared.append(text)
    for i, text in enumerate(shared):
        jobs += [Job(f"{t}/shared/{i:04d}", text, t, "random", "shared", cfg.seed) for t in cfg.tasks]
        if i < cfg.noise.count:
            jobs += [Job(f"{t}/shared/{i:04d}/seed{cfg.noise.seed}", text, t, "random", "shared", cfg.noise.seed) for t in cfg.tasks]
    per_task: dict[str, list[str]] = {}
    for t in cfg.tasks:
        rng = random.Random(_stable_seed(cfg.seed, "task", t))
        mine: list[str] = []
        while len(mine) < cfg.per_task.random:
            text = to_string(sample(shapes[t], rng=rng, limits=limits))
            if text not in seen:
                seen.add(text)
                mine.append(text)
        per_task[t] = mine
    for spec in cfg.per_task.seeds:
        jobs += [Job(f"{t}/seed-task/{spec}", _seed_arch(spec, shapes[t]), t, "seed", "task", cfg.seed) for t in cfg.tasks]
    for i in range(cfg.per_task.random):
        jobs += [Job(f"{t}/random/{i:04d}", per_task[t][i], t, "random", "task", cfg.seed) for t in cfg.tasks]
    return jobs


# -- evaluating one job (runs in the evaluator's workers) -----------------------------------------
def evaluate_job(job: Job, cfg: CorpusConfig, task: Any = None) -> dict[str, Any]:
    """Train ``job``'s architecture on its task and return its corpus record. Never raises for a
    bad candidate: failures come back as records with their status and reason. ``task`` is the
    resolved task when the evaluator shipped it (else it is resolved here from ``job.task``)."""
    from ..train import train_architecture

    if task is None:
        task = _task(job.task, cfg.task_seed)
    budget = cfg.budget_for(job.task)
    attempts = 0
    while True:  # the wall-clock safety net may fire under load: retried, and counted
        attempts += 1
        result = train_architecture(job.arch, task, budget, device=cfg.device, seed=job.seed, threads=cfg.threads)
        if result.status != "timeout" or attempts > cfg.retries:
            break
    record = _record(job, cfg, task, result, attempts)
    if cfg.zcp:
        record.update(_zero_cost(job, task, cfg, ok=result.ok))
    return record


def _record(job: Job, cfg: CorpusConfig, task, result, attempts: int) -> dict[str, Any]:
    from ..space import to_long_string

    budget = cfg.budget_for(job.task)
    shape = tuple(task.input_shape)
    try:
        arch_long = to_long_string(parse(job.arch), shape)
    except ArchitectureError:
        arch_long = None
    return {
        "job_id": job.job_id,
        "arch": job.arch,
        "arch_long": arch_long,
        "task": job.task,
        "input_shape": list(shape),
        "num_classes": task.num_classes,
        "seed": job.seed,
        "val_acc": result.val_acc,
        "test_acc": result.test_acc,
        "train_seconds": result.train_seconds,
        "n_params": result.n_params,
        "flops": result.flops,
        "status": result.status,
        "reason": result.reason,
        "origin": job.origin,
        "pool": job.pool,
        "parent": job.parent,
        "epochs": budget.epochs,
        "budget": json.dumps(budget.to_dict(), sort_keys=True),
        "package_version": __version__,
        "grammar_hash": grammar_hash(),
        "val_curve": list(result.val_curve) or None,
        "loss_curve": list(result.loss_curve) or None,
        "activations": result.activations,
        "task_seed": cfg.task_seed,
        "threads": cfg.threads,
        "attempts": attempts,
    }


@dataclass(frozen=True)
class _Lost:
    """The training outcome of a job whose worker process died on every attempt."""

    status: str
    reason: str
    val_acc: None = None
    test_acc: None = None
    train_seconds: float = 0.0
    n_params: None = None
    flops: None = None
    val_curve: tuple = ()
    loss_curve: tuple = ()
    activations: None = None


@dataclass(frozen=True)
class CorpusRunner:
    """How an evaluator runs corpus jobs (see :class:`surrogate_hub.evaluators.Runner`): each job
    becomes its corpus record, in whichever worker (local process, Ray task) runs it."""

    cfg: CorpusConfig

    def __call__(self, job: Job, task: Any = None) -> dict[str, Any]:
        return evaluate_job(job, self.cfg, task)

    def task_of(self, job: Job) -> tuple[str, int]:
        return job.task, self.cfg.task_seed

    def failed(self, job: Job, status: str, reason: str) -> dict[str, Any]:
        """The record of a job whose worker died on every attempt (killed, out of host memory):
        a failed candidate like any other, with the reason; its proxies are not measured."""
        task = _task(job.task, self.cfg.task_seed)
        record = _record(job, self.cfg, task, _Lost(status, reason), attempts=1)
        if self.cfg.zcp:
            record.update(dict.fromkeys(f"zcp_{n}" for n in self.cfg.zcp))
        return record


def _zero_cost(job: Job, task, cfg: CorpusConfig, ok: bool) -> dict[str, float | None]:
    keys = [f"zcp_{n}" for n in cfg.zcp]
    if not ok:
        return dict.fromkeys(keys)
    from ..features.zero_cost import zero_cost

    scores = zero_cost(job.arch, task, batch_size=cfg.zcp_batch_size, device=cfg.device, seed=job.seed, names=cfg.zcp)
    return {f"zcp_{n}": scores[n] for n in cfg.zcp}


# -- shards -------------------------------------------------------------------------------------
def read_shards(data_dir: Path, quarantine: bool = True) -> tuple[dict[str, dict], int]:
    """Records of every readable shard by job id, and the next free shard index.

    Unreadable shards are renamed ``*.corrupt`` (when ``quarantine``); leftover temporary files of
    an interrupted write are removed.
    """
    import pyarrow.parquet as pq

    records: dict[str, dict] = {}
    next_index = 0
    if not data_dir.is_dir():
        return records, 0
    for tmp in data_dir.glob(".shard-*.tmp"):
        tmp.unlink()
    for path in sorted(data_dir.iterdir()):
        m = SHARD_RE.match(path.name)
        if not m:
            continue
        next_index = max(next_index, int(m.group(1)) + 1)
        if m.group(2):
            continue
        try:
            table = pq.read_table(path)
            missing = set(COLUMNS) - set(OPTIONAL_COLUMNS) - set(table.column_names)
            if missing:
                raise ValueError(f"missing columns {sorted(missing)}")
            rows = table.to_pylist()
        except Exception as err:  # noqa: BLE001 - any unreadable shard is quarantined
            log.warning("shard %s is unreadable (%s); moving it aside, its jobs will be redone", path, err)
            if quarantine:
                path.rename(path.with_name(path.name + ".corrupt"))
            continue
        for row in rows:
            for name in OPTIONAL_COLUMNS:
                row.setdefault(name, None)
            if row["job_id"] in records:
                log.warning("duplicate record %s in %s ignored", row["job_id"], path)
                continue
            records[row["job_id"]] = row
    return records, next_index


class _ShardWriter:
    def __init__(self, data_dir: Path, next_index: int, size: int, zcp: tuple[str, ...]) -> None:
        self.dir = data_dir
        self.index = next_index
        self.size = size
        self.zcp = zcp
        self.pending: list[dict] = []

    def add(self, record: dict) -> None:
        self.pending.append(normalise_record(record, self.zcp))
        if len(self.pending) >= self.size:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        import pyarrow as pa

        table = pa.Table.from_pylist(self.pending, schema=arrow_schema(self.zcp))
        name = f"shard-{self.index:05d}.parquet"
        _write_shard(table, self.dir / name)
        log.info("wrote %s (%d records)", name, len(self.pending))
        self.index += 1
        self.pending = []


def _write_shard(table, path: Path) -> None:
    """Write a parquet shard atomically and durably: temporary file, fsync, rename, fsync the folder."""
    import pyarrow.parquet as pq

    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


# -- the build ------------------------------------------------------------------------------------
def _resolved(cfg: CorpusConfig, replaced: list[dict[str, str]] | None = None) -> dict[str, Any]:
    out = {"config": cfg.to_dict(), "package_version": __version__, "grammar_hash": grammar_hash()}
    if replaced:
        out["replaced_tasks"] = replaced
    return out


def _stored_resolved(out: Path) -> dict[str, Any] | None:
    path = out / RESOLVED
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None


def _check_resume(out: Path, cfg: CorpusConfig) -> dict[str, Any] | None:
    """Refuse a config that changes the stored build; returns the stored resolved file (None if new)."""
    resolved = _stored_resolved(out)
    if resolved is None:
        return None
    stored = resolved["config"]
    try:  # keys added since the stored build compare as their defaults
        old = _build_config(CorpusConfig, stored, str(out / RESOLVED)).to_dict()
    except ConfigError:
        old = stored
    new = cfg.to_dict()
    changed = sorted(k for k in set(old) | set(new) if k not in RUNTIME_KEYS and old.get(k) != new.get(k))
    if changed == ["evolution"] and _only_more_iterations(old["evolution"], new["evolution"]):
        log.info("extending the evolution runs from %d to %d children per task",
                 old["evolution"]["iterations"], new["evolution"]["iterations"])
        return resolved  # the same runs, continued: every stored record stays valid
    if changed:
        gone, added = set(old.get("tasks", [])) - set(new["tasks"]), set(new["tasks"]) - set(old.get("tasks", []))
        hint = ""
        if "tasks" in changed and len(gone) == 1 and len(added) == 1:
            hint = f" (to swap one task for another, pass --replace-task {gone.pop()}={added.pop()})"
        raise ConfigError(
            f"{out} holds a corpus built with a different config (changed: {changed}){hint}; "
            "resume with the original config or choose a new output folder"
        )
    return resolved


def _only_more_iterations(old: dict, new: dict) -> bool:
    rest = lambda d: {k: v for k, v in d.items() if k != "iterations"}  # noqa: E731
    return rest(old) == rest(new) and new["iterations"] >= old["iterations"]


def load_or_make_plan(out: Path, cfg: CorpusConfig) -> list[Job]:
    """The static plan stored beside the data (``plan.jsonl``), made and stored on the first run.

    Storing it makes a resume independent of the sampler's code: a newer version of the package
    continues an older build with the same architectures.
    """
    path = out / PLAN
    if path.exists():
        return [Job(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    jobs = plan_jobs(cfg)
    _atomic_write_text(path, "".join(json.dumps(asdict(j)) + "\n" for j in jobs))
    return jobs


def replace_task(out: str | Path, cfg: CorpusConfig, old: str, new: str, also: dict[str, str] | None = None) -> bool:
    """Swap task ``old`` of the corpus in ``out`` for ``new`` (as ``cfg`` lists it); True if it swapped.

    ``new`` must have ``old``'s input shape, so the plan's architectures (shared pool, fitted seeds,
    task-specific random ones) stay valid: its static jobs are ``old``'s, renamed, and its evolution
    run starts afresh. ``old``'s records are removed from the shards; every other record stays. The
    config must be the stored one with ``old`` replaced by ``new`` in ``tasks`` (``new`` may have its
    own ``task_budgets`` entry). Each step is idempotent, so an interrupted swap is finished by
    running it again; once done, it is a no-op. The swap is recorded as ``replaced_tasks`` in
    ``config.resolved.yaml``. ``also`` names the other swaps of the same run (they may still be
    pending, so the config's task list is checked with all of them applied).
    """
    out = Path(out)
    resolved = _stored_resolved(out)
    if resolved is None:
        raise ConfigError(f"{out}: no corpus to replace a task in ({RESOLVED} is missing); build it first")
    stored = resolved["config"]
    if old not in stored["tasks"]:
        if new in stored["tasks"] and old not in cfg.tasks:
            return False  # already swapped
        raise ConfigError(f"--replace-task {old}={new}: the corpus in {out} has no task {old!r} (it has {stored['tasks']})")
    expected = [new if t == old else t for t in stored["tasks"]]
    pending = {**(also or {}), old: new}
    wanted = [pending.get(t, t) for t in stored["tasks"]]
    if list(cfg.tasks) != wanted:
        raise ConfigError(
            f"--replace-task {old}={new}: the config's tasks must be the corpus's with {old} replaced, "
            f"in the same place: {wanted} (the config lists {list(cfg.tasks)})"
        )
    old_shape = tuple(_task(old, cfg.task_seed).input_shape)
    new_shape = tuple(_task(new, cfg.task_seed).input_shape)
    if old_shape != new_shape:
        raise ConfigError(
            f"--replace-task {old}={new}: input shapes differ ({old_shape} vs {new_shape}); the shared "
            "architectures are fitted to the shape, so build a new corpus instead"
        )
    plan = [
        dataclasses.replace(j, job_id=new + j.job_id[len(old):], task=new) if j.task == old else j
        for j in load_or_make_plan(out, _build_config(CorpusConfig, stored, str(out / RESOLVED)))
    ]
    _atomic_write_text(out / PLAN, "".join(json.dumps(asdict(j)) + "\n" for j in plan))
    dropped = _drop_task_records(out / "data", old)
    budgets = {t: b for t, b in stored.get("task_budgets", {}).items() if t != old}
    if new in cfg.task_budgets:
        budgets[new] = cfg.task_budgets[new]
    swapped = {**stored, "tasks": expected, "task_budgets": budgets}
    history = resolved.get("replaced_tasks", []) + [{"old": old, "new": new, "dropped_records": dropped}]
    _atomic_write_text(out / RESOLVED, yaml.safe_dump({**resolved, "config": swapped, "replaced_tasks": history}, sort_keys=False))
    log.info("replaced task %s by %s: %d records dropped, its plan renamed", old, new, dropped)
    return True


def _drop_task_records(data_dir: Path, task: str) -> int:
    """Rewrite every shard holding records of ``task`` without them (atomically; a shard left empty
    is deleted). Returns the number of records dropped."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    dropped = 0
    for path in sorted(data_dir.glob("shard-*.parquet")):
        table = pq.read_table(path)
        mask = pc.equal(table.column("task"), task)
        n = pc.sum(mask).as_py() or 0
        if not n:
            continue
        kept = table.filter(pc.invert(mask))
        if kept.num_rows:
            _write_shard(kept, path)
        else:
            path.unlink()
        dropped += n
    return dropped


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class _Progress:
    """One tqdm bar per task with its ETA."""

    def __init__(self, totals: dict[str, int], done: Counter, enabled: bool) -> None:
        from tqdm.auto import tqdm

        self.bars = {
            t: tqdm(total=n, initial=done[t], desc=f"{t:>16}", position=i, disable=not enabled, mininterval=2)
            for i, (t, n) in enumerate(totals.items())
        }

    def update(self, task: str) -> None:
        self.bars[task].update(1)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def build(
    cfg: CorpusConfig,
    *,
    workers: int | None = None,
    progress: bool = True,
    backend: str = "local",
    backend_options: dict[str, Any] | None = None,
    replace: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Build (or resume) the corpus described by ``cfg``; returns a summary of the records.

    ``replace`` maps a task of the stored corpus to the config's task that takes its place
    (:func:`replace_task`); the new task's jobs are then trained like any missing ones.

    Jobs run on the evaluator backend ``backend`` (``local``: this process or ``workers`` spawned
    processes; ``ray``: a Ray cluster, ``workers`` tasks in flight, all the cluster can run when
    None); ``backend_options`` go to its constructor (e.g. ``address``, ``num_gpus`` for Ray).
    """
    from ..evaluators import make_evaluator

    if backend == "local":
        workers = workers or cfg.workers
    out = Path(cfg.output)
    data_dir = out / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    for old, new in (replace or {}).items():
        replace_task(out, cfg, old, new, also=replace)
    stored = _check_resume(out, cfg) or {}
    _atomic_write_text(out / RESOLVED, yaml.safe_dump(_resolved(cfg, stored.get("replaced_tasks")), sort_keys=False))
    done, next_index = read_shards(data_dir)
    writer = _ShardWriter(data_dir, next_index, cfg.shard_size, cfg.zcp)
    static = load_or_make_plan(out, cfg)
    totals = Counter(j.task for j in static)
    for t in cfg.tasks:
        totals[t] += cfg.evolution.iterations
    bars = _Progress(dict(totals), Counter(r["task"] for r in done.values()), progress)

    def record(rec: dict) -> None:
        done[rec["job_id"]] = rec
        writer.add(rec)
        bars.update(rec["task"])

    runner = CorpusRunner(cfg)
    evaluator = make_evaluator(backend, workers=workers, threads_per_worker=cfg.threads, **(backend_options or {}))
    try:
        for rec in evaluator.evaluate([j for j in static if j.job_id not in done], runner):
            record(rec)
        writer.flush()
        if cfg.evolution.iterations:
            _evolve(cfg, static, done, record, evaluator, runner)
        writer.flush()
    except BaseException:  # Ctrl-C or a crash: stop the workers now, keep what is finished
        terminate = getattr(evaluator, "terminate", None)
        if terminate is not None:
            terminate()
        raise
    finally:
        writer.flush()
        bars.close()
        evaluator.close()
    return summarize(done.values())


def _evolve(cfg: CorpusConfig, static: list[Job], done: dict[str, dict], record, evaluator, runner) -> None:
    """Short regularised-evolution runs on every task, replayed from stored results on resume."""
    from ..search.evolution import RegularizedEvolution

    ev = cfg.evolution
    limits = cfg.limits_value()
    runs = {}
    for t in cfg.tasks:
        shape = tuple(_task(t, cfg.task_seed).input_shape)
        run = RegularizedEvolution(
            shape, population=ev.population, tournament=ev.tournament,
            seed=_stable_seed(cfg.seed, "evolution", t), limits=limits,
        )
        initial = [j for j in static if j.task == t and j.job_id in done and j.seed == cfg.seed][: ev.population]
        for j in initial:
            try:
                run.tell(parse(j.arch), done[j.job_id]["val_acc"], tag=j.job_id)
            except ArchitectureError:
                continue
        runs[t] = run
    replaced = 0
    for start in range(0, ev.iterations, ev.batch):
        batch: list[tuple[Job, Any]] = []
        for t in cfg.tasks:
            for step in range(start, min(start + ev.batch, ev.iterations)):
                prop = runs[t].ask()
                text = to_string(prop.arch)
                job = Job(f"{t}/evolution/{step:04d}", text, t, "evolution", "task", cfg.seed, prop.parent)
                prev = done.get(job.job_id)
                if prev is not None and (prev["arch"] != text or prev["parent"] != job.parent):
                    # stored records are the truth: a newer sampler or mutation proposes other
                    # children, so replay continues from what was trained, not from regeneration
                    replaced += 1
                    job = dataclasses.replace(job, arch=prev["arch"], parent=prev["parent"])
                    prop = dataclasses.replace(prop, arch=parse(prev["arch"]), parent=prev["parent"])
                batch.append((job, prop.arch))
        todo = [j for j, _ in batch if j.job_id not in done]
        for rec in evaluator.evaluate(todo, runner) if todo else ():
            record(rec)
        for job, arch in batch:  # tell in plan order, whatever order the results came in
            runs[job.task].tell(arch, done[job.job_id]["val_acc"], tag=job.job_id)
    if replaced:
        log.info("evolution replay: %d children taken from the stored records (proposed by older code)", replaced)


def summarize(records: Iterable[dict]) -> dict[str, Any]:
    """Counts per task and status, and build seconds per task."""
    per_task: dict[str, Counter] = {}
    seconds: Counter = Counter()
    for r in records:
        per_task.setdefault(r["task"], Counter())[r["status"]] += 1
        seconds[r["task"]] += r["train_seconds"] or 0.0
    return {
        "tasks": {t: dict(c) for t, c in sorted(per_task.items())},
        "ok": {t: c.get("ok", 0) for t, c in sorted(per_task.items())},
        "seconds": {t: round(s, 1) for t, s in sorted(seconds.items())},
    }
