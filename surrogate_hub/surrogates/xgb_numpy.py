"""Predict with a saved XGBoost JSON model in numpy, without importing xgboost.

The shipped surrogates are XGBoost tree ensembles saved in XGBoost's JSON format. Importing xgboost
pulls in scikit-learn, scipy and pandas (seconds on a cold start), so prediction reads the trees
into padded numpy arrays and walks all trees for a block of rows at once, one tree level per step.

It reproduces XGBoost's CPU predictor: inputs are cast to float32, a split sends a row left when
``value < split_condition`` (float32) and NaN (missing) follows ``default_left``; leaf values are
added to the base margin in float32, tree by tree, in model order; the objective's inverse link
turns the margin into a prediction. Checked against ``xgboost.Booster.inplace_predict`` in
``tests/test_xgb_numpy.py`` (to 1e-6 on 10,000 architectures for every shipped model).

Supported: ``gbtree`` boosters with numerical splits, one output (regression), objectives with an
identity link (``reg:squarederror``, ``reg:squaredlogerror``, ``reg:pseudohubererror``,
``reg:absoluteerror``, ``reg:quantileerror`` with one quantile), the logistic link
(``reg:logistic``, ``binary:logistic``) and the log link (``count:poisson``, ``reg:gamma``,
``reg:tweedie``). Anything else (``dart``, ``gblinear``, categorical splits, multi-output or
multi-class models, vector leaves) raises :class:`UnsupportedModelError`; callers then fall back to
xgboost. A file that is not a well-formed XGBoost JSON model raises
:class:`~.errors.SurrogateLoadError` naming the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np

from .errors import SurrogateLoadError

__all__ = ["NumpyForest", "UnsupportedModelError", "load_forest"]

_IDENTITY: Final = {
    "reg:squarederror", "reg:squaredlogerror", "reg:pseudohubererror", "reg:absoluteerror", "reg:quantileerror",
}
_LOGISTIC: Final = {"reg:logistic", "binary:logistic"}
_LOG: Final = {"count:poisson", "reg:gamma", "reg:tweedie"}
_ROWS_PER_BLOCK: Final = 2048


class UnsupportedModelError(Exception):
    """A valid XGBoost model that the numpy evaluator does not implement (use xgboost)."""


def _float(text: Any, where: str, source: str) -> float:
    """XGBoost writes numbers in model params as strings, ``"5E-1"`` or ``"[5E-1]"`` (vectors)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    if isinstance(text, str):
        parts = [p for p in re.split(r"[\[\],\s]+", text) if p]
        if len(parts) == 1:
            try:
                return float(parts[0])
            except ValueError:
                pass
        elif len(parts) > 1:
            raise UnsupportedModelError(f"{where} has {len(parts)} values (multi-output model)")
    raise SurrogateLoadError(f"{source}: {where} is not a number ({text!r:.60})")


def _get(d: Any, key: str, where: str, source: str) -> Any:
    if not isinstance(d, dict) or key not in d:
        at = f" in {where}" if where else ""
        raise SurrogateLoadError(f"{source}: not a readable XGBoost JSON model (no '{key}'{at}); re-download or re-save it")
    return d[key]


