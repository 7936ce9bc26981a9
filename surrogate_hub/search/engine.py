"""The search engine: runs a strategy against an evaluator, logging every candidate durably.

Resume by replay: strategies are deterministic given the results they are told, and every
candidate gets its id (``c00042``) in the order the strategy creates it. On a rerun the strategy
runs again from the start; a candidate whose id is already in the log takes its logged result
(its architecture is checked to be the same) instead of being trained, so a run killed at any
moment (``kill -9`` included) continues with identical RNG streams and neither loses nor repeats
a trained candidate; the ones in flight at the kill are trained again. Surrogate refits are
recomputed on replay (they are deterministic: XGBoost with a fixed seed and one thread).

With a caching evaluator (:class:`~surrogate_hub.evaluators.CachedEvaluator`) a candidate whose
training another run already did is read back instead of trained: it counts against the budget
like any trained candidate (the budget measures trainings as if performed) and is logged with
``cached: true``, so wall-time plots can leave it out; ``summary.json`` reports ``n_cached``.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..evaluators import Evaluator, Job, make_evaluator
from ..space import Architecture, grammar_hash, to_long_string, to_string
from .config import RUNTIME_KEYS, SearchConfig
from .rundir import ResumeError, RunDir
from .strategies import SURROGATE_STRATEGIES, get_strategy

__all__ = ["Candidate", "Prepared", "SearchContext", "SearchSetupError", "prepare", "run_search"]

log = logging.getLogger(__name__)


class SearchSetupError(ValueError):
    """The task, surrogate or transfer corpus of a run cannot be used; the message says why."""


@dataclass
class Candidate:
    id: str
    arch: Architecture
    text: str
    origin: str  #: random | mutation | running-best
    parent: str | None
    round: int
    predicted: float | None = None
    zcp: dict[str, float] | None = None


@dataclass
class Prepared:
    """A run's resolved inputs: the task, and for surrogate strategies the base surrogate and
    the transfer rows (other tasks of the transfer corpus)."""

    cfg: SearchConfig
    task: Any
    surrogate: Any = None
    transfer: Any = None


def prepare(cfg: SearchConfig) -> Prepared:
    """Resolve the task, the surrogate and the transfer corpus; raise a clear error if one is unusable."""
    from ..evaluators.base import resolve_task  # shared with the in-process evaluator: data loaded once
    from ..tasks import TaskError

    try:
        task = resolve_task(cfg.task, cfg.task_seed)
        task.load()
    except TaskError as err:
        raise SearchSetupError(f"task: {err}") from None
    prepared = Prepared(cfg, task)
    if cfg.strategy not in SURROGATE_STRATEGIES:
        return prepared
    from ..surrogates import SurrogateError, load_surrogate

    try:
        prepared.surrogate = load_surrogate(cfg.surrogate)
    except (SurrogateError, OSError) as err:
        raise SearchSetupError(f"surrogate {cfg.surrogate!r}: {err}") from None
    if cfg.transfer_corpus:
        from ..corpus import load
        from ..surrogates.targets import training_rows

        names = tuple(getattr(prepared.surrogate, "zcp_names", ()))
        try:
            ds = load(cfg.transfer_corpus, zcp=bool(names))
        except (FileNotFoundError, ValueError) as err:
            raise SearchSetupError(f"transfer_corpus {cfg.transfer_corpus!r}: {err}") from None
        others = sorted(set(ds["task"]) - {task.name} - set(cfg.transfer_exclude))
        prepared.transfer = training_rows(ds, tasks=others, drop_zero=False, zcp=names)
        log.info("transfer rows: %d from tasks %s", len(prepared.transfer), others)
    return prepared


def final_diverged(final: dict[str, Any] | None) -> bool:
    """True for a ``final`` record (the log event or ``summary.json``'s ``final``) whose retraining
    with the final budget diverged and was not yet repeated with the candidate budget."""
    final = final or {}
    return final.get("status") == "nan_loss" and final.get("budget", "final_train") == "final_train"


class SearchContext:
    """What a strategy sees: candidates, training, surrogate scores and refits, all logged."""

    def __init__(self, prepared: Prepared, rundir: RunDir, evaluator: Evaluator, progress: bool) -> None:
        self.cfg = cfg = prepared.cfg
        self.task = prepared.task
        self.input_shape = tuple(self.task.input_shape)
        self.num_classes = int(self.task.num_classes)
        self.limits = cfg.limits_obj()
        self.surrogate = prepared.surrogate
        self.base_surrogate = prepared.surrogate
        self.transfer = prepared.transfer
        self.zcp_names = tuple(getattr(self.surrogate, "zcp_names", ())) if self.surrogate is not None else ()
        self.rundir = rundir
        self.evaluator = evaluator
        self.logged: dict[str, dict] = {}
        self.zcp_logged: dict[str, dict] = {}
        for event in rundir.read_log():
            if event.get("event") == "zcp":
                self.zcp_logged[event["id"]] = event["zcp"]
            else:
                self.logged[event["id"]] = event
        prior = max((e.get("wall") or 0.0 for e in self.logged.values()), default=0.0)
        self._clock0 = time.monotonic() - prior
        self.replayed = 0
        self.trained: list[dict] = []
        self._n_cands = 0
        self._round = 0
        self._refits = 0
        self.best: dict | None = None
        self.objective_iterations = (
            cfg.objective_iterations
            if cfg.objective_iterations is not None
            else max(0, cfg.budget - cfg.population) * cfg.proposals // cfg.train_per_round
        )
        self._bar = None
        if progress:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=cfg.budget, desc=f"{cfg.strategy} on {self.task.name}", unit="trained")

    # -- bookkeeping --------------------------------------------------------------------------
    @property
    def wall(self) -> float:
        return time.monotonic() - self._clock0

    @property
    def remaining(self) -> int:
        return self.cfg.budget - len(self.trained)

    def next_round(self) -> None:
        self._round += 1

    def candidate(
        self, arch: Architecture, origin: str, *, parent: str | None = None, predicted: float | None = None
    ) -> Candidate:
        self._n_cands += 1
        return Candidate(f"c{self._n_cands:05d}", arch, to_string(arch), origin, parent, self._round, predicted)

    def proposal(self, prop) -> Candidate:
        """A :class:`Candidate` from an evolution :class:`~.evolution.Proposal`."""
        return self.candidate(prop.arch, "random" if prop.parent is None else "mutation", parent=prop.parent)

    def _stored(self, cand: Candidate) -> dict | None:
        rec = self.logged.get(cand.id)
        if rec is None:
            return None
        if rec.get("arch") != cand.text:
            raise ResumeError(
                f"{self.rundir.path}: candidate {cand.id} in the log is {rec.get('arch')[:80]!r}..., the replay "
                f"proposes {cand.text[:80]!r}...: the log was written by a different version or configuration; "
                "choose a new --out"
            )
        return rec

    def _event(self, cand: Candidate, status: str, **fields: Any) -> dict:
        return {
            "event": "candidate", "id": cand.id, "round": cand.round, "origin": cand.origin,
            "parent": cand.parent, "arch": cand.text, "predicted": cand.predicted, "zcp": cand.zcp,
            "status": status, **fields,
        }

    def record(self, cands: list[Candidate], status: str) -> None:
        """Log candidates that are not trained (``filtered`` or ``scored``)."""
        for cand in cands:
            if self._stored(cand) is None:
                event = self._event(cand, status, trained=False, wall=self.wall)
                self.rundir.append(event)
                self.logged[cand.id] = event

    # -- training -----------------------------------------------------------------------------
    def train(self, cands: list[Candidate]) -> list[dict]:
        """Train ``cands`` (at most :attr:`remaining`); returns their log records in input order."""
        if len(cands) > self.remaining:
            raise RuntimeError(f"strategy asked to train {len(cands)} candidates with {self.remaining} left")
        start = len(self.trained)
        index = {c.id: start + i + 1 for i, c in enumerate(cands)}
        records: dict[str, dict] = {}
        todo: dict[str, Candidate] = {}
        for cand in cands:
            rec = self._stored(cand)
            if rec is not None and rec.get("trained"):
                records[cand.id] = rec
                self.replayed += 1
                self._tick(rec)
            else:
                todo[cand.id] = cand
        jobs = [
            Job(c.id, c.text, self.cfg.task, "train", self.cfg.task_seed, self.cfg.seed, self.cfg.train, self.cfg.device)
            for c in todo.values()
        ]
        for result in self.evaluator.evaluate(jobs) if jobs else ():
            cand = todo[result.job_id]
            rec = self._event(
                cand, result.status, trained=True, trained_index=index[cand.id], reason=result.reason,
                val_acc=result.val_acc, train_seconds=result.train_seconds, n_params=result.n_params,
                flops=result.flops, worker=result.worker, cached=bool(getattr(result, "cached", False)), wall=self.wall,
            )
            self.rundir.append(rec)
            self.logged[cand.id] = rec
            records[cand.id] = rec
            self._tick(rec)
        out = [records[c.id] for c in cands]
        self.trained.extend(out)
        for rec in out:
            acc = rec.get("val_acc")
            if acc is not None and (self.best is None or acc > self.best["val_acc"]):
                self.best = rec
        self._write_state(done=False)
        return out

    def _tick(self, rec: dict) -> None:
        if self._bar is not None:
            self._bar.update(1)
            acc = rec.get("val_acc")
            shown = max([r.get("val_acc") or 0.0 for r in self.trained] + [acc or 0.0])
            self._bar.set_postfix(best=f"{shown:.4f}", refresh=False)

    def _write_state(self, done: bool, **extra: Any) -> None:
        self.rundir.write_state({
            "n_trained": len(self.trained), "budget": self.cfg.budget, "n_candidates": self._n_cands,
            "refits": self._refits, "wall": self.wall, "done": done,
            "best": None if self.best is None else {k: self.best[k] for k in ("id", "arch", "val_acc", "trained_index")},
            **extra,
        })

    # -- surrogate ----------------------------------------------------------------------------
    def zcp(self, cands: list[Candidate]) -> np.ndarray:
        """The task's zero-cost proxies of ``cands`` (``[n, k]``, NaN where undefined)."""
        need = {}
        for cand in cands:
            if cand.zcp is None:
                stored = self.logged.get(cand.id, {}).get("zcp") or self.zcp_logged.get(cand.id)
                if stored is not None:
                    cand.zcp = stored
                else:
                    need[cand.id] = cand
        jobs = [
            Job(c.id, c.text, self.cfg.task, "zcp", self.cfg.task_seed, self.cfg.seed, {}, self.cfg.device,
                zcp=self.zcp_names, zcp_batch_size=self.cfg.zcp_batch_size)
            for c in need.values()
        ]
        for result in self.evaluator.evaluate(jobs) if jobs else ():
            values = result.zcp or dict.fromkeys(self.zcp_names, math.nan)
            need[result.job_id].zcp = values
        return np.array(
            [[np.nan if c.zcp.get(n) is None else c.zcp[n] for n in self.zcp_names] for c in cands], dtype=np.float64
        ).reshape(len(cands), len(self.zcp_names))

    def predict(self, cands: list[Candidate]) -> np.ndarray:
        """Surrogate scores of ``cands`` (NaN: unscorable); stored on each candidate."""
        kwargs: dict[str, Any] = {}
        if self.zcp_names:
            kwargs["zcp"] = self.zcp(cands)
        scores = self.surrogate.predict(
            [c.arch for c in cands], input_shape=self.input_shape, num_classes=self.num_classes, errors="nan", **kwargs
        )
        for cand, s in zip(cands, scores):
            cand.predicted = None if np.isnan(s) else float(s)
        return np.asarray(scores, dtype=np.float64)

    def refit_if_due(self, force: bool = False) -> None:
        """Refit the surrogate on every trained candidate (plus transfer rows) when
        ``refit_every`` more candidates have been trained since the last refit."""
        every = self.cfg.refit_every
        if self.surrogate is None or every == 0:
            return
        n = len(self.trained)
        if not force and n // every <= self._refits_block:
            return
        self._refits_block = n // every
        from ..surrogates.finetune import finetune

        ids = [r["id"] for r in self.trained]
        accs = [r.get("val_acc") for r in self.trained]
        zcp = None
        if self.zcp_names:
            cands = [self._as_candidate(r) for r in self.trained]
            zcp = self.zcp(cands)
            for cand in cands:
                rec = self.logged[cand.id]
                if not rec.get("zcp") and cand.id not in self.zcp_logged:
                    self.zcp_logged[cand.id] = cand.zcp
                    self.rundir.append({"event": "zcp", "id": cand.id, "zcp": cand.zcp})
        usable = sum(1 for a in accs if a)
        if usable < 2 and self.transfer is None:
            log.info("refit skipped: %d usable trained candidates", usable)
            return
        tic = time.perf_counter()
        self.surrogate = finetune(
            self.base_surrogate, [r["arch"] for r in self.trained], accs, input_shape=self.input_shape,
            num_classes=self.num_classes, zcp=zcp, transfer=self.transfer, weight=self.cfg.transfer_weight,
        )
        self._refits += 1
        event_id = f"refit{self._refits:04d}"
        if event_id not in self.logged:
            event = {
                "event": "refit", "id": event_id, "n_trained": n, "trained_ids": ids,
                "n_transfer": 0 if self.transfer is None else len(self.transfer),
                "seconds": time.perf_counter() - tic, "wall": self.wall,
            }
            self.rundir.append(event)
            self.logged[event_id] = event

    _refits_block = 0

    def _as_candidate(self, rec: dict) -> Candidate:
        from ..space import parse

        return Candidate(rec["id"], parse(rec["arch"]), rec["arch"], rec["origin"], rec["parent"], rec["round"], rec.get("predicted"), rec.get("zcp"))

    # -- the end ------------------------------------------------------------------------------
    def _retrain(self, budget: dict[str, Any], which: str) -> dict[str, Any]:
        """Retrain the best architecture on train + valid with ``budget`` (``which``: its config key),
        log the outcome as the ``final`` event and return it."""
        cfg = self.cfg
        job = Job("final", self.best["arch"], cfg.task, "retrain", cfg.task_seed, cfg.final_seed, budget, cfg.device)
        (result,) = list(self.evaluator.evaluate([job]))
        final = {
            "event": "final", "id": "final", "candidate": self.best["id"], "arch": self.best["arch"],
            "budget": which, "status": result.status, "reason": result.reason, "test_acc": result.test_acc,
            "train_seconds": result.train_seconds, "cached": bool(getattr(result, "cached", False)),
            "wall": self.wall,
        }
        self.rundir.append(final)
        self.logged["final"] = final
        return final

    def finish(self) -> dict[str, Any]:
        """Retrain the best architecture (train + valid → test) and write ``summary.json``. When the
        final budget diverges (``nan_loss``), the retraining is repeated with the candidate budget."""
        cfg = self.cfg
        final = None
        if self.best is not None:
            final = self.logged.get("final")
            if final is None or final.get("arch") != self.best["arch"]:
                final = self._retrain(cfg.final_train, "final_train")
            if final_diverged(final):
                # the longer final budget diverged; the candidate budget trained this architecture
                # without diverging, so its test accuracy comes from that budget (said in the summary)
                final = self._retrain(cfg.train, "train")
        curve, best = [], None
        for rec in self.trained:
            acc = rec.get("val_acc")
            if acc is not None and (best is None or acc > best):
                best = acc
            curve.append(best)
        walls = [rec.get("wall") for rec in self.trained]
        statuses = Counter(r["status"] for r in self.trained)
        summary = {
            "task": self.task.name, "task_spec": cfg.task, "strategy": cfg.strategy, "seed": cfg.seed,
            "profile": cfg.profile, "budget": cfg.budget, "population": cfg.population,
            "n_trained": len(self.trained), "statuses": dict(statuses),
            "n_filtered": sum(1 for e in self.logged.values() if e.get("status") == "filtered"),
            "n_scored": sum(1 for e in self.logged.values() if e.get("status") == "scored"),
            "refits": self._refits,
            "surrogate": cfg.surrogate if cfg.strategy in SURROGATE_STRATEGIES else None,
            "best": None if self.best is None else {
                "id": self.best["id"], "arch": self.best["arch"],
                "arch_long": to_long_string(self._as_candidate(self.best).arch, self.input_shape),
                "val_acc": self.best["val_acc"], "trained_index": self.best["trained_index"],
                "n_params": self.best.get("n_params"), "flops": self.best.get("flops"),
            },
            "test_acc": None if final is None else final.get("test_acc"),
            "final": None if final is None else {
                **{k: final.get(k) for k in ("status", "reason", "test_acc", "train_seconds", "cached")},
                "budget": final.get("budget", "final_train"),
            },
            "final_train": cfg.final_train,
            "curve": curve,
            "curve_wall": walls,
            "wall_seconds": max((e.get("wall") or 0.0 for e in self.logged.values()), default=0.0),
            "train_seconds": sum(r.get("train_seconds") or 0.0 for r in self.trained),
            "n_cached": sum(1 for r in self.trained if r.get("cached")),  #: read back from a cache, not trained now
            "train_seconds_cached": sum(r.get("train_seconds") or 0.0 for r in self.trained if r.get("cached")),
            "device": cfg.device,
            "package_version": __version__,
        }
        self.rundir.write_summary(summary)
        self._write_state(done=True)
        if self._bar is not None:
            self._bar.close()
        return summary


def run_search(
    cfg: SearchConfig | Prepared,
    out: str | Path,
    *,
    evaluator: Evaluator | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Run (or resume) a search into the folder ``out``; returns the summary (also ``summary.json``)."""
    prepared = cfg if isinstance(cfg, Prepared) else prepare(cfg)
    cfg = prepared.cfg
    rundir = RunDir(out)
    resolved = {"config": cfg.to_dict(), "package_version": __version__, "grammar_hash": grammar_hash()}
    resuming = rundir.start(resolved, RUNTIME_KEYS)
    own = evaluator is None
    if own:
        evaluator = make_evaluator(cfg.evaluator, workers=cfg.workers)
    try:
        ctx = SearchContext(prepared, rundir, evaluator, progress)
        if resuming:
            log.info("resuming %s: %d logged events", out, len(ctx.logged))
        get_strategy(cfg.strategy)(ctx)
        return ctx.finish()
    finally:
        rundir.close()
        if own:
            evaluator.close()
