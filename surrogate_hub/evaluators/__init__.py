"""Evaluators: where candidate architectures are trained (or probed), behind one interface.

A caller builds :class:`Job` values (an architecture, a task, a budget, a device) and hands them to
an evaluator's ``evaluate(jobs)``, which yields a :class:`Result` per job *as each one finishes*
(not in submission order). Jobs and results are plain, picklable values and :func:`run_job` is a
top-level function, so a backend only has to decide *where* ``run_job`` runs:

- ``"local"`` (:class:`LocalEvaluator`): in this process (``workers=1``) or in a pool of spawned
  local processes (``workers>1``), on whatever device each job names (CPU or CUDA);
- ``"ray"`` (:class:`~surrogate_hub.evaluators.ray_backend.RayEvaluator`, the ``ray`` extra): Ray
  tasks on a local or remote Ray cluster, with CPU/GPU-fraction requests and worker-death retries;
- any backend behind a :class:`~surrogate_hub.evaluators.cache.CachedEvaluator` (``make_evaluator(...,
  cache=folder)``): trainings already done by an earlier or concurrent run are read back, not redone;
- other backends register themselves with :func:`register_evaluator` and are picked by name in
  :func:`make_evaluator`; strategies never see the difference.

A :class:`Runner` says what a job is and what its outcome is: :data:`JOB_RUNNER` (the default)
runs :func:`run_job`; the corpus builder's runner turns each job into a corpus record.

Importing this package does not import torch; training happens inside :func:`run_job`.
"""

from .base import JOB_KINDS, JOB_RUNNER, Evaluator, Job, JobRunner, Result, Runner, run_job
from .cache import CachedEvaluator, ResultCache
from .local import LocalEvaluator
from .registry import list_evaluators, make_evaluator, register_evaluator

__all__ = [
    "JOB_KINDS",
    "JOB_RUNNER",
    "CachedEvaluator",
    "Evaluator",
    "Job",
    "JobRunner",
    "LocalEvaluator",
    "Result",
    "ResultCache",
    "Runner",
    "list_evaluators",
    "make_evaluator",
    "register_evaluator",
    "run_job",
]
