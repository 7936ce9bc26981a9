"""Evaluate surrogates and baselines on a corpus: within-task and leave-one-task-out ranking quality.

For every task: Kendall τ, Spearman ρ and top-10 % precision between predicted scores and the
validation accuracies of its successfully trained, non-zero-accuracy architectures.

* ``loo``: fit on every *other* task, score the held-out one (zero-shot transfer).
* ``within``: 5-fold cross-validation inside the task.

Methods form a registry (``@method``): surrogates are fitted per fold; baselines (parameters,
FLOPs, single zero-cost proxies, random) need no fitting. A BERT surrogate plugs in with one more
``@method`` entry. Writes ``benchmarks/results/surrogates.json`` and ``surrogates.md``.

    python training/evaluate.py corpus/einspace-offline-v1 [--methods graf-xgb params ...]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from _common import RESULTS, machine  # noqa: E402

log = logging.getLogger("evaluate")

#: name -> fn(train rows, test rows, seed) -> scores for the test rows; ``needs`` columns
METHODS: dict[str, tuple[Callable, tuple[str, ...]]] = {}


def method(name: str, needs: tuple[str, ...] = ()):
    def register(fn):
        METHODS[name] = (fn, needs)
        return fn

    return register


def _graf(extras: bool, zcp: tuple[str, ...] = ()):
    def fit_predict(train: dict, test: dict, seed: int) -> np.ndarray:
        from surrogate_hub.surrogates.graf_xgb import GrafSurrogate

        sur = GrafSurrogate(extras=extras, zcp=zcp, xgb_params={"seed": seed})
        kw_fit = {"zcp": {z: train[f"zcp_{z}"] for z in zcp}} if zcp else {}
        sur.fit(train["arch"], train["val_acc"], train["task"], input_shapes=train["input_shape"],
                num_classes=train["num_classes"], **kw_fit)
        shape, classes = test["input_shape"][0], test["num_classes"][0]
        kw = {"zcp": {z: test[f"zcp_{z}"] for z in zcp}} if zcp else {}
        return sur.predict(test["arch"], input_shape=shape, num_classes=classes, **kw)

    return fit_predict


method("graf-xgb")(_graf(extras=True))
method("graf-only-xgb")(_graf(extras=False))


#: settings of the ``bert`` method (BertSurrogate keywords; ``--bert-*`` options change them)
BERT: dict = {"base": "runs/einspace-mlm", "encoding": "long", "epochs": 4.0, "learning_rate": 1e-4, "batch_size": 16}


@method("bert")
def _bert(train: dict, test: dict, seed: int) -> np.ndarray:
    """BertSurrogate fine-tuned on the training rows (``BERT`` settings), scoring the test rows."""
    from surrogate_hub.surrogates.bert.model import BertSurrogate

    sur = BertSurrogate(**{**BERT, "seed": seed})
    sur.fit(train["arch"], train["val_acc"], train["task"], input_shapes=train["input_shape"],
            num_classes=train["num_classes"], progress=False)
    return sur.predict(test["arch"], input_shape=test["input_shape"][0], num_classes=test["num_classes"][0])


@method("params")
def _params(train, test, seed):
    return np.asarray(test["n_params"], dtype=float)


@method("flops")
def _flops(train, test, seed):
    return np.asarray(test["flops"], dtype=float)


@method("random")
def _random(train, test, seed):
    return np.random.default_rng(seed).random(len(test["arch"]))


def register_zcp_methods(names: list[str]) -> None:
    from surrogate_hub.features.proxies import PAPER_PROXIES

    cols = tuple(names)
    method("graf-zcp-xgb", needs=tuple(f"zcp_{n}" for n in cols))(_graf(extras=True, zcp=tuple(p for p in PAPER_PROXIES if p in cols)))
    for n in cols:
        if n in ("params", "flops"):  # the same numbers as the params/flops baselines
            continue
        method(f"zcp:{n}", needs=(f"zcp_{n}",))(lambda train, test, seed, n=n: np.asarray(test[f"zcp_{n}"], dtype=float))


# -- metrics -------------------------------------------------------------------------------------
def metrics(scores: np.ndarray, acc: np.ndarray, top: float = 0.1) -> dict[str, float]:
    from scipy.stats import kendalltau, spearmanr

    scores = np.where(np.isnan(scores), -np.inf, scores)
    if np.all(scores == scores[0]):
        return {"tau": 0.0, "rho": 0.0, "p_at_10": top}
    k = max(1, int(round(top * len(acc))))
    best_true = set(np.argsort(-acc, kind="stable")[:k])
    best_pred = set(np.argsort(-scores, kind="stable")[:k])
    return {
        "tau": float(kendalltau(scores, acc).statistic),
        "rho": float(spearmanr(scores, acc).statistic),
        "p_at_10": len(best_true & best_pred) / k,
    }


def _rows(ds, columns: list[str]) -> dict[str, list]:
    return {c: ds[c] for c in columns}


def _take(rows: dict, idx: np.ndarray) -> dict:
    return {c: [v[i] for i in idx] for c, v in rows.items()}


def evaluate(corpus, methods: list[str], seed: int = 0, folds: int = 5, auto_zcp: bool = True) -> dict:
    from surrogate_hub.corpus import load

    ds = load(corpus, ok_only=True, zcp=(Path(corpus) / "zcp").is_dir())
    ds = ds.filter(lambda a: [x is not None and x > 0 for x in a], input_columns="val_acc", batched=True)
    zcp_cols = [c for c in ds.column_names if c.startswith("zcp_")]
    if zcp_cols:
        covered = float(np.mean([v == v for v in ds[zcp_cols[0]]]))
        if covered < 0.99:
            log.warning("zero-cost proxies cover %.0f%% of the rows; finish training/compute_zcp.py to evaluate them", 100 * covered)
            ds = ds.remove_columns(zcp_cols)
            zcp_cols = []
    if zcp_cols and auto_zcp:
        register_zcp_methods([c[4:] for c in zcp_cols])
        methods = methods + [m for m in METHODS if m.startswith("zcp") or m == "graf-zcp-xgb"]
    columns = ["arch", "task", "val_acc", "input_shape", "num_classes", "n_params", "flops", *zcp_cols]
    rows = _rows(ds, columns)
    tasks = sorted(set(rows["task"]))
    task_of = np.asarray(rows["task"])
    acc = np.asarray(rows["val_acc"], dtype=float)
    out: dict = {"loo": {}, "within": {}, "n_rows": {t: int((task_of == t).sum()) for t in tasks}}
    for name in methods:
        fn, needs = METHODS[name]
        if any(c not in rows for c in needs):
            log.warning("skipping %s: the corpus has no %s", name, [c for c in needs if c not in rows])
            continue
        start = time.perf_counter()
        out["loo"][name], out["within"][name] = {}, {}
        for t in tasks:
            test_idx, train_idx = np.flatnonzero(task_of == t), np.flatnonzero(task_of != t)
            scores = fn(_take(rows, train_idx), _take(rows, test_idx), seed)
            out["loo"][name][t] = metrics(scores, acc[test_idx])
            rng = np.random.default_rng(seed)
            perm = rng.permutation(test_idx)
            pred = np.empty(len(test_idx))
            pos = {j: i for i, j in enumerate(test_idx)}
            for f in range(folds):
                te = perm[f::folds]
                tr = np.setdiff1d(test_idx, te)
                s = fn(_take(rows, tr), _take(rows, te), seed)
                for j, v in zip(te, s):
                    pred[pos[j]] = v
            out["within"][name][t] = metrics(pred, acc[test_idx])
        for mode in ("loo", "within"):
            vals = [m["tau"] for m in out[mode][name].values()]
            out[mode][name]["mean"] = {k: float(np.mean([m[k] for t, m in out[mode][name].items() if t != "mean"])) for k in ("tau", "rho", "p_at_10")}
        out.setdefault("seconds", {})[name] = round(time.perf_counter() - start, 1)
        log.info("%s: LOO mean tau %.3f, within %.3f (%.0f s)", name, out["loo"][name]["mean"]["tau"],
                 out["within"][name]["mean"]["tau"], time.perf_counter() - start)
    out["tasks"] = tasks
    return out


def markdown(res: dict) -> str:
    tasks = res["tasks"]
    lines = ["# Surrogate evaluation", ""]
    for mode, title in (("loo", "Leave-one-task-out (fit on the other tasks, zero-shot on this one)"),
                        ("within", "Within-task (5-fold cross-validation)")):
        lines += [f"## {title}: Kendall τ", "", "| method | " + " | ".join(tasks) + " | mean τ | mean ρ | mean P@10% |",
                  "| --- |" + " --- |" * (len(tasks) + 3)]
        order = sorted(res[mode], key=lambda m: -res[mode][m]["mean"]["tau"])
        for m in order:
            r = res[mode][m]
            lines.append(f"| {m} | " + " | ".join(f"{r[t]['tau']:.3f}" for t in tasks)
                         + f" | **{r['mean']['tau']:.3f}** | {r['mean']['rho']:.3f} | {r['mean']['p_at_10']:.3f} |")
        lines.append("")
    lines += ["Rows per task (successful, non-zero accuracy): " + ", ".join(f"{t} {n}" for t, n in res["n_rows"].items()), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus", help="corpus folder or Hub dataset repo id")
    p.add_argument("--methods", nargs="*", default=["graf-xgb", "graf-only-xgb", "params", "flops", "random"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=RESULTS / "surrogates.json")
    p.add_argument("--merge", action="store_true", help="add the methods run to the results already in --out")
    p.add_argument("--bert-base", default=BERT["base"], help="bert method: base model (folder, Hub id, minilm, einspace-native)")
    p.add_argument("--bert-encoding", default=BERT["encoding"], choices=["long", "compact"])
    p.add_argument("--bert-epochs", type=float, default=BERT["epochs"])
    p.add_argument("--bert-lr", type=float, default=BERT["learning_rate"])
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    args = p.parse_args(argv)
    BERT.update(base=args.bert_base, encoding=args.bert_encoding, epochs=args.bert_epochs, learning_rate=args.bert_lr)
    if "bert" in args.methods:
        import torch

        torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    unknown = [m for m in args.methods if m not in METHODS]
    if unknown:
        p.error(f"unknown methods {unknown}; known: {sorted(METHODS)}")
    res = evaluate(args.corpus, args.methods, seed=args.seed, auto_zcp=not args.merge)
    if "bert" in res["loo"]:
        res.setdefault("settings", {})["bert"] = dict(BERT)
    if args.merge and args.out.is_file():
        old = json.loads(args.out.read_text())
        for key in ("loo", "within", "seconds", "settings"):
            res[key] = {**old.get(key, {}), **res.get(key, {})}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine(), "corpus": str(args.corpus), **res}, indent=1) + "\n")
    md = markdown(res)
    args.out.with_suffix(".md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
