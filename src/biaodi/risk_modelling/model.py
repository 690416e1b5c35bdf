"""A trained risk model: the champion scorecard, the challenger, the grade cut-offs and the
model card, saved as three files in one directory and loaded without pandas or optbinning.

    model.json       scorecard points table, challenger inputs, grade cut-offs, derivations
    challenger.txt   the LightGBM booster (text format)
    model_card.json  data, metrics (AUC, KS, Gini), calibration per grade, PSI baseline
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from biaodi.domain.risk.grades import Grade, GradeCut, grade_for
from biaodi.domain.risk.reasons import Reason
from biaodi.risk_modelling import features
from biaodi.risk_modelling.challenger import Challenger
from biaodi.risk_modelling.scorecard import Scorecard, pd_from_points

MODEL_FILE = "model.json"
CHALLENGER_FILE = "challenger.txt"
CARD_FILE = "model_card.json"
DEFAULT_MODEL = resources.files("biaodi.risk_modelling") / "models" / "default"


class ModelError(ValueError):
    """A model directory that cannot be read, or inputs it cannot score."""


@dataclass(frozen=True)
class ScoreResult:
    score: int
    pd: float
    grade: Grade
    reasons: list[Reason]
    challenger_pd: float | None
    inputs: dict[str, Any]


@dataclass
class RiskModel:
    version: str
    scorecard: Scorecard
    challenger: Challenger | None
    cuts: list[GradeCut]
    derivations: list[dict[str, Any]]  # {"name", "needs"} of each derived input
    card: dict[str, Any] = field(default_factory=dict)

    @property
    def raw_inputs(self) -> list[str]:
        """Columns the model reads from its data (before derivations)."""
        derived = {d["name"] for d in self.derivations}
        used = set(self.scorecard.inputs) | set(self.challenger.inputs if self.challenger else [])
        needs = {c for d in self._derivations() for c in d.needs}
        return sorted((used - derived) | needs)

    def _derivations(self) -> list[features.Derivation]:
        known = {(d.name, d.needs): d for d in features.DERIVATIONS}
        try:
            return [known[(d["name"], tuple(d["needs"]))] for d in self.derivations]
        except KeyError as exc:
            raise ModelError(f"model {self.version} uses an unknown derived input {exc}"
                             ) from None

    def prepare_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return features.derive_row(row, self._derivations())

    def score(self, row: Mapping[str, Any], *, challenger: bool = True,
              top_reasons: int = 4) -> ScoreResult:
        values = self.prepare_row(row)
        points = self.scorecard.points(values)
        score = round(points)
        challenger_pd = (self.challenger.predict_row(values)
                         if challenger and self.challenger is not None else None)
        inputs = set(self.scorecard.inputs) | set(
            self.challenger.inputs if self.challenger else [])
        used = {k: values.get(k) for k in sorted(inputs)}
        return ScoreResult(score=score, pd=pd_from_points(points),
                           grade=grade_for(score, self.cuts),
                           reasons=self.scorecard.reasons(values, top_reasons),
                           challenger_pd=challenger_pd, inputs=used)

    # --- files ----------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        body = {
            "version": self.version,
            "derivations": self.derivations,
            "grades": [{"grade": c.grade.value, "min_score": c.min_score} for c in self.cuts],
            "scorecard": self.scorecard.as_dict(),
            "challenger": self.challenger.as_dict() if self.challenger else None,
        }
        (directory / MODEL_FILE).write_text(json.dumps(body, ensure_ascii=False, indent=1))
        if self.challenger is not None:
            (directory / CHALLENGER_FILE).write_text(self.challenger.model_text)
        (directory / CARD_FILE).write_text(json.dumps(self.card, ensure_ascii=False, indent=2))

    @classmethod
    def load(cls, directory: Path | Any) -> RiskModel:
        try:
            body = json.loads((directory / MODEL_FILE).read_text())
            card = json.loads((directory / CARD_FILE).read_text())
            challenger = None
            if body.get("challenger"):
                meta = body["challenger"]
                challenger = Challenger(inputs=meta["inputs"], categories=meta["categories"],
                                        model_text=(directory / CHALLENGER_FILE).read_text(),
                                        params=meta.get("params", {}))
            return cls(
                version=body["version"],
                scorecard=Scorecard.from_dict(body["scorecard"]),
                challenger=challenger,
                cuts=[GradeCut(Grade(g["grade"]), int(g["min_score"])) for g in body["grades"]],
                derivations=list(body.get("derivations", [])),
                card=card,
            )
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise ModelError(f"cannot load a risk model from {directory}: {exc}") from None


@lru_cache(maxsize=4)
def load_model(directory: str | None = None) -> RiskModel:
    """The model in `directory`, or the one shipped with Biaodi; loaded once per process."""
    return RiskModel.load(Path(directory) if directory else DEFAULT_MODEL)
