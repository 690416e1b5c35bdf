"""Population stability: recent applications against the model's training baseline.

PSI = Σ (actual − expected) · ln(actual / expected) over bins: the score in the training
score's deciles, each input in its training deciles (numeric) or main categories (plus
"other" and "missing"). Below 0.10 the population is stable, 0.10–0.25 worth watching, above
0.25 the model needs action (re-calibration or retraining).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from biaodi.risk_modelling import metrics
from biaodi.risk_modelling.model import RiskModel
from biaodi.risk_modelling.training import input_bins

#: Fewer recent applications than this make the PSI a rough indication only.
MIN_APPLICATIONS = 100


def psi(model: RiskModel, scores: Sequence[int], inputs: Sequence[Mapping[str, Any]]
        ) -> dict[str, Any]:
    baseline = model.card.get("psi_baseline", {})
    thresholds = {"stable_below": metrics.PSI_STABLE, "act_above": metrics.PSI_ACT}
    out: dict[str, Any] = {"model_version": model.version, "applications": len(scores),
                           "enough_data": len(scores) >= MIN_APPLICATIONS,
                           "thresholds": thresholds}
    if not scores or not baseline:
        out |= {"score": {"psi": None, "status": "no data"}, "inputs": [],
                "status": "no data"}
        return out
    edges = np.asarray(baseline["score"]["edges"], dtype=float)
    idx = np.searchsorted(edges, np.asarray(scores, dtype=float), side="right")
    score_psi = metrics.psi(baseline["score"]["shares"], metrics.shares(idx, len(edges) + 1))
    rows = []
    frame = pd.DataFrame(list(inputs))
    for name, spec in baseline.get("inputs", {}).items():
        if name not in frame.columns:
            continue
        column = frame[name]
        if spec["type"] == "numerical":
            column = pd.to_numeric(column, errors="coerce")
        bins = input_bins(column, spec)
        value = metrics.psi(spec["shares"], metrics.shares(bins, len(spec["shares"])))
        rows.append({"input": name, "psi": round(value, 4), "status": metrics.psi_status(value)})
    rows.sort(key=lambda r: -r["psi"])
    worst = max([score_psi, *[r["psi"] for r in rows]])
    out |= {"score": {"psi": round(score_psi, 4), "status": metrics.psi_status(score_psi)},
            "inputs": rows, "status": metrics.psi_status(worst)}
    return out