class NumpyForest:
    """A tree ensemble as padded numpy arrays; :meth:`predict` matches XGBoost's predictions.

    Build one with :meth:`from_json` (the parsed model file) or :func:`load_forest`.
    """

    def __init__(
        self,
        *,
        left: np.ndarray,
        right: np.ndarray,
        feature: np.ndarray,
        threshold: np.ndarray,
        default_left: np.ndarray,
        value: np.ndarray,
        depth: int,
        base_margin: float,
        link: str,
        num_features: int,
        feature_names: Sequence[str] | None,
    ) -> None:
        self.left, self.right, self.feature = left, right, feature  # [trees, max_nodes], -1 = leaf
        self.threshold, self.default_left, self.value = threshold, default_left, value
        self.depth = depth  #: the deepest leaf's depth (levels to walk)
        self.base_margin = np.float32(base_margin)
        self.link = link  #: "identity", "logistic" or "log"
        self.num_features = num_features
        self.feature_names = None if feature_names is None else tuple(feature_names)

    @property
    def num_trees(self) -> int:
        return int(self.left.shape[0])

    @classmethod
    def from_json(cls, raw: Any, source: str = "model.json") -> NumpyForest:
        """The forest of a parsed XGBoost JSON model (``json.load`` of a ``save_model`` file)."""
        learner = _get(raw, "learner", "", source)
        params = _get(learner, "learner_model_param", "learner", source)
        objective = _get(_get(learner, "objective", "learner", source), "name", "learner.objective", source)
        booster = _get(learner, "gradient_booster", "learner", source)
        name = _get(booster, "name", "learner.gradient_booster", source)
        if name != "gbtree":
            raise UnsupportedModelError(f"booster {name!r} (only gbtree is evaluated in numpy)")
        for key in ("num_class", "num_target"):
            if key in params and int(_float(params[key], f"learner_model_param.{key}", source)) > (0 if key == "num_class" else 1):
                raise UnsupportedModelError(f"{key} = {params[key]} (only single-output regression)")
        if objective == "reg:quantileerror":
            _float(params.get("base_score", "0"), "base_score", source)  # several quantiles -> unsupported
        num_features = int(_float(_get(params, "num_feature", "learner.learner_model_param", source), "num_feature", source))
        base_score = _float(_get(params, "base_score", "learner.learner_model_param", source), "base_score", source)
        if objective in _IDENTITY:
            link, margin = "identity", base_score
        elif objective in _LOGISTIC:
            if not 0 < base_score < 1:
                raise SurrogateLoadError(f"{source}: base_score {base_score} outside (0, 1) for {objective}")
            link, margin = "logistic", float(np.log(base_score / (1 - base_score)))
        elif objective in _LOG:
            if base_score <= 0:
                raise SurrogateLoadError(f"{source}: base_score {base_score} must be positive for {objective}")
            link, margin = "log", float(np.log(base_score))
        else:
            raise UnsupportedModelError(f"objective {objective!r}")
        model = _get(booster, "model", "learner.gradient_booster", source)
        trees = _get(model, "trees", "learner.gradient_booster.model", source)
        if not isinstance(trees, list) or not trees:
            raise SurrogateLoadError(f"{source}: the model has no trees")
        info = model.get("tree_info", [0] * len(trees))
        if not isinstance(info, list) or len(info) != len(trees) or any(i != 0 for i in info):
            raise UnsupportedModelError("trees for more than one output group")
        sizes = []
        for k, tree in enumerate(trees):
            where = f"tree {k}"
            n = len(_get(tree, "left_children", where, source))
            for key in ("right_children", "split_indices", "split_conditions", "default_left"):
                arr = _get(tree, key, where, source)
                if not isinstance(arr, list) or len(arr) != n:
                    raise SurrogateLoadError(f"{source}: {where}: {key} has the wrong length (expected {n})")
            if n == 0:
                raise SurrogateLoadError(f"{source}: {where} has no nodes")
            if any(tree.get("split_type", [0]) or [0]):
                raise UnsupportedModelError(f"{where} has categorical splits")
            size_leaf = tree.get("tree_param", {}).get("size_leaf_vector", "1")
            if str(size_leaf) not in ("0", "1"):
                raise UnsupportedModelError(f"{where} has vector leaves")
            sizes.append(n)
        t, m = len(trees), max(sizes)
        left = np.full((t, m), -1, dtype=np.int32)
        right = np.full((t, m), -1, dtype=np.int32)
        feature = np.zeros((t, m), dtype=np.int32)
        threshold = np.zeros((t, m), dtype=np.float32)
        default_left = np.zeros((t, m), dtype=bool)
        value = np.zeros((t, m), dtype=np.float32)
        depth = 0
        for k, tree in enumerate(trees):
            n = sizes[k]
            try:
                lc = np.asarray(tree["left_children"], dtype=np.int64)
                rc = np.asarray(tree["right_children"], dtype=np.int64)
                fi = np.asarray(tree["split_indices"], dtype=np.int64)
                sc = np.asarray(tree["split_conditions"], dtype=np.float32)
                dl = np.asarray(tree["default_left"], dtype=np.int64)
            except (TypeError, ValueError) as err:
                raise SurrogateLoadError(f"{source}: tree {k}: non-numeric node arrays ({err})") from None
            leaf = lc == -1
            if not np.array_equal(leaf, rc == -1):
                raise SurrogateLoadError(f"{source}: tree {k}: a node has one child")
            inner = ~leaf
            if ((lc[inner] <= 0) | (lc[inner] >= n) | (rc[inner] <= 0) | (rc[inner] >= n)).any():
                raise SurrogateLoadError(f"{source}: tree {k}: child index out of range")
            if ((fi[inner] < 0) | (fi[inner] >= num_features)).any():
                raise SurrogateLoadError(f"{source}: tree {k}: split feature index out of range (0..{num_features - 1})")
            left[k, :n], right[k, :n] = lc, rc
            feature[k, :n] = np.where(inner, fi, 0)
            threshold[k, :n] = sc
            default_left[k, :n] = dl != 0
            value[k, :n] = np.where(leaf, sc, 0)
            depth = max(depth, _tree_depth(lc, rc, source, k))
        names = learner.get("feature_names") or None
        return cls(
            left=left, right=right, feature=feature, threshold=threshold, default_left=default_left, value=value,
            depth=depth, base_margin=margin, link=link, num_features=num_features, feature_names=names,
        )

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predictions for the rows of ``X`` ``[n, num_features]`` (NaN = missing), as float64
        holding XGBoost's float32 results."""
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.num_features:
            raise ValueError(f"X must have shape (n, {self.num_features}), got {X.shape}")
        out = np.empty(len(X), dtype=np.float64)
        for start in range(0, len(X), _ROWS_PER_BLOCK):
            out[start:start + _ROWS_PER_BLOCK] = self._predict_block(X[start:start + _ROWS_PER_BLOCK])
        return out

    def _predict_block(self, X: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(X, dtype=np.float32)
        n, f = x.shape
        t, m = self.left.shape
        flat_x = x.reshape(-1)
        row_base = (np.arange(n, dtype=np.int64) * f)[:, None]  # [n, 1]
        tree_base = (np.arange(t, dtype=np.int64) * m)[None, :]  # [1, t]
        left, right = self.left.reshape(-1), self.right.reshape(-1)
        feature, threshold = self.feature.reshape(-1), self.threshold.reshape(-1)
        default_left = self.default_left.reshape(-1)
        node = np.broadcast_to(tree_base, (n, t)).copy()  # global node index, starts at each root
        for _ in range(self.depth):
            v = flat_x[row_base + feature[node]]
            go_left = np.where(np.isnan(v), default_left[node], v < threshold[node])
            child = np.where(go_left, left[node], right[node])
            node = np.where(child >= 0, tree_base + child, node)
        leaves = self.value.reshape(-1)[node]  # [n, t] float32
        margin = np.full(n, self.base_margin, dtype=np.float32)
        for k in range(t):  # XGBoost adds tree by tree in float32; keep its rounding
            margin += leaves[:, k]
        if self.link == "logistic":
            margin = (1.0 / (1.0 + np.exp(-margin.astype(np.float64)))).astype(np.float32)
        elif self.link == "log":
            margin = np.exp(margin.astype(np.float64)).astype(np.float32)
        return margin.astype(np.float64)


def _tree_depth(left: np.ndarray, right: np.ndarray, source: str, k: int) -> int:
    """Depth of the deepest leaf (root = 0); refuses cycles and unreachable structure."""
    depth, frontier, seen = 0, [0], 0
    while frontier:
        seen += len(frontier)
        if seen > len(left):
            raise SurrogateLoadError(f"{source}: tree {k}: the node links form a cycle")
        nxt = [c for i in frontier if left[i] != -1 for c in (int(left[i]), int(right[i]))]
        if not nxt:
            break
        depth += 1
        frontier = nxt
    return depth


def load_forest(path: str | Path, feature_names: Sequence[str] | None = None) -> NumpyForest:
    """Read an XGBoost JSON model file; with ``feature_names``, check that the model takes exactly
    those features. Raises :class:`~.errors.SurrogateLoadError` for an unreadable or inconsistent
    file and :class:`UnsupportedModelError` for a model the numpy evaluator does not implement."""
    path = Path(path)
    try:
        raw = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise SurrogateLoadError(f"{path}: not found") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        what = "empty file" if path.stat().st_size == 0 else f"not valid JSON: {err}"
        raise SurrogateLoadError(f"{path}: not a readable XGBoost JSON model ({what}); re-download or re-save it") from None
    forest = NumpyForest.from_json(raw, str(path))
    if feature_names is not None:
        if forest.num_features != len(feature_names):
            raise SurrogateLoadError(
                f"{path}: the model takes {forest.num_features} features, the config's feature set has {len(feature_names)}"
            )
        if forest.feature_names is not None and tuple(forest.feature_names) != tuple(feature_names):
            raise SurrogateLoadError(f"{path}: the model's feature names differ from the config's feature set")
    return forest
