"""Model metrics: AUC, KS, Gini, the population stability index, calibration by grade."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

#: PSI thresholds: below STABLE nothing moved; above ACT the model needs attention.
PSI_STABLE = 0.10
PSI_ACT = 0.25
_EPSILON = 1e-4  # share given to an empty bin so that PSI stays finite


def auc(y: np.ndarray, pd_bad: np.ndarray) -> float:
    return float(roc_auc_score(y, pd_bad))


def ks(y: np.ndarray, pd_bad: np.ndarray) -> float:
    """Kolmogorov–Smirnov: the largest gap between the bad and good score distributions."""
    fpr, tpr, _ = roc_curve(y, pd_bad)
    return float(np.max(tpr - fpr))


def summary(y: np.ndarray, pd_bad: np.ndarray) -> dict[str, float]:
    a = auc(y, pd_bad)
    return {"auc": round(a, 4), "ks": round(ks(y, pd_bad), 4), "gini": round(2 * a - 1, 4)}


def psi(expected: Sequence[float], actual: Sequence[float]) -> float:
    """Σ (a − e) · ln(a / e) over bins, shares floored at 0.0001."""
    e = np.clip(np.asarray(expected, dtype=float), _EPSILON, None)
    a = np.clip(np.asarray(actual, dtype=float), _EPSILON, None)
    e, a = e / e.sum(), a / a.sum()
    return float(np.sum((a - e) * np.log(a / e)))


def psi_status(value: float) -> str:
    if value < PSI_STABLE:
        return "stable"
    if value <= PSI_ACT:
        return "watch"
    return "act"


def shares(indices: Sequence[int], n_bins: int) -> list[float]:
    counts = np.bincount(np.asarray(indices, dtype=int), minlength=n_bins)[:n_bins]
    total = counts.sum()
    return [float(c / total) if total else 0.0 for c in counts]


def quantile_edges(values: np.ndarray, n_bins: int = 10) -> list[float]:
    """Inner edges of `n_bins` equal-population bins (duplicates removed)."""
    qs = np.quantile(values, np.linspace(0, 1, n_bins + 1)[1:-1])
    return sorted({float(q) for q in qs})
