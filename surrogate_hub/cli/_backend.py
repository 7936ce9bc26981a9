"""The evaluator-backend options shared by ``search`` and ``corpus build``: where candidates train."""

from __future__ import annotations

import argparse
import math
from typing import Any

from ..errors import UserError

__all__ = ["add_backend_args", "backend_options"]


def _resources(text: str) -> float:
    """An argparse type: a non-negative number of CPUs/GPUs, fractions allowed (0.25: a quarter GPU)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0 or (value > 1 and value != int(value)):
        raise argparse.ArgumentTypeError(f"must be a fraction in [0, 1] or a whole number, got {text!r}")
    return value


def add_backend_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", default=None, choices=["local", "ray"],
                   help="where candidates train: local processes (default) or a Ray cluster (needs surrogate-hub[ray])")
    p.add_argument("--ray-address", default=None, metavar="ADDR",
                   help="Ray cluster to join (default: $RAY_ADDRESS, else a local cluster is started)")
    p.add_argument("--ray-num-cpus", type=_resources, default=1.0, metavar="N", help="CPUs per candidate (default 1)")
    p.add_argument("--ray-num-gpus", type=_resources, default=0.0, metavar="N",
                   help="GPUs per candidate, fractions allowed (0.25: four candidates share a GPU; use with --device cuda)")
    p.add_argument("--ray-shared-data", action="store_true",
                   help="workers read the task's files themselves (shared storage) instead of getting them from the object store")


def backend_options(args: argparse.Namespace) -> dict[str, Any]:
    """Constructor options of the chosen backend (none for ``local``)."""
    if args.backend != "ray":
        for flag in ("ray_address", "ray_shared_data"):
            if getattr(args, flag):
                raise UserError(f"--{flag.replace('_', '-')} needs --backend ray", status=2)
        return {}
    if args.ray_num_cpus == 0 and args.ray_num_gpus == 0:
        raise UserError("--ray-num-cpus and --ray-num-gpus cannot both be 0", status=2)
    return {"address": args.ray_address, "num_cpus": args.ray_num_cpus, "num_gpus": args.ray_num_gpus,
            "ship_data": not args.ray_shared_data}
