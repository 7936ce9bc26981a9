"""The CLI's one voice for user errors: one ``error:`` line on stderr, no traceback, non-zero status
(run as real subprocesses), and the newcomer paper cuts of the command line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from surrogate_hub.cli import main
from surrogate_hub.surrogates import get_pretrained

GOOD = "sequential(computation<linear(16)>, computation<relu>)"


def _cli(*argv: str, stdin: bytes | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-m", "surrogate_hub.cli", *argv], input=stdin, capture_output=True, check=False,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}, timeout=120,
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli")
    (root / "archs.txt").write_text(GOOD + "\n")
    (root / "no-config").mkdir()
    truncated = root / "truncated"
    shutil.copytree(get_pretrained("einspace-graf-xgb").local_path, truncated)
    model = truncated / "model.json"
    model.write_bytes(model.read_bytes()[:1000])
    empty = root / "empty"
    shutil.copytree(get_pretrained("einspace-graf-xgb").local_path, empty)
    (empty / "model.json").write_bytes(b"")
    return {"archs": root / "archs.txt", "no-config": root / "no-config", "truncated": truncated, "empty": empty,
            "root": root}


CASES = [
    # (argv, exit status, a piece of the one error line)
    (["rank", "{archs}", "--input-shape", "3,32,32", "--surrogate", "einspace-graf"], 1, "not a registered surrogate name"),
    (["rank", "{archs}", "--input-shape", "3,32,32", "--surrogate", "{no-config}"], 1, "config.json: not found"),
    (["rank", "{archs}", "--input-shape", "3,32,32", "--surrogate", "{truncated}"], 1, "model.json: not a readable XGBoost JSON model"),
    (["rank", "{archs}", "--input-shape", "3,32,32", "--surrogate", "{empty}"], 1, "empty file"),
    (["rank", "{archs}", "--input-shape", "3,32,32", "--surrogate", "nobody/absent-model"], 1, "not in the Hugging Face cache"),
    (["rank", "{root}/missing.txt", "--input-shape", "3,32,32"], 1, "missing.txt: No such file or directory"),
    (["rank", "{archs}"], 2, "--input-shape C,H,W is required without --task"),
    (["rank", "{archs}", "--input-shape", "3,32,32", "--surrogate", "einspace-graf-zcp-xgb"], 2, "pass --task"),
    (["rank", "{archs}", "--task", "nope"], 1, "unknown task 'nope'"),
    (["rank", "{archs}", "--task", "npy:{root}/absent"], 1, "no such folder"),
    (["rank", "{archs}", "--input-shape", "3,32", "--classes", "10"], 2, "--input-shape must be three positive integers"),
    (["rank", "{archs}", "--input-shape", "3,32,32", "--classes", "0"], 2, "--classes must be a positive integer, got '0'"),
    (["train", GOOD, "--task", "nope"], 1, "unknown task 'nope'"),
    (["train", GOOD, "--task", "npy:{root}/absent"], 1, "no such folder"),
    (["train", GOOD, "--task", "digits", "--epochs", "-1"], 2, "--epochs must be a positive integer, got '-1'"),
    (["train", GOOD, "--task", "digits", "--epochs", "0"], 2, "--epochs must be a positive integer, got '0'"),
    (["sample", "--n", "0", "--input-shape", "1,8,8"], 2, "--n must be a positive integer, got '0'"),
    (["sample", "--n", "x", "--input-shape", "1,8,8"], 2, "--n must be a positive integer, got 'x'"),
    (["features", "--zcp", "{archs}"], 2, "--zcp needs --task"),
    (["corpus", "build", "--config", "{root}/absent.yaml"], 1, "absent.yaml"),
    (["nosuchcommand"], 2, "invalid choice"),
]


@pytest.mark.parametrize(("argv", "status", "message"), CASES, ids=[" ".join(c[0][:4]) for c in CASES])
def test_user_errors_end_in_one_error_line(files, argv, status, message) -> None:
    args = [a.format(**files) for a in argv]
    proc = _cli(*args)
    err = proc.stderr.decode()
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert proc.returncode == status, err
    assert len(lines) == 1 and message.format(**files) in lines[0], err
    assert "Traceback" not in err
    assert all(line.startswith(("error:", "note:", "classes:")) for line in err.splitlines()), err


def test_an_unreachable_hub_fails_at_once_in_one_line(files, tmp_path) -> None:
    # online mode, but the endpoint refuses connections (a closed local port): no retries, one line
    env = {"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HOME": str(tmp_path / "hf")}
    proc = _cli("rank", str(files["archs"]), "--input-shape", "3,32,32", "--surrogate", "nobody/absent-model", env=env)
    err = proc.stderr.decode()
    assert proc.returncode == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "not in the Hugging Face cache, and the Hub at http://127.0.0.1:9 cannot be reached" in err


def test_verbose_after_the_command_shows_the_traceback(files) -> None:
    proc = _cli("rank", str(files["archs"]), "--input-shape", "3,32,32", "--surrogate", str(files["no-config"]), "-v")
    err = proc.stderr.decode()
    assert proc.returncode == 1 and "Traceback" in err and err.rstrip().splitlines()[-1].startswith("error:")


def test_piping_into_head_ends_quietly() -> None:
    cmd = (f"{sys.executable} -m surrogate_hub.cli sample --n 3000 --input-shape 1,8,8 | head -n 1; "
           "echo status=${PIPESTATUS[0]} >&2")
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=300, check=False)
    assert len(proc.stdout.splitlines()) == 1
    assert proc.stderr.strip() == "status=141", proc.stderr  # no traceback, no 'Exception ignored'


# -- in-process: output of commands that succeed ------------------------------------------------
def test_bom_and_non_utf8_lines_are_per_line_errors(tmp_path, capsys) -> None:
    path = tmp_path / "in.txt"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode() + b"\ncomputation<r\xe9lu>\n" + GOOD.encode() + b"\n")
    assert main(["rank", str(path), "--input-shape", "1,8,8", "--json"]) == 1
    out, err = capsys.readouterr()
    assert [json.loads(r)["arch"] for r in out.splitlines()] == [GOOD, GOOD]  # the BOM is not part of line 1
    assert "skipped line 2: ArchitectureError: not valid UTF-8 (byte 0xe9 at column 14)" in err
    assert "summary: ranked 2 of 3 lines" in err
    assert main(["inspect", "--input-shape", "1,8,8", "--classes", "10", str(path)]) == 1
    rows = [json.loads(r) for r in capsys.readouterr().out.splitlines()]
    assert rows[0]["error"] is None and "not valid UTF-8" in rows[1]["error"]


def test_rank_prints_the_chosen_classes_and_the_default_surrogate(tmp_path, capsys) -> None:
    path = tmp_path / "in.txt"
    path.write_text(GOOD + "\n")
    assert main(["rank", str(path), "--input-shape", "1,8,8"]) == 0
    err = capsys.readouterr().err
    assert "classes: 10 (the surrogate's recorded default" in err
    assert err.count("note: ranking with the GRAF-only surrogate einspace-graf-xgb") == 1
    assert main(["rank", str(path), "--input-shape", "1,8,8", "--classes", "100"]) == 0
    assert "classes: 100 (--classes)" in capsys.readouterr().err


def test_classes_change_the_scores(capsys) -> None:
    import io

    from surrogate_hub.space import sample_many, to_string

    text = "\n".join(to_string(a) for a in sample_many(30, (3, 32, 32), seed=9)) + "\n"
    scores = {}
    for k in ("10", "100"):
        sys_stdin, sys.stdin = sys.stdin, io.TextIOWrapper(io.BytesIO(text.encode()))
        try:
            assert main(["rank", "--input-shape", "3,32,32", "--classes", k, "--json"]) == 0
        finally:
            sys.stdin = sys_stdin
        scores[k] = {r["arch"]: r["score"] for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert scores["10"] != scores["100"]


def test_sample_classes_is_optional(capsys) -> None:
    assert main(["sample", "--n", "2", "--input-shape", "1,8,8"]) == 0
    first = capsys.readouterr().out
    assert main(["sample", "--n", "2", "--input-shape", "1,8,8", "--classes", "7"]) == 0
    assert capsys.readouterr().out == first and len(first.splitlines()) == 2


def test_tasks_lists_metadata_without_generating_data() -> None:
    # in a fresh process: other tests may have loaded (and memoised) task data in this one
    code = (
        "import json, io, contextlib\n"
        "from surrogate_hub.cli import main\n"
        "from surrogate_hub.tasks import get_task, list_tasks\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    assert main(['tasks', '--json']) == 0\n"
        "rows = [json.loads(r) for r in out.getvalue().splitlines()]\n"
        "assert [r['name'] for r in rows] == list_tasks()\n"
        "assert all('train' not in r and r['description'] for r in rows)\n"
        "assert not any('data' in get_task(n).__dict__.get('_cache', {}) for n in list_tasks())\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr


def test_features_zcp_writes_strict_json(tmp_path, capsys, torch1) -> None:
    path = tmp_path / "in.txt"
    path.write_text("computation<linear(16)>\n")  # no ReLU: nwot is undefined (NaN)
    assert main(["features", "--zcp", "--task", "digits", str(path)]) == 0
    line = capsys.readouterr().out.strip()
    row = json.loads(line, parse_constant=lambda c: pytest.fail(f"bare {c} in the JSON output"))
    assert row["zcp"]["nwot"] is None and isinstance(row["zcp"]["grad_norm"], float)
