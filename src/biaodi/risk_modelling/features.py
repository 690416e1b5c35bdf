"""Model inputs: the columns of the data plus a few derived ratios, computed the same way in
training (whole columns) and in scoring (one application).

Derivations apply when their source columns are present, so a CSV with other columns trains
on its own columns only. The default model's inputs are the application fields of
`APPLICATION_INPUTS` (Biaodi's names, amounts in yuan).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: What an application supplies to a model, by input name.
APPLICATION_INPUTS = (
    "employment_years", "housing", "term_months", "age", "marital_status",
    "has_arrears_record", "employment_type", "monthly_expenses", "monthly_income", "assets",
    "debts", "amount", "purchase_price",
)


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    out = np.full(np.broadcast(a, b).shape, np.nan)
    return np.divide(a, b, out=out, where=(b != 0) & ~np.isnan(b) & ~np.isnan(a))


def _zero_if_missing(a: np.ndarray) -> np.ndarray:
    return np.nan_to_num(np.asarray(a, dtype=float), nan=0.0)


def _term_months(term: np.ndarray) -> np.ndarray:
    """Lending Club's "term_36" → 36.0."""
    return np.array([float(str(t).rsplit("_", 1)[-1]) if isinstance(t, str) and
                     str(t).rsplit("_", 1)[-1].isdigit() else np.nan for t in term])


def _emp_years(emp: np.ndarray) -> np.ndarray:
    """Lending Club's "emp_lt_1" / "emp_5" / "emp_ge_10" / "emp_unk" → 0 / 5 / 10 / NaN."""
    table = {"emp_lt_1": 0.0, "emp_ge_10": 10.0}
    values = []
    for e in emp:
        text = str(e)
        if text in table:
            values.append(table[text])
        elif text.startswith("emp_") and text[4:].isdigit():
            values.append(float(text[4:]))
        else:
            values.append(np.nan)
    return np.array(values)


@dataclass(frozen=True)
class Derivation:
    name: str
    needs: tuple[str, ...]
    fn: Callable[..., np.ndarray]


def _affordability(income: Any, expenses: Any, debts: Any, amount: Any, term: Any) -> Any:
    left = (np.asarray(income, dtype=float) - np.asarray(expenses, dtype=float)
            - _zero_if_missing(debts) / 12 - _ratio(amount, term))
    return _ratio(left, income)


def _set(names: tuple[str, ...]) -> tuple[Derivation, ...]:
    """The credit-data ratios over a naming of its columns (Biaodi's or the original)."""
    income, expenses, debts, assets, amount, price, term, years, age = names
    return (
        Derivation("loan_to_value", (amount, price), _ratio),
        Derivation("instalment_to_income", (amount, term, income),
                   lambda a, t, i: _ratio(_ratio(a, t), i)),
        Derivation("expenses_to_income", (expenses, income), _ratio),
        Derivation("free_income_ratio", (income, expenses, debts, amount, term), _affordability),
        Derivation("debts_to_income", (debts, income), _ratio),
        Derivation("assets_to_amount", (assets, amount), _ratio),
        Derivation("net_assets", (assets, debts),
                   lambda a, d: np.asarray(a, dtype=float) - np.asarray(d, dtype=float)),
        Derivation("amount_to_income", (amount, income), _ratio),
        Derivation("tenure_share", (years, age),
                   lambda s, a: _ratio(s, np.asarray(a, dtype=float) - 17)),
    )


DERIVATIONS: tuple[Derivation, ...] = (
    *_set(("monthly_income", "monthly_expenses", "debts", "assets", "amount",
           "purchase_price", "term_months", "employment_years", "age")),
    *_set(("Income", "Expenses", "Debt", "Assets", "Amount", "Price", "Time", "Seniority",
           "Age")),
    # Lending Club: no rate (Biaodi prices loans itself), so payments are estimated per month.
    Derivation("loan_to_income", ("funded_amnt", "annual_inc"), _ratio),
    Derivation("payment_to_income", ("funded_amnt", "term", "annual_inc"),
               lambda a, t, i: _ratio(_ratio(a, _term_months(t)),
                                      np.asarray(i, dtype=float) / 12)),
    Derivation("il_utilisation", ("total_bal_il", "total_il_high_credit_limit"), _ratio),
    Derivation("il_balance_to_income", ("total_bal_il", "annual_inc"), _ratio),
    Derivation("emp_years", ("emp_length",), _emp_years),
)


def applicable(columns: list[str]) -> list[Derivation]:
    present = set(columns)
    chosen, names = [], set(columns)
    for d in DERIVATIONS:
        if set(d.needs) <= present and d.name not in names:
            chosen.append(d)
            names.add(d.name)
    return chosen


def add_derived(frame: pd.DataFrame, derivations: list[Derivation]) -> pd.DataFrame:
    """The frame with the derived columns appended (training and batch evaluation)."""
    extra = {d.name: d.fn(*(frame[c].to_numpy() for c in d.needs)) for d in derivations}
    return pd.concat([frame.reset_index(drop=True), pd.DataFrame(extra)], axis=1)


def derive_row(row: Mapping[str, Any], derivations: list[Derivation]) -> dict[str, Any]:
    """One application's inputs with the derived values added (scoring)."""
    out = dict(row)
    for d in derivations:
        args = [np.array([np.nan if row.get(c) is None else row[c]],
                         dtype=object if isinstance(row.get(c), str) else float)
                for c in d.needs]
        value = float(d.fn(*args)[0])
        out[d.name] = None if np.isnan(value) else value
    return out
