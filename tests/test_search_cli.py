"""The search and plot commands: a run from the command line, and one-line errors for bad input."""

from __future__ import annotations

import json

import pytest
import yaml

from surrogate_hub.cli import main

TINY = {
    "profile": "cpu", "task": "digits", "strategy": "evolution", "budget": 4, "population": 2, "tournament": 2,
    "proposals": 3, "train_per_round": 2, "train": {"epochs": 1, "batch_size": 128, "max_forward_seconds": None},
    "final_train": {"epochs": 1, "batch_size": 128, "max_forward_seconds": None},
    "limits": {"max_params": 20_000, "max_activation": 5_000, "max_total_activation": 20_000},
}


@pytest.fixture
def tiny_yaml(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    return path


def test_search_then_plot(torch1, tmp_path, tiny_yaml, capsys) -> None:
    out = tmp_path / "run"
    assert main(["search", "--config", str(tiny_yaml), "--seed", "3", "--out", str(out), "--no-progress"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["n_trained"] == 4 and printed["best_arch"] and 0 < printed["test_acc"] <= 1
    stored = json.loads((out / "config.json").read_text())["config"]
    assert stored["seed"] == 3 and stored["budget"] == 4  # the flag won over the YAML, the YAML over the profile
    assert main(["plot", str(out)]) == 0
    assert (out / "best_so_far.png").stat().st_size > 1000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--strategy", "magic"], "strategy: unknown strategy 'magic'; choose one of ['evolution', 'random'"),
        (["--task", "no-such-task"], "task: unknown task 'no-such-task'; registered tasks:"),
        (["--strategy", "surrogate-filter", "--surrogate", "/no/such/folder"], "surrogate '/no/such/folder':"),
        (["--budget", "1"], "budget: 1 trained candidates is smaller than the population (2)"),
        (["--profile", "cpu", "--workers", "0"], None),  # argparse's own usage error
    ],
)
def test_bad_input_gives_one_error_line(tmp_path, tiny_yaml, capsys, args, message) -> None:
    argv = ["search", "--config", str(tiny_yaml), "--out", str(tmp_path / "run"), "--no-progress", *args]
    if message is None:
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
        return
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
    assert message in err
    assert not (tmp_path / "run" / "log.jsonl").exists()


def test_a_missing_config_file_and_a_different_rerun(torch1, tmp_path, tiny_yaml, capsys) -> None:
    assert main(["search", "--config", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "r")]) == 2
    assert capsys.readouterr().err.startswith("error: ") and True
    out = str(tmp_path / "run")
    assert main(["search", "--config", str(tiny_yaml), "--out", out, "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["search", "--config", str(tiny_yaml), "--out", out, "--seed", "9", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "different configuration (differs in ['seed'])" in err


def test_plot_errors(tmp_path, capsys) -> None:
    assert main(["plot", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path}: no search runs in this folder\n"


def test_the_shipped_configs_are_valid() -> None:
    from pathlib import Path

    from surrogate_hub.search import SearchConfig

    folder = Path(__file__).resolve().parents[1] / "search"
    paper = sorted(folder.glob("paper_*.yaml"))
    assert len(paper) == 8
    for path in paper:
        cfg = SearchConfig.make(yaml_path=path)
        assert cfg.profile == "paper" and cfg.task == f"npy:/data/unseen-nas/{path.stem[6:]}" and cfg.device == "cuda"
        assert (cfg.budget, cfg.population, cfg.tournament, cfg.proposals, cfg.train_per_round, cfg.refit_every) == (300, 100, 10, 20, 5, 20)
        assert cfg.train["epochs"] == 16 and cfg.final_train["epochs"] == 64
    demo = SearchConfig.make(yaml_path=folder / "demo_cpu.yaml")
    assert demo.device == "cpu" and demo.task == "tile-digits"


def test_a_paper_config_runs_on_an_npy_task(torch1, tmp_path, capsys) -> None:
    """The paper protocol's config, pointed at a small generated dataset in the Unseen-NAS layout."""
    from pathlib import Path

    import numpy as np

    from surrogate_hub.tasks.base import save_npy_layout

    rng = np.random.default_rng(0)
    splits = {}
    for split, n in (("train", 120), ("valid", 40), ("test", 40)):
        y = rng.integers(0, 3, n)
        x = rng.normal(size=(n, 2, 6, 6)).astype(np.float32) + y[:, None, None, None]
        splits[split] = (x, y)
    save_npy_layout(splits, tmp_path / "data" / "toy")
    config = Path(__file__).resolve().parents[1] / "search" / "paper_addnist.yaml"
    argv = ["search", "--config", str(config), "--task", f"npy:{tmp_path / 'data' / 'toy'}", "--device", "cpu",
            "--budget", "3", "--population", "2", "--out", str(tmp_path / "run"), "--no-progress"]
    # the paper's 16-epoch candidates and 64-epoch retraining, kept fast by 3 candidates on 120 examples
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["task"] == "toy" and printed["n_trained"] == 3
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["final"]["status"] == "ok" and summary["device"] == "cpu" and summary["final_train"]["epochs"] == 64
