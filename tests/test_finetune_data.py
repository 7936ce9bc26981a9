"""Reading a user's trained architectures (JSONL, CSV, parquet, search run folders) and the
``surrogate-hub finetune`` command: results saved with lineage, bad files as one ``error:`` line."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from surrogate_hub.cli import main
from surrogate_hub.space import sample, to_string
from surrogate_hub.surrogates import load_surrogate
from surrogate_hub.surrogates.userdata import UserDataError, read_user_data

SHAPE = (1, 8, 8)
ARCHS = [to_string(sample(SHAPE, rng=i)) for i in range(24)]
ACCS = [round(0.3 + 0.02 * i, 3) for i in range(24)]


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _csv(path, rows, fields):
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_the_three_formats_read_the_same(tmp_path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"arch": a, "val_acc": v, "zcp_snip": float(i)} for i, (a, v) in enumerate(zip(ARCHS, ACCS))]
    rows.append({"arch": ARCHS[0], "val_acc": ACCS[0] + 0.1, "zcp_snip": 1.0})  # a second seed: averaged
    rows.append({"arch": ARCHS[1], "val_acc": 0.9, "status": "timeout"})  # a failed training: skipped
    a = read_user_data(_jsonl(tmp_path / "r.jsonl", rows), input_shape=SHAPE)
    c = read_user_data(_csv(tmp_path / "r.csv", rows, ["arch", "val_acc", "zcp_snip", "status"]), input_shape=SHAPE)
    pq.write_table(pa.Table.from_pylist([{**r, "status": r.get("status", "ok")} for r in rows]), tmp_path / "r.parquet")
    p = read_user_data(tmp_path / "r.parquet", input_shape=SHAPE)
    for got in (a, c, p):
        assert got.archs == tuple(ARCHS) and got.n_read == 26 and got.skipped == {"status timeout": 1}
        np.testing.assert_allclose(got.accuracies, [ACCS[0] + 0.05, *ACCS[1:]])
        np.testing.assert_allclose(got.zcp_matrix(["snip"])[:3, 0], [0.5, 1.0, 2.0])
    with pytest.raises(UserDataError, match=r"r.jsonl: the surrogate needs the zero-cost proxies \['synflow'\]"):
        a.zcp_matrix(["synflow"])


def test_a_search_run_folder(tmp_path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"task": "digits"}))
    events = [{"event": "candidate", "id": f"c{i}", "arch": a, "trained": True, "status": "ok", "val_acc": v,
               "zcp": {"snip": 1.0 * i}} for i, (a, v) in enumerate(zip(ARCHS[:5], ACCS))]
    events += [{"event": "candidate", "id": "f", "arch": ARCHS[5], "trained": False, "status": "filtered"},
               {"event": "candidate", "id": "x", "arch": ARCHS[6], "trained": True, "status": "failed", "val_acc": None},
               {"event": "refit", "id": "refit0001"}]
    _jsonl(run / "log.jsonl", events)
    got = read_user_data(run, input_shape=SHAPE)
    assert got.archs == tuple(ARCHS[:5]) and got.task == "digits" and got.skipped == {"status failed": 1}
    assert list(got.zcp) == ["snip"]
    with pytest.raises(UserDataError, match=r"a folder must be a search run folder with a log.jsonl"):
        read_user_data(tmp_path)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"architecture_string": ARCHS[0], "val_acc": 0.5}], r"bad.jsonl: no architecture column: expected one of \['arch', 'architecture'\]"),
        ([{"arch": ARCHS[0], "score": 0.5}], r"bad.jsonl: no accuracy column: expected one of \['val_acc'"),
        ([{"arch": ARCHS[0], "val_acc": 0.5, "status": "oom"}], r"bad.jsonl: no usable rows \(1 rows read; skipped: 1 with status oom\)"),
        ([{"arch": ARCHS[0], "val_acc": 0.5}, {"arch": ARCHS[1], "val_acc": None}], r"bad.jsonl, line 2: the accuracy \(column 'val_acc'\) is missing"),
        ([{"arch": ARCHS[0], "val_acc": 0.5}, {"arch": ARCHS[1], "val_acc": "abc"}], r"bad.jsonl, line 2: accuracy 'abc' in column 'val_acc' is not a number"),
        ([{"arch": ARCHS[0], "val_acc": -0.5}], r"bad.jsonl, line 1: accuracy -0.5 must be a finite number >= 0"),
        ([{"arch": ARCHS[0], "val_acc": 0.5}, {"arch": "sequential(computation<warp>)", "val_acc": 0.5}],
         r"bad.jsonl, line 2: architecture 'sequential\(computation<warp>\)' is not a valid einspace architecture"),
        ([{"arch": "routing[im2col(16,16,0), computation<linear(16)>, perm(0,2,1)]", "val_acc": 0.5}], r"line 1: architecture .* is not a valid einspace architecture at input shape \(1, 8, 8\)"),
    ],
)
def test_bad_jsonl_files_name_the_file_and_line(tmp_path, rows, message) -> None:
    with pytest.raises(UserDataError, match=message):
        read_user_data(_jsonl(tmp_path / "bad.jsonl", rows), input_shape=SHAPE)


def test_bad_csv_and_parquet_files(tmp_path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "bad.csv"
    path.write_text(f"arch,val_acc\n{ARCHS[0]!r},0.5\n".replace("'", '"') + f'"{ARCHS[1]}",nan\n')
    with pytest.raises(UserDataError, match=r"bad.csv, line 3: the accuracy \(column 'val_acc'\) is NaN"):
        read_user_data(path)
    pq.write_table(pa.Table.from_pylist([{"arch": ARCHS[0], "val_acc": 0.5}, {"arch": ARCHS[1], "val_acc": float("nan")}]),
                   tmp_path / "bad.parquet")
    with pytest.raises(UserDataError, match=r"bad.parquet, row 2: the accuracy .* is NaN"):
        read_user_data(tmp_path / "bad.parquet")
    (tmp_path / "junk.parquet").write_bytes(b"not parquet")
    with pytest.raises(UserDataError, match=r"junk.parquet: not a readable parquet file"):
        read_user_data(tmp_path / "junk.parquet")
    (tmp_path / "r.txt").write_text("x")
    with pytest.raises(UserDataError, match=r"r.txt: unknown data format '.txt'"):
        read_user_data(tmp_path / "r.txt")
    (tmp_path / "broken.jsonl").write_text(json.dumps({"arch": ARCHS[0], "val_acc": 0.5}) + '\n{nope\n')
    with pytest.raises(UserDataError, match=r"broken.jsonl, line 2: not valid JSON"):
        read_user_data(tmp_path / "broken.jsonl")


# ---------------------------------------------------------------------------------------------- CLI
def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_finetunes_saves_with_lineage_and_pushes(tmp_path, capsys, hub_env) -> None:
    data = _jsonl(tmp_path / "mine.jsonl", [{"arch": a, "val_acc": v} for a, v in zip(ARCHS, ACCS)])
    repo = hub_env.new_repo_id("tuned")
    code, out, err = _run(capsys, "finetune", "--surrogate", "einspace-graf-xgb", "--data", str(data), "--input-shape",
                          "1,8,8", "--classes", "10", "--out", str(tmp_path / "out"), "--strategy", "boost",
                          "--push-to-hub", repo, "--json")
    assert code == 0, err
    lineage = json.loads(out)
    assert lineage["strategy"] == "boost" and lineage["n_rows"] == 24 and lineage["n_heldout"] == 5
    assert lineage["base"] == "einspace-graf-xgb" and lineage["base_revision"].startswith("embedded:")
    assert lineage["data_file"] == str(data.resolve())
    assert "held-out check on 5 rows: Kendall tau" in err and f"pushed to {repo}" in err
    local = load_surrogate(tmp_path / "out")
    assert local.config.lineage.to_dict() == lineage
    remote = load_surrogate(repo)
    assert remote.config.lineage.to_dict() == lineage
    np.testing.assert_allclose(remote.predict(ARCHS, input_shape=SHAPE, num_classes=10),
                               local.predict(ARCHS, input_shape=SHAPE, num_classes=10), rtol=1e-6)
    # the saved surrogate is itself a base: its lineage becomes the parent
    code, out, err = _run(capsys, "finetune", "--surrogate", str(tmp_path / "out"), "--data", str(data), "--input-shape",
                          "1,8,8", "--classes", "10", "--out", str(tmp_path / "again"), "--strategy", "residual", "--json")
    assert code == 0, err
    assert json.loads(out)["parent"]["strategy"] == "boost"


def test_cli_errors_are_one_line(tmp_path, capsys) -> None:
    good = _jsonl(tmp_path / "good.jsonl", [{"arch": a, "val_acc": v} for a, v in zip(ARCHS, ACCS)])
    bad = _jsonl(tmp_path / "bad.jsonl", [{"arch": ARCHS[0], "val_acc": 0.5}, {"arch": ARCHS[1], "val_acc": None}])
    common = ["--surrogate", "einspace-graf-xgb", "--input-shape", "1,8,8", "--classes", "10"]
    cases = [
        (["--data", str(bad), "--out", str(tmp_path / "o1")], "bad.jsonl, line 2: the accuracy"),
        (["--data", str(tmp_path / "none.csv"), "--out", str(tmp_path / "o2")], "none.csv: no such file or folder"),
        (["--data", str(good), "--out", str(tmp_path / "o3"), "--strategy", "continue"], "needs a BERT surrogate"),
        (["--data", str(good), "--out", str(tmp_path / "o4"), "--strategy", "boost", "--corpus", "x"],
         "--corpus is used by --strategy corpus only"),
        (["--data", str(good), "--out", str(tmp_path / "o5"), "--strategy", "corpus", "--corpus", str(tmp_path / "nope")],
         "is not available here"),
        (["--data", str(good), "--out", str(good)], "exists and is not a folder"),
    ]
    for extra, message in cases:
        code, out, err = _run(capsys, "finetune", *common, *extra)
        assert code != 0 and out == ""
        lines = err.strip().splitlines()
        assert lines[-1].startswith("error: ") and message in lines[-1], err
        assert "Traceback" not in err
