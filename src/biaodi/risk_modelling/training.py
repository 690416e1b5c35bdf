"""Training, evaluation and cross-validation of the champion and the challenger.

Grades are cut at fixed shares of the training population's scores (best 15 % A, then
20 % B, 25 % C, 20 % D, 12 % E, the last 8 % HR); each grade's expected default rate is the
default rate the training data show in it. The model card records the holdout metrics (a
stratified 20 % kept aside, both models retrained on the rest), the calibration table per
grade and the PSI baseline of the score and of every input.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from biaodi import __version__
from biaodi.domain.risk.grades import GRADES, Grade, GradeCut, grade_for
from biaodi.domain.risk.reasons import label_for
from biaodi.risk_modelling import challenger as challenger_mod
from biaodi.risk_modelling import features, metrics
from biaodi.risk_modelling import scorecard as scorecard_mod
from biaodi.risk_modelling.data import DataError, Dataset
from biaodi.risk_modelling.model import RiskModel
from biaodi.risk_modelling.scorecard import BASE_ODDS, BASE_POINTS, PDO, pd_from_points

#: Share of the training population in each grade, best first.
GRADE_SHARES = {Grade.A: 0.15, Grade.B: 0.20, Grade.C: 0.25, Grade.D: 0.20, Grade.E: 0.12,
                Grade.HR: 0.08}
HOLDOUT = 0.2
MIN_BADS = 10


def _monotone(card: scorecard_mod.Scorecard) -> dict[str, int]:
    """+1/−1 where the champion's bins show a monotonic default rate over a numeric input."""
    trends = {}
    for f in card.features:
        rates = f.event_rates[:-1]
        if f.dtype != "numerical" or len(rates) < 3:
            continue
        steps = np.diff(rates)
        if np.all(steps >= 0):
            trends[f.name] = 1
        elif np.all(steps <= 0):
            trends[f.name] = -1
    return trends


def _fit_both(X: pd.DataFrame, y: np.ndarray, categorical: list[str], seed: int,
              tune: bool) -> tuple[scorecard_mod.Scorecard, challenger_mod.Challenger]:
    card = scorecard_mod.fit(X, y, categorical, seed=seed)
    grid = challenger_mod.GRID if tune else challenger_mod.GRID[:1]
    challenger = challenger_mod.fit(X, y, categorical, monotone=_monotone(card), seed=seed,
                                    grid=grid)
    return card, challenger


def _with_features(data: Dataset) -> tuple[pd.DataFrame, list[str],
                                           list[features.Derivation]]:
    chosen = features.applicable(list(data.X.columns))
    frame = features.add_derived(data.X, chosen)
    return frame, data.categorical, chosen


def _check(data: Dataset) -> None:
    bads = int(data.y.sum())
    if bads < MIN_BADS or len(data.y) - bads < MIN_BADS:
        raise DataError(f"need at least {MIN_BADS} good and {MIN_BADS} bad rows"
                        f" (have {len(data.y) - bads} good, {bads} bad)")


def cuts_for(scores: np.ndarray) -> list[GradeCut]:
    cuts, above = [], 0.0
    for grade in GRADES[:-1]:
        above += GRADE_SHARES[grade]
        cuts.append(GradeCut(grade, round(float(np.quantile(scores, 1 - above)))))
    cuts.append(GradeCut(Grade.HR, int(min(np.min(scores), cuts[-1].min_score) - 1)))
    return cuts


def grade_table(scores: np.ndarray, y: np.ndarray | None, cuts: list[GradeCut],
                expected: dict[str, float] | None = None) -> list[dict[str, Any]]:
    """Per grade: score range, count, share, observed default rate, mean predicted PD."""
    grades = np.array([grade_for(int(s), cuts).value for s in np.round(scores)])
    bounds = {c.grade.value: c.min_score for c in cuts}
    rows = []
    for i, grade in enumerate(GRADES):
        mask = grades == grade.value
        n = int(mask.sum())
        row: dict[str, Any] = {
            "grade": grade.value,
            "min_score": bounds[grade.value] if grade is not Grade.HR else None,
            "max_score": bounds[GRADES[i - 1].value] - 1 if i else None,
            "count": n,
            "share": round(n / len(scores), 4) if len(scores) else 0.0,
            "mean_pd": round(float(np.mean([pd_from_points(s) for s in scores[mask]])), 4)
            if n else None,
        }
        if y is not None:
            row["default_rate"] = round(float(y[mask].mean()), 4) if n else None
        if expected is not None:
            row["expected_default_rate"] = expected.get(grade.value)
        rows.append(row)
    return rows


