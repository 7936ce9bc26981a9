"""Loading a corpus (local folder or Hub dataset repo) as a ``datasets.Dataset``."""

from __future__ import annotations

from pathlib import Path

__all__ = ["load"]


def load(
    path_or_repo_id: str | Path,
    *,
    revision: str | None = None,
    by_task: bool = False,
    ok_only: bool = False,
    features: bool = False,
    zcp: bool = False,
    cache_dir: str | None = None,
    token: str | bool | None = None,
):
    """The corpus records as a ``datasets.Dataset`` (or a ``DatasetDict`` keyed by task).

    ``path_or_repo_id`` is a local corpus folder (its ``data/*.parquet`` shards) or a Hub dataset
    repo id (``revision``, ``cache_dir`` and ``token`` are passed to ``datasets.load_dataset``).
    ``ok_only`` keeps successfully trained records; ``features=True`` adds the GRAF columns
    (``graf_<name>``) computed from ``arch``; ``zcp=True`` joins the zero-cost proxy columns of a
    local corpus's ``zcp/`` folder (``training/compute_zcp.py``; NaN where a record has none).
    """
    import datasets

    local = Path(path_or_repo_id)
    if local.is_dir():
        shards = sorted(str(p) for p in (local / "data").glob("shard-*.parquet"))
        if not shards:
            raise FileNotFoundError(f"{local}: no corpus shards under data/ (is this a corpus folder?)")
        ds = datasets.load_dataset("parquet", data_files={"train": shards}, split="train", cache_dir=cache_dir)
    else:
        ds = datasets.load_dataset(
            str(path_or_repo_id), split="train", revision=revision, cache_dir=cache_dir, token=token
        )
    if zcp:
        ds = _with_zcp(ds, local / "zcp")
    if ok_only:
        ds = ds.filter(lambda s: [x == "ok" for x in s], input_columns="status", batched=True)
    if features:
        ds = _with_graf(ds)
    if by_task:
        return datasets.DatasetDict(
            {t: ds.filter(lambda s, t=t: [x == t for x in s], input_columns="task", batched=True) for t in sorted(set(ds["task"]))}
        )
    return ds


def _with_graf(ds):
    from ..features.graf import graf_matrix

    matrix, names = graf_matrix(ds["arch"], errors="nan")
    for j, name in enumerate(names):
        ds = ds.add_column(f"graf_{name}", matrix[:, j].tolist())
    return ds


def _with_zcp(ds, folder: Path):
    import pyarrow.parquet as pq

    files = sorted(folder.glob("zcp-*.parquet"))
    if not files:
        raise FileNotFoundError(f"{folder}: no zero-cost proxy files; run training/compute_zcp.py first")
    by_id: dict[str, dict] = {}
    for path in files:
        for row in pq.read_table(path).to_pylist():
            by_id[row.pop("job_id")] = row
    names = sorted({k for row in by_id.values() for k in row})
    nan = float("nan")
    for name in names:
        ds = ds.add_column(name, [by_id.get(j, {}).get(name, nan) for j in ds["job_id"]])
    return ds
