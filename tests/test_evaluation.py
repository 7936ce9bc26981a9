"""Evaluation in the library: metrics on hand-made data, folds without leakage, the unseen subset,
noise ceilings, the feature cache, the method registry and ``surrogate-hub evaluate``.

The fixture corpus (``small_corpus``) is written to a tmp folder in the real layout (parquet shards
with the corpus schema, ``zcp/`` proxy files) and read back with ``surrogate_hub.corpus.load``:
three tasks at input shape 1x8x8; 24 architectures shared by every task and 8 specific to each
(unseen in every leave-one-task-out fold); accuracy grows with log(parameters) plus noise; 12 shared
architectures per task carry a second seed; plus one failed and one zero-accuracy record per task.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from surrogate_hub.evaluation import (
    UnknownMethodError,
    evaluate,
    evaluate_corpus,
    kendall_tau,
    load_corpus,
    loo_folds,
    markdown,
    method,
    noise_ceiling,
    precision_at,
    ranking_metrics,
    resolve,
    spearman_rho,
    unregister,
    unseen_mask,
    within_folds,
)

TASKS = ("alpha", "beta", "gamma")
SHAPE = (1, 8, 8)
CLASSES = 4
N_SHARED, N_SPECIFIC, N_TWO_SEEDS = 24, 8, 12
PAPER = ("grad_norm", "snip", "grasp", "fisher", "jacob_cov", "plain", "synflow")


def _archs(n: int) -> list[str]:
    from surrogate_hub.space import sample_many, to_string

    out: dict[str, None] = {}
    seed = 0
    while len(out) < n:
        for a in sample_many(n, SHAPE, seed=seed):
            out.setdefault(to_string(a))
        seed += 1
    return list(out)[:n]


def _records() -> tuple[list[dict], list[dict]]:
    """Corpus records and zero-cost proxy rows of the fixture corpus."""
    from surrogate_hub.space import flops, n_params, parse

    archs = _archs(N_SHARED + N_SPECIFIC * len(TASKS))
    shared = archs[:N_SHARED]
    rng = np.random.default_rng(7)
    records, proxies = [], []
    for ti, task in enumerate(TASKS):
        own = archs[N_SHARED + ti * N_SPECIFIC : N_SHARED + (ti + 1) * N_SPECIFIC]
        for i, arch in enumerate(shared + own):
            a = parse(arch)
            params, fl = n_params(a, SHAPE, CLASSES), flops(a, SHAPE, CLASSES)
            base = 0.05 * math.log1p(params) + 0.1
            for seed in (0, 1) if i < N_TWO_SEEDS else (0,):
                job = f"{task}/{'shared' if i < N_SHARED else 'random'}/{i}-s{seed}"
                acc = float(np.clip(base + rng.normal(0, 0.02), 0.01, 1.0))
                records.append({"job_id": job, "arch": arch, "task": task, "input_shape": list(SHAPE), "num_classes": CLASSES,
                                    "seed": seed, "val_acc": acc, "n_params": params, "flops": fl, "status": "ok", "origin": "random",
                                    "pool": "shared" if i < N_SHARED else "task", "epochs": 1})
                zcp = {f"zcp_{p}": float(rng.normal()) for p in PAPER}
                zcp["zcp_synflow"] = math.log1p(params)
                zcp["zcp_nwot"] = float("nan") if i % 4 == 0 else float(rng.normal())
                proxies.append({"job_id": job, **zcp})
        records.append({"job_id": f"{task}/random/failed", "arch": archs[0], "task": task, "input_shape": list(SHAPE),
                            "num_classes": CLASSES, "seed": 0, "val_acc": None, "status": "too_large", "origin": "random"})
        records.append({"job_id": f"{task}/random/zero", "arch": archs[1], "task": task, "input_shape": list(SHAPE),
                            "num_classes": CLASSES, "seed": 2, "val_acc": 0.0, "n_params": 1, "flops": 1, "status": "ok", "origin": "random"})
    return records, proxies


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from surrogate_hub.corpus.schema import arrow_schema, normalise_record

    root = tmp_path_factory.mktemp("corpus")
    (root / "data").mkdir()
    (root / "zcp").mkdir()
    records, proxies = _records()
    rows = [normalise_record(r) for r in records]
    half = len(rows) // 2
    pq.write_table(pa.Table.from_pylist(rows[:half], schema=arrow_schema()), root / "data" / "shard-00000.parquet")
    pq.write_table(pa.Table.from_pylist(rows[half:], schema=arrow_schema()), root / "data" / "shard-00001.parquet")
    pq.write_table(pa.Table.from_pylist(proxies), root / "zcp" / "zcp-00000.parquet")
    return root


@pytest.fixture(scope="module")
def data(small_corpus, tmp_path_factory):
    return load_corpus(small_corpus, cache_dir=tmp_path_factory.mktemp("cache"))


# ------------------------------------------------------------------------------------------ metrics
def test_metrics_on_hand_made_data() -> None:
    acc = np.arange(20, dtype=float)
    assert kendall_tau(acc, acc) == pytest.approx(1.0) and spearman_rho(acc * 3 + 1, acc) == pytest.approx(1.0)
    assert kendall_tau(-acc, acc) == pytest.approx(-1.0) and spearman_rho(-acc, acc) == pytest.approx(-1.0)
    # tau-b by hand: one discordant pair of six
    assert kendall_tau([1, 2, 4, 3], [1, 2, 3, 4]) == pytest.approx(4 / 6)
    # P@10% on 20 rows: k = 2, the true best two are rows 19 and 18; the scores find 19 but not 18
    scores = acc.copy()
    scores[18] = -1
    assert precision_at(acc, acc) == 1.0 and precision_at(scores, acc) == 0.5 and precision_at(-acc, acc) == 0.0
    assert precision_at(np.arange(3.0), np.arange(3.0), 0.1) == 1.0  # k = max(1, round(0.3)) = 1
    # constant scores: undefined, never a made-up 0
    assert kendall_tau(np.ones(5), np.arange(5.0)) is None and spearman_rho(np.ones(5), np.arange(5.0)) is None


def test_nan_scores_are_counted_not_ranked() -> None:
    acc = np.arange(10, dtype=float)
    scores = acc.copy()
    scores[[0, 9]] = np.nan  # the method cannot score two rows, one of them the best
    m = ranking_metrics(scores, acc)
    assert (m["n"], m["n_scored"]) == (10, 8)
    assert m["tau"] == pytest.approx(1.0)  # on the scored rows; NaN is not a tie at the bottom
    with pytest.raises(ValueError, match="NaN"):
        kendall_tau(scores, acc)


def test_noise_ceiling() -> None:
    a = np.arange(12, dtype=float)
    b = a.copy()
    b[[0, 1]] = b[[1, 0]]  # one discordant pair of 66
    assert noise_ceiling(a, a) == pytest.approx(1.0)
    assert noise_ceiling(a, b) == pytest.approx(64 / 66)
    assert noise_ceiling(a[:5], b[:5]) is None  # fewer than MIN_CEILING_PAIRS
    assert noise_ceiling(a[:5], b[:5], min_pairs=2) == pytest.approx(8 / 10)


# --------------------------------------------------------------------------------------------- data
def test_rows_fold_seeds_and_drop_unusable_records(data) -> None:
    records, _ = _records()
    per_task = N_SHARED + N_SPECIFIC
    assert data.tasks == TASKS and len(data.rows) == per_task * len(TASKS)
    for t in TASKS:
        s = data.stats[t]
        assert s["records"] == per_task + N_TWO_SEEDS + 2 and s["failed"] == 1 and s["zero_acc"] == 1
        assert s["rows"] == per_task and s["two_seed_rows"] == N_TWO_SEEDS
    # a two-seed architecture is one row labelled with the mean of its seeds
    r0 = [r for r in records if r["task"] == "alpha" and r["job_id"].startswith("alpha/shared/0-")]
    i = next(i for i, (a, t) in enumerate(zip(data.rows.arch, data.rows.task)) if a == r0[0]["arch"] and t == "alpha")
    assert data.rows.n_seeds[i] == 2 and data.rows.val_acc[i] == pytest.approx(np.mean([r["val_acc"] for r in r0]))
    pairs = data.seed_pairs["alpha"]
    assert pairs.shape == (N_TWO_SEEDS, 2)
    by_seed = {r["seed"]: r["val_acc"] for r in r0}
    assert (by_seed[0], by_seed[1]) in set(map(tuple, pairs.tolist()))  # (lowest seed, next seed)
    assert np.isnan(data.rows.zcp["nwot"]).sum() > 0 and not np.isnan(data.rows.zcp["synflow"]).any()


def test_feature_cache_matches_the_surrogate_and_is_reused(small_corpus, tmp_path) -> None:
    from surrogate_hub.surrogates.graf_xgb import GrafSurrogate

    first = load_corpus(small_corpus, cache_dir=tmp_path)
    files = list(tmp_path.glob("graf-*.npz"))
    assert len(files) == 1 and not first.rows.cache.from_disk
    again = load_corpus(small_corpus, cache_dir=tmp_path)
    assert again.rows.cache.from_disk and np.array_equal(again.rows.graf(), first.rows.graf())
    rows = first.rows.take(np.arange(10))
    expected = GrafSurrogate().features(rows.arch, input_shapes=SHAPE, num_classes=CLASSES)
    assert np.array_equal(rows.graf(), expected)
    assert np.array_equal(rows.graf(extras=False), expected[:, :385])
    # another set of rows is another cache file, never a stale one
    load_corpus(small_corpus, cache_dir=tmp_path, tasks=["alpha"])
    assert len(list(tmp_path.glob("graf-*.npz"))) == 2


def test_unknown_task_is_a_clear_error(small_corpus, tmp_path) -> None:
    with pytest.raises(ValueError, match=r"unknown task\(s\) \['delta'\]; the corpus has \['alpha', 'beta', 'gamma'\]"):
        load_corpus(small_corpus, cache_dir=tmp_path, tasks=["delta"])


# -------------------------------------------------------------------------------------------- folds
def test_folds_hold_out_the_task_and_partition_rows(data) -> None:
    task = np.asarray(data.rows.task)
    folds = loo_folds(data)
    assert [f[0] for f in folds] == list(TASKS)
    for t, tr, te in folds:
        assert set(task[tr]) == set(TASKS) - {t} and set(task[te]) == {t}
        assert len(tr) + len(te) == len(task) and not set(tr) & set(te)
        train, test = data.rows.take(tr), data.rows.take(te)
        unseen = unseen_mask(train, test)
        assert unseen.sum() == N_SPECIFIC  # the task's own architectures; the shared ones were trained on
        assert not set(np.asarray(test.arch)[unseen]) & set(train.arch)
    idx = data.task_index("beta")
    splits = within_folds(idx, 5, seed=3)
    tested = np.concatenate([te for _, te in splits])
    assert sorted(tested) == sorted(idx)  # every row tested exactly once
    for tr, te in splits:
        assert not set(tr) & set(te) and set(tr) | set(te) == set(idx)
    assert [te.tolist() for _, te in within_folds(idx, 5, seed=3)] == [te.tolist() for _, te in splits]


def test_methods_see_only_training_labels(data) -> None:
    seen: list[tuple[set, set, bool]] = []

    @method("test-recorder", fitted=True, default=False)
    def _recorder(train, test, seed):
        assert "val_acc" not in test
        with pytest.raises(KeyError, match="hidden on test rows"):
            test["val_acc"]
        seen.append((set(train.task), set(test.task), bool(set(zip(train.arch, train.task)) & set(zip(test.arch, test.task)))))
        return np.asarray(test.n_params, dtype=float)

    try:
        res = evaluate(data, ["test-recorder"], folds=3)
    finally:
        unregister("test-recorder")
    loo, within = seen[: len(TASKS)], seen[len(TASKS) :]
    for (train_tasks, test_tasks, overlap), t in zip(loo, TASKS):
        assert test_tasks == {t} and t not in train_tasks and not overlap
    assert len(within) == 3 * len(TASKS)
    for train_tasks, test_tasks, overlap in within:
        assert train_tasks == test_tasks and not overlap  # a two-seed architecture never straddles folds
    # the recorder scores by parameters: its figures are the params baseline's
    base = evaluate(data, ["params"])
    assert res["methods"]["test-recorder"]["loo"]["tau"] == base["methods"]["params"]["loo"]["tau"]
    assert base["methods"]["params"]["within"] is None


# ---------------------------------------------------------------------------------------- evaluate
def test_evaluate_reports_every_column(data) -> None:
    res = evaluate(data, ["graf-xgb", "params", "zcp:synflow", "zcp:nwot", "random"], folds=3)
    json.dumps(res)  # the document is plain JSON
    g = res["methods"]["graf-xgb"]
    assert set(g["loo"]["tau"]["by_task"]) == set(TASKS) and g["loo"]["tau"]["mean"] is not None
    assert g["loo"]["n_unseen"] == {t: N_SPECIFIC for t in TASKS} and g["loo"]["n"] == {t: N_SHARED + N_SPECIFIC for t in TASKS}
    assert all(v is not None for v in g["loo"]["tau_unseen"]["by_task"].values())
    assert g["within"]["folds"] == 3 and set(g["within"]["tau"]["by_task"]) == set(TASKS)
    assert res["methods"]["params"]["within"] is None and res["methods"]["zcp:synflow"]["within"] is None
    # the synthetic accuracy grows with log(params): the baselines' tau is the tau against the labels
    acc = data.rows.val_acc[data.task_index("alpha")]
    p = data.rows.n_params[data.task_index("alpha")]
    assert res["methods"]["params"]["loo"]["tau"]["by_task"]["alpha"] == pytest.approx(kendall_tau(p, acc))
    assert res["methods"]["zcp:synflow"]["loo"]["tau"] == res["methods"]["params"]["loo"]["tau"]  # a monotone map
    assert res["methods"]["params"]["loo"]["tau"]["mean"] > 0.5
    # coverage: nwot is missing for every 4th architecture, and reported
    nw = res["methods"]["zcp:nwot"]["loo"]
    assert all(nw["n_scored"][t] < nw["n"][t] for t in TASKS)
    assert res["coverage"]["nwot"]["by_task"] == {t: nw["n"][t] - nw["n_scored"][t] for t in TASKS}
    # noise ceiling from the twelve two-seed architectures of each task, and tau / ceiling
    for t in TASKS:
        pairs = data.seed_pairs[t]
        assert res["ceiling"]["n_pairs"][t] == N_TWO_SEEDS
        assert res["ceiling"]["by_task"][t] == pytest.approx(kendall_tau(pairs[:, 0], pairs[:, 1]))
        tau = res["methods"]["params"]["loo"]["tau"]["by_task"][t]
        assert res["methods"]["params"]["loo"]["tau_over_ceiling"]["by_task"][t] == pytest.approx(tau / res["ceiling"]["by_task"][t])
    # the earlier layout, for its readers
    assert res["loo"]["graf-xgb"]["alpha"]["tau"] == g["loo"]["tau"]["by_task"]["alpha"]
    assert res["loo"]["graf-xgb"]["mean"]["tau"] == g["loo"]["tau"]["mean"] and "params" not in res["within"]
    md = markdown(res)
    assert "No noise ceiling" not in md and "| graf-xgb |" in md and "Within-task (3-fold" in md
    assert "- `graf-xgb`: XGBoost on GRAF" in md  # every method is described


def test_corpus_without_second_seeds_has_no_ceiling(data) -> None:
    from dataclasses import replace

    single = replace(data, seed_pairs={t: np.empty((0, 2)) for t in TASKS})
    res = evaluate(single, ["params"])
    assert res["ceiling"]["by_task"] == {t: None for t in TASKS} and res["ceiling"]["mean"] is None
    assert res["methods"]["params"]["loo"]["tau_over_ceiling"]["mean"] is None
    assert "No noise ceiling" in markdown(res)


def test_graf_zcp_xgb_uses_the_paper_proxies(data) -> None:
    from surrogate_hub.evaluation.methods import PAPER_PROXIES as ours
    from surrogate_hub.features.proxies import PAPER_PROXIES

    assert ours == PAPER_PROXIES
    res = evaluate(data, ["graf-zcp-xgb"], within=False)
    assert res["methods"]["graf-zcp-xgb"]["loo"]["tau"]["mean"] is not None


# ---------------------------------------------------------------------------------------- registry
def test_requested_methods_are_checked_after_registration(data) -> None:
    # zcp:<name> exists only once the corpus is known: asking for it must work (the earlier bug)
    res = evaluate(data, ["zcp:snip"])
    assert list(res["methods"]) == ["zcp:snip"]
    with pytest.raises(UnknownMethodError, match=r"unknown method\(s\) nope; known: .*graf-xgb.*params.*zcp:snip"):
        evaluate(data, ["params", "nope"])
    with pytest.raises(ValueError, match="needs the corpus column"):
        resolve(["graf-zcp-xgb"], ["n_params", "flops"])
    run, skipped = resolve(None, ["n_params", "flops"])
    assert "graf-zcp-xgb" in skipped and "graf-xgb" in [s.name for s in run]
    with pytest.raises(ValueError, match="already registered"):
        method("params")(lambda train, test, seed: test.n_params)


def test_a_method_of_the_old_harness_ports_unchanged(data) -> None:
    """The earlier ``fn(train, test, seed)`` on dicts of columns runs as is; fitting the uncached
    surrogate this way gives exactly the built-in (feature-cached) graf-xgb figures."""
    from surrogate_hub.surrogates.graf_xgb import GrafSurrogate

    @method("test-ported")
    def _ported(train, test, seed):
        sur = GrafSurrogate(extras=True, xgb_params={"seed": seed})
        sur.fit(train["arch"], train["val_acc"], train["task"], input_shapes=train["input_shape"],
                num_classes=train["num_classes"])
        return sur.predict(test["arch"], input_shape=test["input_shape"][0], num_classes=test["num_classes"][0])

    try:
        res = evaluate(data, ["test-ported", "graf-xgb"], within=False, seed=1)
    finally:
        unregister("test-ported")
    ported, builtin = res["methods"]["test-ported"], res["methods"]["graf-xgb"]
    assert ported["fitted"] and ported["loo"]["tau"] == builtin["loo"]["tau"]
    assert ported["loo"]["tau_unseen"] == builtin["loo"]["tau_unseen"]


def test_quick_run(small_corpus, tmp_path) -> None:
    res = evaluate_corpus(small_corpus, quick=True, cache_dir=tmp_path)
    assert res["quick"] and set(res["methods"]) == {"graf-xgb", "params", "flops", "random"}
    assert res["methods"]["graf-xgb"]["within"]["folds"] == 3


# --------------------------------------------------------------------------------------------- CLI
def test_cli_writes_results(small_corpus, tmp_path, capsys, monkeypatch) -> None:
    from surrogate_hub.cli import main

    monkeypatch.setenv("SURROGATE_HUB_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "results"
    assert main(["evaluate", str(small_corpus), "--methods", "params", "random", "--tasks", "alpha", "beta",
                 "--out", str(out)]) == 0
    assert "| params |" in capsys.readouterr().out
    res = json.loads((out / "surrogates.json").read_text())
    assert res["tasks"] == ["alpha", "beta"] and set(res["methods"]) == {"params", "random"}
    assert res["methods"]["params"]["loo"]["tau"]["mean"] > 0.5 and (out / "surrogates.md").is_file()
    assert list((tmp_path / "cache" / "evaluation").glob("graf-*.npz"))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--methods", "params", "bogus"], "unknown method(s) bogus; known:"),
        (["--tasks", "delta"], "unknown task(s) ['delta']"),
        (["--methods", "params", "--folds", "1"], "--folds must be at least 2"),
        (["--methods", "params", "--shard", "0/2"], "--shard needs --fold-cache"),
        (["--methods", "params", "--shard", "3/2", "--fold-cache", "x"], "--shard must be I/N"),
    ],
)
def test_cli_user_errors_are_one_line(small_corpus, tmp_path, capsys, monkeypatch, argv, message) -> None:
    from surrogate_hub.cli import main

    monkeypatch.setenv("SURROGATE_HUB_CACHE", str(tmp_path))
    assert main(["evaluate", str(small_corpus), *argv]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]


@pytest.mark.parametrize(("where", "message"), [("", "no corpus shards under data/"), ("missing", "no such corpus folder")])
def test_cli_rejects_a_folder_that_is_no_corpus(tmp_path, capsys, where, message) -> None:
    from surrogate_hub.cli import main

    assert main(["evaluate", str(tmp_path / where)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]


def test_cli_lists_methods_including_registered_ones(capsys) -> None:
    from surrogate_hub.cli import main

    assert main(["evaluate", "--list-methods", "--import", "surrogate_hub.evaluation.methods"]) == 0
    names = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()]
    assert {"graf-xgb", "graf-zcp-xgb", "params", "flops", "random", "zcp:<proxy>"} <= set(names)


# ------------------------------------------------------------------------------ stored folds, merge
def test_fold_store_shards_resume_and_equal_one_run(data, tmp_path) -> None:
    from surrogate_hub.evaluation import FoldStore, FoldStoreMismatch, merge_results

    calls: list[int] = []

    @method("counting-params", fitted=True, description="log parameters; counts its fold fits")
    def _counting(train, test, seed):
        calls.append(len(test))
        return np.log(test.n_params)

    try:
        plain = evaluate(data, ["counting-params", "params"], folds=3)
        n_folds = len(TASKS) * (1 + 3)  # leave-one-task-out + within-task folds
        assert len(calls) == n_folds
        tag = {"content_hash": data.content_hash, "seed": 0, "folds": 3}
        shard0 = evaluate(data, ["counting-params", "params"], folds=3, store=FoldStore(tmp_path, tag, shard=(0, 2)))
        # half of every method's folds belong to the other shard: both methods are incomplete
        assert shard0["incomplete"] == ["counting-params", "params"] and shard0["methods"] == {}
        assert len(calls) == n_folds + n_folds // 2
        evaluate(data, ["counting-params", "params"], folds=3, store=FoldStore(tmp_path, tag, shard=(1, 2)))
        assert len(calls) == 2 * n_folds
        store = FoldStore(tmp_path, tag)
        whole = evaluate(data, ["counting-params", "params"], folds=3, store=store)
        assert len(calls) == 2 * n_folds and store.read == n_folds + len(TASKS) and store.computed == 0
        assert "incomplete" not in whole
        for name in ("counting-params", "params"):
            assert whole["methods"][name]["loo"] == plain["methods"][name]["loo"]
            assert whole["methods"][name]["within"] == plain["methods"][name]["within"]
        with pytest.raises(FoldStoreMismatch, match="stored with other settings"):
            evaluate(data, ["params"], folds=3, store=FoldStore(tmp_path, {**tag, "seed": 1}))
        # a method's own settings tag its folds alone: changing them is a mismatch for that method only
        own = tmp_path / "own"
        evaluate(data, ["counting-params", "params"], folds=3, store=FoldStore(own, tag, method_tags={"counting-params": {"lr": 1}}))
        with pytest.raises(FoldStoreMismatch, match=r"counting-params.*'method': \{'lr': 1\}"):
            evaluate(data, ["counting-params"], folds=3, store=FoldStore(own, tag, method_tags={"counting-params": {"lr": 2}}))
        same = FoldStore(own, tag, method_tags={"counting-params": {"lr": 1}, "other": {"lr": 3}})
        fits = len(calls)
        evaluate(data, ["counting-params", "params"], folds=3, store=same)
        assert same.computed == 0 and same.read == n_folds + len(TASKS) and len(calls) == fits
        with pytest.raises(ValueError, match="shard must be"):
            FoldStore(tmp_path, tag, shard=(2, 2))
    finally:
        unregister("counting-params")
    # merging adds a method to an existing document and refuses documents of other folds
    only_params = evaluate(data, ["params", "random"], folds=3)
    merged = merge_results(only_params, whole)
    assert set(merged["methods"]) == {"params", "random", "counting-params"}
    assert merged["loo"]["counting-params"]["mean"]["tau"] == whole["methods"]["counting-params"]["loo"]["tau"]["mean"]
    assert "counting-params" in merged["within"] and "| counting-params |" in markdown(merged)
    with pytest.raises(ValueError, match="differ in folds"):
        merge_results(only_params, evaluate(data, ["params"], folds=2))


def test_cli_shards_then_assembles_from_the_fold_cache(small_corpus, tmp_path, capsys, monkeypatch) -> None:
    from surrogate_hub.cli import main

    monkeypatch.setenv("SURROGATE_HUB_CACHE", str(tmp_path / "cache"))
    common = ["evaluate", str(small_corpus), "--methods", "graf-xgb", "params", "--folds", "3",
              "--fold-cache", str(tmp_path / "folds")]
    assert main([*common, "--shard", "0/2"]) == 0
    assert "rerun without --shard" in capsys.readouterr().out
    n_first = len(list((tmp_path / "folds").rglob("*.json")))
    assert main([*common, "--shard", "1/2"]) == 0
    # graf-xgb: 3 leave-one-task-out + 3 x 3 within-task folds, params 3: split 6 + 2 and 6 + 1, each once
    assert n_first == 8 and len(list((tmp_path / "folds").rglob("*.json"))) == 12 + 3
    assert main([*common, "--out", str(tmp_path / "r")]) == 0  # reads them all back
    res = json.loads((tmp_path / "r" / "surrogates.json").read_text())
    plain = evaluate_corpus(small_corpus, ["graf-xgb", "params"], folds=3, cache_dir=tmp_path / "cache2")
    assert res["methods"]["graf-xgb"]["loo"] == plain["methods"]["graf-xgb"]["loo"]
    assert res["methods"]["graf-xgb"]["within"] == plain["methods"]["graf-xgb"]["within"]
