"""Evaluators: where candidate architectures are trained (or probed), behind one interface.

A caller builds :class:`Job` values (an architecture, a task, a budget, a device) and hands them to
an evaluator's ``evaluate(jobs)``, which yields a :class:`Result` per job *as each one finishes*
(not in submission order). Jobs and results are plain, picklable values and :func:`run_job` is a
top-level function, so a backend only has to decide *where* ``run_job`` runs:

- ``"local"`` (:class:`LocalEvaluator`): in this process (``workers=1``) or in a pool of spawned
  local processes (``workers>1``), on whatever device each job names (CPU or CUDA);
- a distributed backend (e.g. Ray) registers itself with :func:`register_evaluator` and is picked
  by name in :func:`make_evaluator`; strategies never see the difference.

Importing this package does not import torch; training happens inside :func:`run_job`.
"""

from .base import JOB_KINDS, Evaluator, Job, Result, run_job
from .local import LocalEvaluator
from .registry import list_evaluators, make_evaluator, register_evaluator

__all__ = [
    "JOB_KINDS",
    "Evaluator",
    "Job",
    "LocalEvaluator",
    "Result",
    "list_evaluators",
    "make_evaluator",
    "register_evaluator",
    "run_job",
]
