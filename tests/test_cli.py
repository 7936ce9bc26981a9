"""The console script, called as ``main(argv)`` and as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from surrogate_hub.cli import main
from surrogate_hub.space import n_params, parse, to_string

CONV = "sequential(routing[im2col(3,1,1), computation<linear(16)>, col2im], computation<relu>)"


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_sample_prints_deterministic_valid_strings(capsys) -> None:
    assert main(["sample", "--n", "5", "--input-shape", "3,28,28", "--classes", "10", "--seed", "4"]) == 0
    first = capsys.readouterr().out.splitlines()
    assert main(["sample", "--n", "5", "--input-shape", "3,28,28", "--classes", "10", "--seed", "4"]) == 0
    assert capsys.readouterr().out.splitlines() == first and len(first) == 5
    assert all(to_string(parse(s)) == s for s in first)


def test_inspect_reports_each_line_and_survives_bad_ones(tmp_path, capsys) -> None:
    path = tmp_path / "archs.txt"
    path.write_text(f"{CONV}\nnot an architecture\n# comment\n\nrouting[perm(0,2,1), computation<relu>, identity]\n{CONV}\n")
    assert main(["inspect", "--input-shape", "3,28,28", "--classes", "10", str(path)]) == 1
    rows = _json_lines(capsys.readouterr().out)
    assert len(rows) == 4
    good, parse_bad, shape_bad, again = rows
    assert good["error"] is None and good["output_shape"] == [2, 10]
    assert good["n_params"] == n_params(parse(CONV), (3, 28, 28), 10) == 3 * 9 * 16 + 16 + 16 * 10 + 10
    assert good["arch_long"].startswith("sequential[routing[im2col(3,1,1){'out_feature_shape': [784, 27]}")
    assert good["depth"] == 3 and good["n_nodes"] == 8
    assert parse_bad["error"].startswith("ParseError: line 1, column 1")
    assert shape_bad["error"].startswith("ShapeError:") and "perm(0,2,1)" in shape_bad["error"]
    assert again == good


@pytest.mark.parametrize(
    "argv",
    [
        ["sample", "--n", "0", "--input-shape", "3,28,28", "--classes", "10"],
        ["sample", "--n", "2", "--input-shape", "3,28", "--classes", "10"],
        ["sample", "--n", "2", "--input-shape", "a,b,c", "--classes", "10"],
        ["inspect", "--input-shape", "3,28,28"],
    ],
)
def test_bad_arguments_are_usage_errors(argv, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "error" in capsys.readouterr().err


def test_tasks_lists_the_suite(capsys) -> None:
    assert main(["tasks", "--json"]) == 0
    rows = {r["name"]: r for r in _json_lines(capsys.readouterr().out)}
    assert {"digits", "add-digits", "synth-spectro"} <= set(rows)
    assert rows["digits"]["input_shape"] == [1, 8, 8] and rows["digits"]["num_classes"] == 10


def test_train_prints_a_result(capsys) -> None:
    assert main(["train", CONV, "--task", "digits", "--epochs", "1"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["status"] == "ok" and 0 <= row["val_acc"] <= 1 and row["n_params"] == n_params(parse(CONV), (1, 8, 8), 10)
    assert main(["train", "routing[perm(0,2,1), computation<relu>, identity]", "--task", "digits", "--epochs", "1"]) == 1
    assert json.loads(capsys.readouterr().out)["status"] == "invalid"


def test_features_with_proxies(tmp_path, capsys) -> None:
    path = tmp_path / "a.txt"
    path.write_text(f"{CONV}\nbroken(\n")
    assert main(["features", "--zcp", "--task", "digits", str(path)]) == 1
    good, bad = _json_lines(capsys.readouterr().out)
    assert good["graf"]["cnt_im2col3k1s1p"] == 1 and len(good["graf"]) == 385
    assert good["extras"]["n_params"] == n_params(parse(CONV), (1, 8, 8), 10)
    assert good["zcp"]["params"] == good["extras"]["n_params"]
    assert bad["error"].startswith("ParseError") and bad["graf"] is None


def test_console_script_runs_as_a_subprocess() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "surrogate_hub.cli", "sample", "--n", "2", "--input-shape", "1,8,8", "--classes", "3"],
        check=True, capture_output=True, text=True,
    ).stdout
    inspected = subprocess.run(
        [sys.executable, "-m", "surrogate_hub.cli", "inspect", "--input-shape", "1,8,8", "--classes", "3", "-"],
        input=out, check=True, capture_output=True, text=True,
    ).stdout
    assert [r["arch"] for r in _json_lines(inspected)] == out.splitlines()


def test_rank_sorts_by_a_saved_surrogate_and_skips_bad_lines(tmp_path, capsys) -> None:
    from surrogate_hub.space import sample_many
    from surrogate_hub.surrogates.graf_xgb import GrafSurrogate

    shape = (1, 8, 8)
    archs = sample_many(120, shape, seed=5)
    sizes = [n_params(a, shape, 10) for a in archs]
    sur = GrafSurrogate(default_input_shape=shape, default_num_classes=10)
    sur.fit(archs, [float(s) for s in sizes], input_shapes=shape, num_classes=10)  # bigger = better
    sur.save_pretrained(tmp_path / "sur")
    small, big = "computation<identity>", "sequential(computation<linear(512)>, computation<linear(512)>)"
    path = tmp_path / "in.txt"
    path.write_text(f"{small}\nsequential(\n{big}\nrouting[perm(0,2,1), computation<relu>, identity]\n")
    argv = ["rank", str(path), "--surrogate", str(tmp_path / "sur"), "--input-shape", "1,8,8", "--classes", "10"]
    assert main([*argv, "--json"]) == 1  # skipped lines: the ranking is printed, the status says so
    out, err = capsys.readouterr()
    assert "skipped line 2: ParseError" in err and "skipped line 4: ShapeError" in err
    assert "summary: ranked 2 of 4 lines, skipped 2" in err and "--skip-invalid" in err
    argv.append("--skip-invalid")
    assert main([*argv, "--json"]) == 0
    rows = _json_lines(capsys.readouterr().out)
    assert [r["arch"] for r in rows] == [big, small] and [r["rank"] for r in rows] == [1, 2]
    assert rows[0]["score"] > rows[1]["score"]
    assert main([*argv, "--top", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("1\t") and lines[0].endswith(big)
