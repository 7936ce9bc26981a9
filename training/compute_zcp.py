"""Compute zero-cost proxies for every successful record of a corpus (derived data, resumable).

Proxies depend on a random batch and initialisation, not on training, so they are computed after
the build and stored beside the data in ``{corpus}/zcp/zcp-*.parquet`` (``job_id`` + ``zcp_<name>``
columns), written atomically in chunks; a rerun skips the records already done.
:func:`surrogate_hub.corpus.load` joins them as columns when ``zcp=True``.

    python training/compute_zcp.py corpus/einspace-offline-v1 [--batch-size 64] [--workers 2]
"""

from __future__ import annotations

import argparse
import logging
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

log = logging.getLogger("compute_zcp")


def _init() -> None:
    import torch

    torch.set_num_threads(1)


def _one(args: tuple[str, str, str, int, int]) -> dict:
    job_id, arch, task_name, batch_size, seed = args
    from surrogate_hub.features.zero_cost import zero_cost
    from surrogate_hub.tasks import get_task

    scores = zero_cost(arch, get_task(task_name), batch_size=batch_size, seed=seed)
    return {"job_id": job_id, **{f"zcp_{k}": float(v) for k, v in scores.items()}}


def done_ids(folder: Path) -> set[str]:
    import pyarrow.parquet as pq

    ids: set[str] = set()
    for path in sorted(folder.glob("zcp-*.parquet")):
        ids.update(pq.read_table(path, columns=["job_id"]).column("job_id").to_pylist())
    return ids


def _write(folder: Path, rows: list[dict]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    index = len(list(folder.glob("zcp-*.parquet")))
    path = folder / f"zcp-{index:05d}.parquet"
    tmp = folder / f".{path.name}.tmp"
    pq.write_table(pa.Table.from_pylist(rows), tmp)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    from surrogate_hub.corpus.build import read_shards

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus", type=Path)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--chunk", type=int, default=50, help="records per output file")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    records, _ = read_shards(args.corpus / "data", quarantine=False)
    folder = args.corpus / "zcp"
    folder.mkdir(exist_ok=True)
    for tmp in folder.glob(".*.tmp"):
        tmp.unlink()
    done = done_ids(folder)
    todo = [(r["job_id"], r["arch"], r["task"], args.batch_size, args.seed)
            for r in records.values() if r["status"] == "ok" and r["job_id"] not in done]
    log.info("%d records to score (%d done)", len(todo), len(done))
    pending: list[dict] = []
    pool = None
    if args.workers > 1:  # spawned workers re-import this file as a script
        pool = ProcessPoolExecutor(args.workers, mp_context=get_context("spawn"), initializer=_init)
    try:
        rows = pool.map(_one, todo, chunksize=4) if pool else map(_one, todo)
        for row in rows:
            pending.append(row)
            if len(pending) >= args.chunk:
                _write(folder, pending)
                log.info("wrote %d", len(pending))
                pending = []
    finally:
        if pending:
            _write(folder, pending)
        if pool:
            pool.shutdown(cancel_futures=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
