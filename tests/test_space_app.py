"""The Gradio Space, driven as visitors and API users drive it: ``gradio_client`` against the running
app (predict, rank with a malformed line, design, explore), and headless Chromium (the page loads,
its DOM has the title and tabs, a tab opened by deep link shows its result, a screenshot is taken).

The app runs on 127.0.0.1 on a free port for this module, with tight request limits so that the
limit messages can be checked, and with a second surrogate (a saved copy of the embedded one in a
temporary folder) to check that every loadable surrogate appears.
"""

from __future__ import annotations

import csv
import importlib
import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from surrogate_hub.space import n_params, parse, sample_many, to_long_string, to_string
from surrogate_hub.space.seeds import seed_string
from surrogate_hub.surrogates import load_surrogate

pytestmark = pytest.mark.slow  # starts a Gradio server (~10-20 s for the module)

ROOT = Path(__file__).resolve().parents[1]
SPACE = ROOT / "space_app"
SHAPE = "3,32,32"
EMBEDDED = "einspace-graf-xgb"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_NEST = ("branching(8){clone(8), branching(8){clone(8), branching(4){clone(4), sequential(computation<linear(16)>, "
         "computation<relu>), add(4)}, add(8)}, add(8)}")
_TWO = f"sequential({_NEST}, {_NEST})"
HUGE = f"sequential(sequential({_TWO}, {_TWO}), sequential({_TWO}, {_TWO}))"  # branching copies multiply


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def space():
    """The Space's modules (``app``, ``explore``, ``chromium``), imported as the Space imports them."""
    sys.path.insert(0, str(SPACE))
    try:
        yield {name: importlib.import_module(name) for name in ("app", "explore", "chromium")}
    finally:
        sys.path.remove(str(SPACE))


