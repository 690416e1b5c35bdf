"""The champion: a WOE scorecard. optbinning bins every input (monotonic where the data allow)
and gives each bin its weight of evidence; a logistic regression weighs the inputs; the result
is exported as a points table, scaled so that 600 points mean 19:1 good:bad odds and every
20 points double the odds (PDO 20).

Scoring reads only the table (no optbinning, no pandas): a sum of points, fast and exactly
explainable. Reason codes are the inputs whose points fall furthest below the average
applicant's points for that input.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from biaodi.domain.risk.reasons import Reason, reason

PDO = 20
BASE_POINTS = 600
BASE_ODDS = 19  # good:bad at BASE_POINTS
FACTOR = PDO / math.log(2)
OFFSET = BASE_POINTS - FACTOR * math.log(BASE_ODDS)
MISSING = "missing"
#: Inverse L2 strength of the logistic regression: strong, since WOE inputs correlate.
DEFAULT_C = 0.03


def pd_from_points(points: float) -> float:
    """Probability of default for a score: odds good:bad = exp((points − offset) / factor)."""
    return 1.0 / (1.0 + math.exp((points - OFFSET) / FACTOR))


def points_from_logit(logit_bad: np.ndarray) -> np.ndarray:
    return OFFSET - FACTOR * logit_bad


@dataclass
class FeatureTable:
    """One input's bins: numeric splits ([a, b) intervals) or category groups, the missing
    bin last; the points of each bin and its share of the training population."""

    name: str
    dtype: str  # "numerical" | "categorical"
    labels: list[str]
    points: list[float]
    shares: list[float]
    event_rates: list[float]
    woe: list[float]
    splits: list[float] = field(default_factory=list)
    groups: list[list[str]] = field(default_factory=list)
    neutral: float = 0.0
    iv: float = 0.0
    _lookup: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._lookup = {c: i for i, group in enumerate(self.groups) for c in group}

    @property
    def n_bins(self) -> int:
        return len(self.labels)

    def bin_of(self, value: Any) -> int | None:
        """Bin index of a value; the last bin is "missing"; None for an unseen category."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return self.n_bins - 1
        if self.dtype == "categorical":
            return self._lookup.get(str(value))
        return bisect_right(self.splits, float(value))

    def points_of(self, value: Any) -> float:
        index = self.bin_of(value)
        return self.neutral if index is None else self.points[index]

    def bins_of(self, column: pd.Series) -> np.ndarray:
        missing = column.isna().to_numpy()
        if self.dtype == "categorical":
            idx = column.map(lambda v: self._lookup.get(str(v), -1)).to_numpy(dtype=int)
        else:
            idx = np.searchsorted(np.asarray(self.splits), column.to_numpy(dtype=float),
                                  side="right")
        return np.where(missing, self.n_bins - 1, idx)

    def as_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in ("name", "dtype", "labels", "points", "shares",
                                              "event_rates", "woe", "neutral", "iv")}
        data["splits" if self.dtype == "numerical" else "groups"] = (
            self.splits if self.dtype == "numerical" else self.groups)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureTable:
        return cls(**{k: data[k] for k in ("name", "dtype", "labels", "points", "shares",
                                           "event_rates", "woe", "neutral", "iv")},
                   splits=list(data.get("splits", [])), groups=list(data.get("groups", [])))


