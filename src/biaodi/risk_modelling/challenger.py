"""The challenger: gradient-boosted trees (LightGBM) on the same inputs.

Categorical inputs become integer codes over the training categories (unseen and missing
are missing); numeric inputs may carry a monotone constraint taken from the champion's
binning, so that e.g. more income never raises the predicted default. The hyper-parameters
are chosen from a small grid by 3-fold cross-validation on the training data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

#: Candidates: shallow, strongly regularised trees suit a few thousand loans.
GRID: tuple[dict[str, Any], ...] = (
    {"num_boost_round": 600, "learning_rate": 0.02, "num_leaves": 4,
     "min_data_in_leaf": 100, "lambda_l2": 5.0, "feature_fraction": 0.9},
    {"num_boost_round": 1000, "learning_rate": 0.005, "num_leaves": 8,
     "min_data_in_leaf": 50, "lambda_l2": 20.0, "feature_fraction": 0.4, "max_bin": 63},
    {"num_boost_round": 800, "learning_rate": 0.01, "num_leaves": 7,
     "min_data_in_leaf": 80, "lambda_l2": 10.0, "feature_fraction": 0.5},
)
_FIXED = {"objective": "binary", "verbose": -1, "bagging_fraction": 0.8, "bagging_freq": 1,
          "min_gain_to_split": 0.01, "cat_smooth": 50.0, "deterministic": True,
          "force_row_wise": True, "num_threads": 1}


@dataclass
class Challenger:
    inputs: list[str]
    categories: dict[str, list[str]]  # per categorical input, the codes' categories
    model_text: str
    params: dict[str, Any] = field(default_factory=dict)
    _booster: Any = field(default=None, repr=False)
    _codes: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._codes = {k: {c: i for i, c in enumerate(v)} for k, v in self.categories.items()}

    @property
    def booster(self) -> Any:
        if self._booster is None:
            import lightgbm as lgb

            self._booster = lgb.Booster(model_str=self.model_text)
        return self._booster

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        columns = []
        for name in self.inputs:
            if name in self.categories:
                codes = self._codes[name]
                columns.append(frame[name].map(
                    lambda v, c=codes: c.get(str(v), np.nan) if not pd.isna(v) else np.nan
                ).to_numpy(dtype=float))
            else:
                columns.append(frame[name].to_numpy(dtype=float))
        return np.column_stack(columns) if columns else np.empty((len(frame), 0))

    def row(self, values: Mapping[str, Any]) -> np.ndarray:
        out = np.empty((1, len(self.inputs)))
        for i, name in enumerate(self.inputs):
            v = values.get(name)
            if v is None or (isinstance(v, float) and math.isnan(v)):
                out[0, i] = np.nan
            elif name in self.categories:
                out[0, i] = self._codes[name].get(str(v), np.nan)
            else:
                out[0, i] = float(v)
        return out

    def predict_frame(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.booster.predict(self.matrix(frame), num_threads=1))

    def predict_row(self, values: Mapping[str, Any]) -> float:
        return float(self.booster.predict(self.row(values), num_threads=1)[0])

    def as_dict(self) -> dict[str, Any]:
        return {"kind": "lightgbm", "inputs": self.inputs, "categories": self.categories,
                "params": self.params}


def _train(matrix: np.ndarray, y: np.ndarray, categorical: list[int], params: dict[str, Any],
           monotone: list[int], seed: int) -> Any:
    import lightgbm as lgb

    settings = {**_FIXED, **params, "seed": seed, "monotone_constraints": monotone}
    rounds = settings.pop("num_boost_round")
    data = lgb.Dataset(matrix, y, categorical_feature=categorical or "auto",
                       params={"verbose": -1, "max_bin": settings.get("max_bin", 255)})
    return lgb.train(settings, data, num_boost_round=rounds)


def fit(X: pd.DataFrame, y: np.ndarray, categorical: Sequence[str], *,
        monotone: Mapping[str, int] | None = None, seed: int = 0,
        grid: Sequence[dict[str, Any]] = GRID) -> Challenger:
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    cats = {c: sorted({str(v) for v in X[c].dropna()}) for c in categorical}
    shell = Challenger(inputs=list(X.columns), categories=cats, model_text="")
    matrix = shell.matrix(X)
    cat_idx = [i for i, c in enumerate(X.columns) if c in cats]
    constraints = [int((monotone or {}).get(c, 0)) for c in X.columns]
    best = dict(grid[0])
    if len(grid) > 1 and min(np.bincount(y)) >= 3:
        folds = list(StratifiedKFold(3, shuffle=True, random_state=seed).split(matrix, y))
        scores = []
        for params in grid:
            aucs = [roc_auc_score(y[te], _train(matrix[tr], y[tr], cat_idx, dict(params),
                                                constraints, seed).predict(matrix[te]))
                    for tr, te in folds]
            scores.append(float(np.mean(aucs)))
        best = dict(grid[int(np.argmax(scores))])
    booster = _train(matrix, y, cat_idx, dict(best), constraints, seed)
    return Challenger(inputs=list(X.columns), categories=cats,
                      model_text=booster.model_to_string(), params=best)