@pytest.fixture(scope="module")
def copy_of_embedded(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("surrogates") / "copy-graf"
    load_surrogate(EMBEDDED).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def served(space, copy_of_embedded):
    """(url, SpaceApp) of the running app; stopped after the module."""
    app = space["app"]
    limits = app.Limits(max_chars=6_000, max_lines=60, max_total_chars=200_000, max_steps=400, request_seconds=20.0)
    state = app.SpaceApp(app.AppConfig(extra_surrogates=(copy_of_embedded,), limits=limits))
    demo = app.build_demo(state)
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, ssr_mode=False, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/", state
    finally:
        demo.close()


@pytest.fixture(scope="module")
def client(served):
    from gradio_client import Client

    return Client(served[0], verbose=False)


def _frame(value) -> pd.DataFrame:
    return pd.DataFrame(value["data"], columns=value["headers"])


# ------------------------------------------------------------------------------------- predict
def test_api_lists_the_four_jobs(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/predict", "/rank", "/design", "/explore_top", "/sample", "/seed_architecture"} <= set(endpoints)


def test_predict_scores_with_every_surrogate_and_describes_the_architecture(client, served, copy_of_embedded):
    arch = seed_string("resnet18_no_maxpool")
    summary, table, long_form, picture = client.predict(arch, SHAPE, 10, api_name="/predict")
    table = _frame(table)
    assert list(table["surrogate"]) == list(served[1].surrogates)  # every surrogate that loads...
    assert {EMBEDDED, copy_of_embedded} <= set(table["surrogate"])  # ...including the configured folder
    expected = load_surrogate(EMBEDDED).predict([arch], input_shape=(3, 32, 32), num_classes=10)[0]
    both = table[table["surrogate"].isin([EMBEDDED, copy_of_embedded])]
    assert both["score"].tolist() == pytest.approx([expected, expected], abs=1e-4)
    assert 0 <= table["percentile"][0] <= 100 and "random einspace architectures for 3×32×32" in table["reading"][0]
    assert f"{n_params(parse(arch), (3, 32, 32), 10):,} parameters" in summary
    assert "`(2, 10)`" in summary
    assert long_form == to_long_string(parse(arch), (3, 32, 32))
    assert Path(picture).read_bytes().startswith(PNG_MAGIC)


def test_predict_follows_the_task_shape(client):
    arch = seed_string("wideresnet16_4")
    small = client.predict(arch, "1,8,8", 4, api_name="/predict")
    assert f"{n_params(parse(arch), (1, 8, 8), 4):,} parameters" in small[0] and "`(2, 4)`" in small[0]
    expected = load_surrogate(EMBEDDED).predict([arch], input_shape=(1, 8, 8), num_classes=4)[0]
    assert _frame(small[1])["score"][0] == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(
    "arch, shape, classes, message",
    [
        ("sequential(computation<relu>", SHAPE, 10, "not an einspace architecture in compact notation"),
        (seed_string("vit_d2"), "1,1,128", 10, "does not fit 1×1×128 inputs"),
        ("computation<relu>", "3,32", 10, "Input shape must be three integers"),
        ("computation<relu>", SHAPE, 0, "Classes must be a whole number between 1"),
        ("", SHAPE, 10, "Paste an architecture"),
        ("sequential(" * 700, SHAPE, 10, "this Space accepts at most 6,000"),
        (HUGE, SHAPE, 10, ("too large for this Space: 5,264 op instances (branching copies included); this Space "
                           "accepts at most 5,000")),
    ],
)
def test_predict_refuses_bad_input_with_a_clear_message(client, arch, shape, classes, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=message.replace("(", r"\(").replace(")", r"\)")):
        client.predict(arch, shape, classes, api_name="/predict")


def test_sample_and_seed_buttons(client):
    text, next_seed = client.predict(SHAPE, 10, 7, api_name="/sample")
    assert text == to_string(sample_many(1, (3, 32, 32), seed=7)[0]) and next_seed == 8
    assert client.predict("vit_d2", api_name="/seed_architecture") == seed_string("vit_d2")


# ---------------------------------------------------------------------------------------- rank
def test_rank_sorts_lists_malformed_lines_and_offers_a_csv(client):
    archs = [to_string(a) for a in sample_many(30, (1, 8, 8), seed=11)]
    lines = ["# a comment", *archs[:12], "", "sequential(computation<relu>, computation<linear(10)>", *archs[12:],
             seed_string("mlpmixer_d2"), HUGE]
    text = "\n".join(lines)
    summary, table, csv_path, bad = client.predict(text, None, EMBEDDED, "1,8,8", 10, api_name="/rank")
    table, bad = _frame(table), _frame(bad)
    # malformed and shape-invalid lines are listed with their line numbers and reasons, not dropped
    assert bad["line"].tolist() == [15, 34, 35]
    assert bad["reason"][0].startswith("ParseError") and "ShapeError" in bad["reason"][1]
    assert bad["reason"][2].startswith("TooLarge: 5,264 op instances")
    assert "3 line(s) could not be ranked" in summary and "Ranked **30**" in summary
    # sorted best first, with the surrogate's own scores
    scores = load_surrogate(EMBEDDED).predict(archs, input_shape=(1, 8, 8), num_classes=10)
    assert table["rank"].tolist() == list(range(1, 31))
    assert table["score"].tolist() == pytest.approx(sorted(np.round(scores, 4), reverse=True), abs=1e-4)
    best_line = int(table["line"][0])
    assert lines[best_line - 1] == archs[int(np.argmax(scores))]
    # the CSV has every row, full strings
    with open(csv_path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["architecture"] for r in rows] == [lines[int(n) - 1] for n in table["line"]]
    assert set(rows[0]) == {"rank", "score", "percentile", "params", "flops", "line", "architecture"}


def test_rank_reads_an_uploaded_file(client, tmp_path):
    from gradio_client import handle_file

    archs = [to_string(a) for a in sample_many(5, (3, 32, 32), seed=2)]
    path = tmp_path / "archs.txt"
    path.write_text("\n".join(archs) + "\n", encoding="utf-8")
    summary, table, csv_path, bad = client.predict("ignored when a file is given", handle_file(str(path)), EMBEDDED,
                                                   SHAPE, 10, api_name="/rank")
    assert sorted(_frame(table)["line"]) == [1, 2, 3, 4, 5] and not _frame(bad).shape[0]
    assert sorted(pd.read_csv(csv_path)["architecture"]) == sorted(archs)
    assert "Every line was valid" in summary


@pytest.mark.parametrize(
    "text, message",
    [
        ("\n".join(["computation<relu>"] * 61), "61 architectures given; this Space ranks at most 60"),
        ("# only a comment\n\n", "Nothing to rank"),
        ("sequential(\nbranching(", "None of the 2 lines is a valid architecture"),
    ],
)
def test_rank_limits_and_empty_input(client, text, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=message):
        client.predict(text, None, EMBEDDED, SHAPE, 10, api_name="/rank")


# -------------------------------------------------------------------------------------- design
def test_design_returns_the_trace_and_a_valid_best_architecture(client):
    summary, trace, best, picture, improvements = client.predict(
        EMBEDDED, "1,16,16", 4, 150, 20, 3, "random samples", api_name="/design")
    assert "Scored **150** architectures" in summary and "no training" in summary
    score = load_surrogate(EMBEDDED).predict([best], input_shape=(1, 16, 16), num_classes=4)[0]
    assert f"Best score {score:.4f}" in summary
    improvements = _frame(improvements)
    assert improvements["score"].is_monotonic_increasing and improvements["score"].iloc[-1] <= score + 1e-4
    for path in (trace, picture):
        assert Path(path).read_bytes().startswith(PNG_MAGIC)


def test_design_from_a_seed_architecture_and_its_limits(client):
    from gradio_client.exceptions import AppError

    summary, *_ = client.predict(EMBEDDED, SHAPE, 10, 40, 10, 0, "resnet18_no_maxpool", api_name="/design")
    assert "Scored **40**" in summary
    with pytest.raises(AppError, match="greater than maximum value 400"):
        client.predict(EMBEDDED, SHAPE, 10, 401, 20, 0, "random samples", api_name="/design")
    with pytest.raises(AppError, match="does not fit 1×8×8 inputs"):
        client.predict(EMBEDDED, "1,8,8", 10, 40, 10, 0, "mlpmixer_d2", api_name="/design")
    with pytest.raises(AppError, match="nope is not in the list of choices"):
        client.predict("nope", SHAPE, 10, 40, 10, 0, "random samples", api_name="/design")


# ------------------------------------------------------------------------------------- explore
def test_explore_top_architectures_match_the_corpus(client):
    from surrogate_hub.corpus import load

    table = _frame(client.predict("digits", 5, api_name="/explore_top"))
    frame = load(ROOT / "corpus" / "einspace-offline-v2", ok_only=True).to_pandas()
    best = frame[frame["task"] == "digits"].groupby("arch")["val_acc"].mean().sort_values(ascending=False)
    assert table["val_acc"].tolist() == pytest.approx(best.head(5).round(4).tolist())
    assert set(table["architecture"]) <= set(best[best >= best.iloc[4]].index)  # the top 5, ties included
    with pytest.raises(Exception, match="Unknown task"):
        client.predict("imagenet", 5, api_name="/explore_top")


def test_explore_views(served):
    state = served[1]
    assert state.corpus.available and state.corpus.tau is not None
    assert len(state.corpus.tasks) == 8
    table = state.evaluation.table
    assert table["mean τ (held-out task)"].is_monotonic_decreasing
    assert {"graf-xgb", "params", "random"} <= set(table["method"])


def test_explore_says_why_when_the_corpus_is_missing(space, tmp_path):
    explore = space["explore"]
    missing = explore.CorpusView.load(str(tmp_path / "no-corpus"), ROOT)
    assert not missing.available and "SURROGATE_HUB_CORPUS" in missing.message and "no-corpus" in missing.message
    offline = explore.CorpusView.load("nobody/no-such-corpus", ROOT)  # HF_HUB_OFFLINE=1 in tests
    assert not offline.available and "nobody/no-such-corpus" in offline.message


def test_explore_loads_a_corpus_from_the_hub(space, hub):
    from huggingface_hub import HfApi

    repo = hub.new_repo_id("corpus")
    folder = ROOT / "corpus" / "einspace-offline-v2"
    HfApi().create_repo(repo, repo_type="dataset")
    HfApi().upload_folder(repo_id=repo, folder_path=str(folder), repo_type="dataset",
                          allow_patterns=["data/*", "report/tau_matrix.json", "README.md"])
    view = space["explore"].CorpusView.load(repo, ROOT)
    assert view.available, view.message
    assert view.tau is not None and view.tau["tasks"] == view.tasks
    assert f"Corpus `{repo}`: 5,408 evaluations" in view.message


def test_evaluation_falls_back_to_the_surrogates_configs(space, served, tmp_path):
    view = space["explore"].evaluation_table(tmp_path / "missing.json", ROOT, served[1].surrogates)
    assert view.table["surrogate"].tolist()[0] == EMBEDDED
    metrics = load_surrogate(EMBEDDED).config.metrics
    assert view.table["digits"][0] == pytest.approx(metrics["kendall_tau_loo"]["digits"], abs=1e-3)


# --------------------------------------------------------------------------------- config, load
def test_config_from_environment(space):
    app = space["app"]
    cfg = app.AppConfig.from_env({"SURROGATE_HUB_SURROGATES": "a/b, ./c ,", "SURROGATE_HUB_CORPUS": "org/corpus",
                                  "SURROGATE_HUB_MAX_LINES": "10", "SURROGATE_HUB_REQUEST_SECONDS": "2.5",
                                  "SURROGATE_HUB_MAX_OP_INSTANCES": "300"})
    assert cfg.extra_surrogates == ("a/b", "./c") and cfg.corpus == "org/corpus"
    assert cfg.limits.max_lines == 10 and cfg.limits.request_seconds == 2.5 and cfg.limits.max_op_instances == 300
    with pytest.raises(SystemExit, match="SURROGATE_HUB_MAX_STEPS must be a number"):
        app.AppConfig.from_env({"SURROGATE_HUB_MAX_STEPS": "many"})
    with pytest.raises(SystemExit, match="must be positive"):
        app.AppConfig.from_env({"SURROGATE_HUB_MAX_LINES": "0"})


def test_a_surrogate_that_does_not_load_is_reported(space, served, tmp_path):
    loaded, failed = space["app"].load_surrogates([str(tmp_path / "nothing-here")])
    assert EMBEDDED in loaded and loaded[EMBEDDED].seconds_per_arch > 0
    assert "no such folder" in failed[str(tmp_path / "nothing-here")]


def test_hub_surrogates_load_when_configured(space, hub, tmp_path):
    from huggingface_hub import HfApi

    repo = hub.new_repo_id("graf")
    load_surrogate(EMBEDDED).save_pretrained(tmp_path / "m")
    HfApi().create_repo(repo)
    HfApi().upload_folder(repo_id=repo, folder_path=str(tmp_path / "m"))
    app = space["app"]
    cfg = app.AppConfig.from_env({"SURROGATE_HUB_SURROGATES": repo})
    loaded, failed = app.load_surrogates(cfg.extra_surrogates)
    # registered surrogates first (others may be registered and fail offline), then the configured one
    assert list(loaded)[0] == EMBEDDED and list(loaded)[-1] == repo and repo not in failed
    arch = seed_string("vit_d2")
    kw = {"input_shape": (3, 32, 32), "num_classes": 10}
    assert loaded[repo].model.predict([arch], **kw) == pytest.approx(loaded[EMBEDDED].model.predict([arch], **kw))


def test_a_surrogate_that_needs_zero_cost_proxies_is_explained(space, tmp_path):
    from surrogate_hub.surrogates import GrafSurrogate

    archs = [to_string(a) for a in sample_many(40, (1, 8, 8), seed=0)]
    rng = np.random.default_rng(0)
    sur = GrafSurrogate(zcp=("synflow",), xgb_params={"n_estimators": 5})
    sur.fit(archs, rng.uniform(0.1, 0.9, 40), ["t"] * 40, input_shapes=(1, 8, 8), num_classes=10,
            zcp=rng.normal(size=(40, 1)))
    sur.save_pretrained(tmp_path / "zcp")
    loaded, failed = space["app"].load_surrogates([str(tmp_path / "zcp")])
    assert str(tmp_path / "zcp") not in loaded
    assert "needs zero-cost proxies (synflow)" in failed[str(tmp_path / "zcp")]


# ------------------------------------------------------------------------------------ chromium
@pytest.fixture(scope="module")
def chromium(space):
    if space["chromium"].chromium_binary() is None:
        pytest.fail("chromium is not installed: apt-get install -y chromium (.ci/run installs it when missing)")
    return space["chromium"]


def test_page_loads_in_chromium_with_title_and_tabs(chromium, served):
    dom = chromium.dump_dom(served[0])
    assert "<title>surrogate-hub</title>" in dom
    assert "Pretrained <strong>surrogates</strong>" in dom
    for tab in ("Predict", "Rank", "Design", "Explore"):
        assert f">{tab}<" in dom or f">{tab} <" in dom, tab


def test_deep_link_opens_a_tab_with_its_example_and_a_screenshot_is_taken(chromium, served, tmp_path):
    with chromium.Browser(width=1280, height=900) as browser:
        browser.open(served[0] + "?tab=rank&example=1", until="document.body.innerText.includes('Ranked ')",
                     timeout=90)
        selected = browser.evaluate("document.querySelector('[role=tab][aria-selected=true]').innerText")
        assert selected.strip() == "Rank"
        assert "could not be ranked" in browser.evaluate("document.body.innerText")
        png = browser.screenshot(tmp_path / "rank.png")
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    assert png.startswith(PNG_MAGIC) and image.size[0] == 1280 and image.size[1] >= 900
    assert len(image.convert("L").getcolors(maxcolors=256)) > 50  # a rendered page, not a blank one


# ----------------------------------------------------------------------------- python app.py
def test_python_app_py_starts_the_space(tmp_path):
    port = _free_port()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(SPACE / "app.py")], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stdout.read()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    assert response.status == 200 and b"surrogate-hub" in response.read()
                    break
            except OSError:
                assert time.monotonic() < deadline, "the app did not answer within 120 s"
                time.sleep(0.5)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# ------------------------------------------------------------------------------ Space metadata
def test_space_readme_header_and_requirements():
    import gradio
    import yaml

    text = (SPACE / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    header = yaml.safe_load(text.split("---\n")[1])
    assert header["sdk"] == "gradio" and header["app_file"] == "app.py" and (SPACE / header["app_file"]).is_file()
    assert header["sdk_version"] == gradio.__version__  # the version the tests ran against
    from surrogate_hub.surrogates import get_pretrained

    assert header["models"] == [get_pretrained(EMBEDDED).repo_id]
    assert header["datasets"] == [space_explore_default_repo()]
    for key in ("title", "emoji", "colorFrom", "colorTo"):
        assert header[key]
    for name in ("screenshot.png", "screenshot_rank.png", "screenshot_design.png", "screenshot_explore.png"):
        assert (SPACE / name).read_bytes().startswith(PNG_MAGIC) and f"({name})" in text
    requirements = [r for r in (SPACE / "requirements.txt").read_text().splitlines() if r and not r.startswith("#")]
    assert requirements == ["surrogate-hub[space]==0.1.0"]
    import surrogate_hub

    assert surrogate_hub.__version__ == "0.1.0"


def space_explore_default_repo() -> str:
    sys.path.insert(0, str(SPACE))
    try:
        return importlib.import_module("explore").DEFAULT_CORPUS_REPO
    finally:
        sys.path.remove(str(SPACE))