def _input_baseline(column: pd.Series, categorical: bool) -> dict[str, Any]:
    if categorical:
        counts = column.dropna().astype(str).value_counts()
        top = [str(c) for c in counts.index[:12]]
        return {"type": "categorical", "categories": top,
                "shares": metrics.shares(input_bins(column, {"categories": top}),
                                         len(top) + 2)}
    values = column.dropna().to_numpy(dtype=float)
    edges = metrics.quantile_edges(values) if len(values) else []
    spec = {"type": "numerical", "edges": edges}
    return spec | {"shares": metrics.shares(input_bins(column, spec), len(edges) + 2)}


def input_bins(column: pd.Series, spec: dict[str, Any]) -> np.ndarray:
    """PSI bins of an input: numeric deciles or the main categories, then other, missing."""
    missing = column.isna().to_numpy()
    if "categories" in spec:
        index = {c: i for i, c in enumerate(spec["categories"])}
        other = len(spec["categories"])
        idx = column.map(lambda v: index.get(str(v), other)).to_numpy(dtype=int)
        return np.where(missing, other + 1, idx)
    edges = np.asarray(spec["edges"], dtype=float)
    idx = np.searchsorted(edges, column.to_numpy(dtype=float), side="right")
    return np.where(missing, len(edges) + 1, idx)


def psi_baseline(frame: pd.DataFrame, categorical: list[str], scores: np.ndarray,
                 inputs: Sequence[str]) -> dict[str, Any]:
    edges = metrics.quantile_edges(scores)
    score_idx = np.searchsorted(np.asarray(edges), scores, side="right")
    return {
        "score": {"edges": edges, "shares": metrics.shares(score_idx, len(edges) + 1)},
        "inputs": {name: _input_baseline(frame[name], name in categorical) for name in inputs},
    }


def train(data: Dataset, *, seed: int = 0, name: str = "", tune: bool = True) -> RiskModel:
    """Train both models on `data` and write everything the model card needs."""
    _check(data)
    started = time.perf_counter()
    frame, categorical, chosen = _with_features(data)
    derived = [d.name for d in chosen]
    from sklearn.model_selection import train_test_split

    idx_train, idx_hold = train_test_split(np.arange(len(data.y)), test_size=HOLDOUT,
                                           stratify=data.y, random_state=seed)
    hold_card, hold_challenger = _fit_both(frame.iloc[idx_train].reset_index(drop=True),
                                           data.y[idx_train], categorical, seed, tune)
    holdout_frame = frame.iloc[idx_hold].reset_index(drop=True)
    y_hold = data.y[idx_hold]
    champion_hold = np.array([pd_from_points(p) for p in
                              hold_card.points_frame(holdout_frame)])
    challenger_hold = hold_challenger.predict_frame(holdout_frame)

    card, challenger = _fit_both(frame, data.y, categorical, seed, tune)
    points = card.points_frame(frame)
    champion_pd = np.array([pd_from_points(p) for p in points])
    cuts = cuts_for(points)
    grades = grade_table(points, data.y, cuts)
    inputs = sorted(set(card.inputs) | set(challenger.inputs))
    version = _version(name or "model", data, seed)
    model_card = {
        "version": version,
        "name": name or "model",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "biaodi_version": __version__,
        "data": {"source": data.source, "sha256": data.digest, "rows": len(data.y),
                 "bad_rate": round(data.bad_rate, 4), "target": data.target,
                 "bad_value": data.bad_value, "dropped_columns": data.dropped},
        "scaling": {"pdo": PDO, "points": BASE_POINTS, "odds_good_to_bad": BASE_ODDS},
        "inputs": [{"name": n, "type": "categorical" if n in categorical else "numerical",
                    "derived": n in derived, "label_zh": label_for(n).zh,
                    "label_en": label_for(n).en, "in_scorecard": n in card.inputs}
                   for n in inputs],
        "champion": {"kind": "woe-scorecard", "C": card.C,
                     "holdout": metrics.summary(y_hold, champion_hold),
                     "training": metrics.summary(data.y, champion_pd)},
        "challenger": {"kind": "lightgbm", "params": challenger.params,
                       "holdout": metrics.summary(y_hold, challenger_hold),
                       "training": metrics.summary(data.y, challenger.predict_frame(frame))},
        "grade_shares": {g.value: s for g, s in GRADE_SHARES.items()},
        "grades": grades,
        "psi_baseline": psi_baseline(frame, categorical, points, inputs),
        "training_seconds": round(time.perf_counter() - started, 1),
    }
    return RiskModel(version=version, scorecard=card, challenger=challenger, cuts=cuts,
                     derivations=[{"name": d.name, "needs": list(d.needs)} for d in chosen],
                     card=model_card)


