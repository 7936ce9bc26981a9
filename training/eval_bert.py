"""Evaluate the BERT surrogate like ``training/evaluate.py`` does, one fold at a time: resumable and
written after every fold, leave-one-task-out folds first, then the within-task folds (CPU-hours are
scarce; a run that is stopped keeps what it finished). When every fold is done, the ``bert`` entry
is written to ``benchmarks/results/bert_eval.{json,md}`` (the layout of the earlier harness; its v1 figures
are copied into ``surrogates.json`` under ``methods.bert``).

    python training/eval_bert.py corpus/einspace-offline-v1 --base runs/einspace-mlm --epochs 3 --lr 3e-4 \
        [--progress runs/eval_bert.json] [--within] [--name bert]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from _common import RESULTS  # noqa: E402

from surrogate_hub.evaluation.metrics import ranking_metrics  # noqa: E402
from surrogate_hub.evaluation.methods import BERT_SETTINGS  # noqa: E402


def _rows(ds, columns: list[str]) -> dict[str, list]:
    return {c: ds[c] for c in columns}


def _take(rows: dict, idx: np.ndarray) -> dict:
    return {c: [v[i] for i in idx] for c, v in rows.items()}


def _metrics(scores: np.ndarray, acc: np.ndarray) -> dict[str, float | None]:
    m = ranking_metrics(scores, acc)
    return {k: m[k] for k in ("tau", "rho", "p_at_10")}


def _fit_predict(train: dict, test: dict, seed: int) -> np.ndarray:
    """BertSurrogate (``BERT_SETTINGS``) fine-tuned on the training rows, scoring the test rows."""
    from surrogate_hub.surrogates.bert.model import BertSurrogate

    sur = BertSurrogate(**{**BERT_SETTINGS, "seed": seed})
    sur.fit(train["arch"], train["val_acc"], train["task"], input_shapes=train["input_shape"],
            num_classes=train["num_classes"], progress=False)
    return sur.predict(test["arch"], input_shape=test["input_shape"][0], num_classes=test["num_classes"][0])

log = logging.getLogger("eval_bert")


def _save(path: Path, state: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state, indent=1) + "\n")
    tmp.replace(path)


def run(corpus: str, progress: Path, settings: dict, within: bool, seed: int = 0, folds: int = 5) -> dict:
    from surrogate_hub.corpus import load

    ds = load(corpus, ok_only=True)
    ds = ds.filter(lambda a: [x is not None and x > 0 for x in a], input_columns="val_acc", batched=True)
    rows = _rows(ds, ["arch", "task", "val_acc", "input_shape", "num_classes"])
    tasks = sorted(set(rows["task"]))
    task_of = np.asarray(rows["task"])
    acc = np.asarray(rows["val_acc"], dtype=float)
    state = json.loads(progress.read_text()) if progress.is_file() else {}
    if state and state.get("settings") != settings:
        raise SystemExit(f"error: {progress} holds a run with other settings {state.get('settings')}; use another --progress")
    state.setdefault("settings", settings)
    state.setdefault("loo", {})
    state.setdefault("within_folds", {})
    state.setdefault("seconds", {})
    BERT_SETTINGS.clear()
    BERT_SETTINGS.update(settings)
    fit_predict = _fit_predict
    for t in tasks:
        if t in state["loo"]:
            continue
        start = time.perf_counter()
        test_idx, train_idx = np.flatnonzero(task_of == t), np.flatnonzero(task_of != t)
        scores = fit_predict(_take(rows, train_idx), _take(rows, test_idx), seed)
        state["loo"][t] = _metrics(scores, acc[test_idx])
        state["seconds"][f"loo/{t}"] = round(time.perf_counter() - start, 1)
        _save(progress, state)
        log.info("LOO %s: tau %.3f (%.0f s, %d train rows)", t, state["loo"][t]["tau"], state["seconds"][f"loo/{t}"], len(train_idx))
    if within:
        for t in tasks:
            test_idx = np.flatnonzero(task_of == t)
            perm = np.random.default_rng(seed).permutation(test_idx)  # the folds of evaluate.py
            done = state["within_folds"].setdefault(t, {})
            for f in range(folds):
                if str(f) in done:
                    continue
                start = time.perf_counter()
                te = perm[f::folds]
                tr = np.setdiff1d(test_idx, te)
                s = fit_predict(_take(rows, tr), _take(rows, te), seed)
                done[str(f)] = {"idx": te.tolist(), "scores": [float(v) for v in s]}
                state["seconds"][f"within/{t}/{f}"] = round(time.perf_counter() - start, 1)
                _save(progress, state)
                log.info("within %s fold %d (%.0f s)", t, f, state["seconds"][f"within/{t}/{f}"])
    state["tasks"] = tasks
    state["n_rows"] = {t: int((task_of == t).sum()) for t in tasks}
    state["acc"] = {t: acc[task_of == t].tolist() for t in tasks}
    state["index"] = {t: np.flatnonzero(task_of == t).tolist() for t in tasks}
    return state


def merge(state: dict, name: str, out: Path) -> bool:
    """Write the ``name`` entry into ``out`` (and its .md) when every LOO fold is done; within-task
    results go into the tables when every task is done, else into ``within_partial`` (finished
    tasks only). Run without ``--within`` to merge what a stopped run finished."""
    tasks = state["tasks"]
    if any(t not in state["loo"] for t in tasks):
        return False
    res = json.loads(out.read_text()) if out.is_file() else {"loo": {}, "within": {}, "tasks": tasks, "n_rows": state["n_rows"]}
    loo = dict(state["loo"])
    loo["mean"] = {k: float(np.mean([loo[t][k] for t in tasks])) for k in ("tau", "rho", "p_at_10")}
    res["loo"][name] = loo
    done = [t for t in tasks if len(state["within_folds"].get(t, {})) == 5]
    within = {}
    for t in done:
        pos = {j: i for i, j in enumerate(state["index"][t])}
        pred = np.empty(len(pos))
        for fold in state["within_folds"][t].values():
            for j, v in zip(fold["idx"], fold["scores"]):
                pred[pos[j]] = v
        within[t] = _metrics(pred, np.asarray(state["acc"][t]))
    complete = len(done) == len(tasks)
    if complete:
        within["mean"] = {k: float(np.mean([within[t][k] for t in tasks])) for k in ("tau", "rho", "p_at_10")}
        res["within"][name] = within
    elif within:  # not in the tables (they need every task); kept with a clear name
        res.setdefault("within_partial", {})[name] = within
    res.setdefault("settings", {})[name] = {**state["settings"], "within_complete": complete}
    res.setdefault("seconds", {})[name] = round(sum(state["seconds"].values()), 1)
    res.setdefault("fold_seconds", {})[name] = dict(state["seconds"])
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(res, indent=1) + "\n")
    tmp.replace(out)
    md = "# BERT evaluation (leave-one-task-out)\n\n| task | " + " | ".join(res["loo"]) + " |\n|" + " --- |" * (len(res["loo"]) + 1) + "\n"
    for t in tasks + ["mean"]:
        md += f"| {t} | " + " | ".join(f"{res['loo'][m][t]['tau']:.3f}" for m in res["loo"]) + " |\n"
    for method, st in res.get("settings", {}).items():
        if method not in res["loo"]:
            continue
        partial = sorted(res.get("within_partial", {}).get(method, {}))
        md += (
            f"\n`{method}`: BertSurrogate from `{st['base']}`, {st['encoding']} encoding, fine-tuned per fold for "
            f"{st['epochs']:g} epochs (lr {st['learning_rate']:g}, batch {st['batch_size']}, 10 % of the training rows "
            f"held out for early stopping), {res.get('seconds', {}).get(method, float('nan')):.0f} s of wall time on "
            "a shared 2-core machine. "
            + ("" if st.get("within_complete") else
               "Within-task folds incomplete" + (f" (finished: {', '.join(partial)}; see `within_partial` in the JSON)" if partial else "")
               + ", so it has no within-task row.")
            + "\n"
        )
    out.with_suffix(".md").write_text(md)
    return True


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus")
    p.add_argument("--base", default="runs/einspace-mlm")
    p.add_argument("--encoding", default="long", choices=["long", "compact"])
    p.add_argument("--epochs", type=float, default=3.0)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--within", action="store_true", help="also the within-task 5-fold cross-validation")
    p.add_argument("--name", default="bert", help="method name in the results")
    p.add_argument("--progress", type=Path, default=Path("runs/eval_bert.json"))
    p.add_argument("--out", type=Path, default=RESULTS / "bert_eval.json",
                   help="results file (old-harness layout: loo/within per method)")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    import torch

    torch.set_num_threads(args.threads)
    settings = {"base": args.base, "encoding": args.encoding, "epochs": args.epochs, "learning_rate": args.lr,
                "batch_size": args.batch_size}
    args.progress.parent.mkdir(parents=True, exist_ok=True)
    state = run(args.corpus, args.progress, settings, args.within)
    print("merged" if merge(state, args.name, args.out) else "incomplete", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