@dataclass
class Scorecard:
    base_points: float
    features: list[FeatureTable]
    C: float = DEFAULT_C

    @property
    def inputs(self) -> list[str]:
        return [f.name for f in self.features]

    def points(self, row: Mapping[str, Any]) -> float:
        return self.base_points + sum(f.points_of(row.get(f.name)) for f in self.features)

    def points_frame(self, frame: pd.DataFrame) -> np.ndarray:
        total = np.full(len(frame), self.base_points)
        for f in self.features:
            idx = f.bins_of(frame[f.name])
            table = np.append(np.asarray(f.points), f.neutral)  # -1 (unseen) → neutral
            total += table[idx]
        return total

    def reasons(self, row: Mapping[str, Any], top: int = 4) -> list[Reason]:
        """The inputs costing the most points against the average applicant, worst first."""
        gaps = []
        for f in self.features:
            gap = f.points_of(row.get(f.name)) - f.neutral
            if gap <= -1:
                gaps.append((gap, f.name))
        gaps.sort()
        return [reason(name, row.get(name), gap) for gap, name in gaps[:top]]

    def as_dict(self) -> dict[str, Any]:
        return {"kind": "woe-scorecard", "pdo": PDO, "base_points_at": BASE_POINTS,
                "base_odds": BASE_ODDS, "base_points": self.base_points, "C": self.C,
                "features": [f.as_dict() for f in self.features]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scorecard:
        return cls(base_points=float(data["base_points"]), C=float(data.get("C", DEFAULT_C)),
                   features=[FeatureTable.from_dict(f) for f in data["features"]])


# --- training -----------------------------------------------------------------------------
def _binning(X: pd.DataFrame, y: np.ndarray, categorical: Sequence[str]) -> Any:
    from optbinning import BinningProcess

    process = BinningProcess(
        list(X.columns), categorical_variables=list(categorical), max_n_prebins=20,
        min_prebin_size=0.05, selection_criteria={"iv": {"min": 0.005}},
    )
    return process.fit(X, y)


def _table(name: str, optb: Any, points_per_woe: float) -> FeatureTable:
    built = optb.binning_table.build(show_digits=6)
    rows = built.drop(index="Totals")  # the bins, then "Special", then "Missing"
    regular, special, missing = rows.iloc[:-2], rows.iloc[-2], rows.iloc[-1]
    counts = [*regular["Count"], missing["Count"] + special["Count"]]
    total = float(sum(counts))
    woe = [float(w) for w in regular["WoE"]] + [float(missing["WoE"])]
    rates = [float(r) for r in regular["Event rate"]] + [float(missing["Event rate"])]
    labels = [str(b) if not isinstance(b, list | np.ndarray) else ", ".join(map(str, b))
              for b in regular["Bin"]] + [MISSING]
    points = [points_per_woe * w for w in woe]
    shares = [float(c) / total for c in counts]
    neutral = float(sum(p * s for p, s in zip(points, shares, strict=True)))
    table = FeatureTable(name=name, dtype=optb.dtype, labels=labels, points=points,
                         shares=shares, event_rates=rates, woe=woe, neutral=neutral,
                         iv=float(built.loc["Totals", "IV"]))
    if optb.dtype == "categorical":
        table.groups = [[str(c) for c in group] for group in optb.splits]
        table.__post_init__()
    else:
        table.splits = [float(s) for s in optb.splits]
    return table


def fit(X: pd.DataFrame, y: np.ndarray, categorical: Sequence[str], *,
        Cs: Sequence[float] = (DEFAULT_C,), seed: int = 0) -> Scorecard:
    """Bin, weigh and scale. Given several `Cs`, the regularisation is chosen by 3-fold CV
    on the WOE inputs."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    process = _binning(X, y, categorical)
    names = [str(n) for n in process.get_support(names=True)]
    if not names:
        names = list(X.columns)
    woe = process.transform(X[names], metric="woe", metric_missing="empirical")
    woe = woe[names] if isinstance(woe, pd.DataFrame) else pd.DataFrame(woe, columns=names)
    best_C = Cs[0]
    if len(Cs) > 1 and min(np.bincount(y)) >= 3:
        folds = StratifiedKFold(3, shuffle=True, random_state=seed)
        scores = [cross_val_score(LogisticRegression(C=c, max_iter=2000), woe, y, cv=folds,
                                  scoring="roc_auc").mean() for c in Cs]
        best_C = Cs[int(np.argmax(scores))]
    model = LogisticRegression(C=best_C, max_iter=2000).fit(woe, y)
    coefficients = dict(zip(names, model.coef_[0], strict=True))
    tables = [_table(n, process.get_binned_variable(n), -FACTOR * coefficients[n])
              for n in names]
    base = OFFSET - FACTOR * float(model.intercept_[0])
    return Scorecard(base_points=base, features=tables, C=best_C)