def _version(name: str, data: Dataset, seed: int) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    digest = hashlib.sha256(json.dumps([data.digest, seed, list(data.X.columns)]).encode())
    return f"{name}-{stamp}-{digest.hexdigest()[:8]}"


def _missing_inputs(model: RiskModel, data: Dataset) -> list[str]:
    return [c for c in model.raw_inputs if c not in data.X.columns]


def evaluate(model: RiskModel, data: Dataset) -> dict[str, Any]:
    missing = _missing_inputs(model, data)
    if missing:
        raise DataError(f"the data lack the model's input columns: {', '.join(missing)}")
    frame = features.add_derived(data.X, model._derivations())
    points = model.scorecard.points_frame(frame)
    champion_pd = np.array([pd_from_points(p) for p in points])
    expected = {g["grade"]: g.get("default_rate") for g in model.card.get("grades", [])}
    result: dict[str, Any] = {"model": model.version, "rows": len(data.y),
                              "bad_rate": round(data.bad_rate, 4)}
    two_classes = len(set(data.y.tolist())) == 2
    if two_classes:
        result |= metrics.summary(data.y, champion_pd)
        if model.challenger is not None:
            result["challenger"] = metrics.summary(data.y,
                                                   model.challenger.predict_frame(frame))
    result["grades"] = grade_table(points, data.y, model.cuts, expected)
    return result


def cross_validate(data: Dataset, *, folds: int = 5, seed: int = 0,
                   tune: bool = True) -> dict[str, Any]:
    """Stratified k-fold CV AUC and KS of both models (out-of-fold, retrained per fold)."""
    from sklearn.model_selection import StratifiedKFold

    _check(data)
    if folds < 2 or folds > int(data.y.sum()):
        raise DataError(f"--folds must be from 2 to the number of bad rows ({int(data.y.sum())})")
    frame, categorical, _ = _with_features(data)
    per_fold: dict[str, list[dict[str, float]]] = {"champion": [], "challenger": []}
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for train_idx, test_idx in splitter.split(frame, data.y):
        card, challenger = _fit_both(frame.iloc[train_idx].reset_index(drop=True),
                                     data.y[train_idx], categorical, seed, tune)
        test = frame.iloc[test_idx].reset_index(drop=True)
        y = data.y[test_idx]
        per_fold["champion"].append(metrics.summary(
            y, np.array([pd_from_points(p) for p in card.points_frame(test)])))
        per_fold["challenger"].append(metrics.summary(y, challenger.predict_frame(test)))
    out: dict[str, Any] = {"folds": folds, "rows": len(data.y),
                           "bad_rate": round(data.bad_rate, 4)}
    for model_name, runs in per_fold.items():
        out[model_name] = {
            "auc": round(float(np.mean([r["auc"] for r in runs])), 4),
            "auc_std": round(float(np.std([r["auc"] for r in runs])), 4),
            "ks": round(float(np.mean([r["ks"] for r in runs])), 4),
            "gini": round(float(np.mean([r["gini"] for r in runs])), 4),
            "per_fold_auc": [r["auc"] for r in runs],
        }
    return out
