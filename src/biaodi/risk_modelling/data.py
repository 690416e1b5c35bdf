"""Training data from any tabular CSV: the target, the bad value, the input columns.

Numeric columns stay numeric, everything else is categorical text; missing values stay
missing (both models handle them). Columns that would leak the answer or the lender's own
pricing are never inputs: the data's grade and interest rate (Biaodi sets its own) and row
numbers; `drop` removes more.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

#: Never model inputs, whatever the CSV (compared case-insensitively).
FORBIDDEN_COLUMNS = frozenset({
    "rownames", "id", "grade", "sub_grade", "subgrade", "int_rate", "interest_rate", "rate",
    "installment",  # derived from the lender's own rate
})
#: Value pairs where the bad value is obvious; otherwise --bad-value is required.
_BAD_VALUES = ({"good": "bad", "bad": "bad"}, {"0": "1", "1": "1"},
               {"no": "yes", "yes": "yes"}, {"false": "true", "true": "true"})


class DataError(ValueError):
    """Unusable training data; the message is one line for the command line."""


@dataclass
class Dataset:
    X: pd.DataFrame
    y: np.ndarray
    target: str
    bad_value: str
    categorical: list[str]
    dropped: list[str] = field(default_factory=list)
    source: str = ""
    digest: str = ""

    @property
    def bad_rate(self) -> float:
        return float(self.y.mean())


def read_csv(path: str | Path) -> tuple[pd.DataFrame, str]:
    """The CSV as a DataFrame and the SHA-256 of its bytes."""
    try:
        raw = Path(path).read_bytes()
        frame = pd.read_csv(Path(path), low_memory=False)
    except FileNotFoundError:
        raise DataError(f"cannot read {path}: no such file") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError,
            pd.errors.EmptyDataError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"cannot read {path}: {first}") from None
    if frame.empty or frame.shape[1] < 2:
        raise DataError(f"cannot read {path}: need a header and at least two columns")
    return frame, hashlib.sha256(raw).hexdigest()


def _bad_value(values: Iterable[str], target: str, given: str | None) -> str:
    seen = sorted(set(values))
    if given is not None:
        if given not in seen:
            raise DataError(f"--bad-value {given!r} does not occur in column {target!r}"
                            f" (values: {', '.join(seen[:10])})")
        return given
    lowered = {v.lower(): v for v in seen}
    for pair in _BAD_VALUES:
        if set(lowered) == set(pair):
            return lowered[next(iter(pair.values()))]
    raise DataError(f"cannot tell which value of {target!r} means default: pass --bad-value"
                    f" (values: {', '.join(seen[:10])})")


def _text(series: pd.Series) -> pd.Series:
    """Target values as text: 1.0 and 1 are both "1"."""
    if pd.api.types.is_float_dtype(series) and (series.dropna() % 1 == 0).all():
        series = series.astype("Int64")
    return series.astype(str)


def prepare(frame: pd.DataFrame, target: str, *, bad_value: str | None = None,
            drop: Iterable[str] = (), source: str = "", digest: str = "",
            needs_two_classes: bool = True) -> Dataset:
    if target not in frame.columns:
        raise DataError(f"no column {target!r} in {source or 'the data'}"
                        f" (columns: {', '.join(map(str, frame.columns[:12]))})")
    frame = frame[frame[target].notna()]
    labels = _text(frame[target])
    if labels.nunique() < 2 and needs_two_classes:
        only = labels.iloc[0] if len(labels) else "no rows"
        raise DataError(f"target {target!r} has one class only ({only}):"
                        " need good and bad outcomes")
    bad = _bad_value(labels.unique(), target, bad_value) if labels.nunique() >= 2 else (
        bad_value or "bad")
    y = (labels == bad).to_numpy(dtype=int)
    extra = {d.lower() for d in drop}
    dropped = [c for c in frame.columns if c != target and (
        str(c).lower() in FORBIDDEN_COLUMNS or str(c).lower() in extra
        or frame[c].nunique(dropna=True) <= 1)]
    X = frame.drop(columns=[target, *dropped]).reset_index(drop=True)
    if X.shape[1] == 0:
        raise DataError("no input columns left after dropping the target and forbidden columns")
    categorical = []
    for column in X.columns:
        if pd.api.types.is_bool_dtype(X[column]) or not pd.api.types.is_numeric_dtype(X[column]):
            X[column] = X[column].map(lambda v: v if pd.isna(v) else str(v)).astype(object)
            categorical.append(str(column))
        else:
            X[column] = X[column].astype(float)
    X.columns = [str(c) for c in X.columns]
    return Dataset(X=X, y=y, target=target, bad_value=bad, categorical=categorical,
                   dropped=[str(c) for c in dropped], source=source, digest=digest)


def load(path: str | Path, target: str, *, bad_value: str | None = None,
         drop: Iterable[str] = ()) -> Dataset:
    frame, digest = read_csv(path)
    return prepare(frame, target, bad_value=bad_value, drop=drop, source=str(path),
                   digest=digest)
