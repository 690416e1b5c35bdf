"""`biaodi risk train / evaluate / cv / packs / dataset` on the committed fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from biaodi.cli.main import app

DATA = Path(__file__).resolve().parents[2] / "data"
CREDIT = str(DATA / "credit_data_sample.csv")
LENDING = str(DATA / "lending_club_sample.csv")


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="module")
def trained(runner: CliRunner, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("model")
    result = runner.invoke(app, ["risk", "train", "--data", CREDIT, "--target", "status",
                                 "--out", str(out), "--no-tune"])
    assert result.exit_code == 0, result.output
    assert "champion AUC" in result.output and "written to" in result.output
    return out


def test_train_writes_a_versioned_model_with_its_card(trained: Path) -> None:
    card = json.loads((trained / "model_card.json").read_text())
    assert card["version"].startswith("credit_data_sample-")
    assert {"auc", "ks", "gini"} <= set(card["champion"]["holdout"])
    assert len(card["grades"]) == 6 and "psi_baseline" in card


def test_evaluate_prints_auc_ks_and_grades(runner: CliRunner, trained: Path) -> None:
    result = runner.invoke(app, ["risk", "evaluate", "--model", str(trained), "--data", CREDIT,
                                 "--target", "status"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["auc"] > 0.8 and report["ks"] > 0.4
    assert [g["grade"] for g in report["grades"]] == ["A", "B", "C", "D", "E", "HR"]


def test_cv_prints_the_auc_of_champion_and_challenger(runner: CliRunner) -> None:
    result = runner.invoke(app, ["risk", "cv", "--data", CREDIT, "--target", "status",
                                 "--folds", "2", "--no-tune"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["folds"] == 2
    assert report["champion"]["auc"] > 0.75 and report["challenger"]["auc"] > 0.75


def _one_line_exit_2(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.mark.parametrize("command", ["train", "cv"])
def test_unusable_data_exits_2_with_one_line(runner: CliRunner, tmp_path: Path,
                                             command: str) -> None:
    extra = ["--out", str(tmp_path / "m")] if command == "train" else []
    missing = runner.invoke(app, ["risk", command, "--data", CREDIT, "--target", "Status",
                                  *extra])
    assert "no column 'Status'" in _one_line_exit_2(missing)
    one_class = tmp_path / "one.csv"
    one_class.write_text("x,y\n1,good\n2,good\n3,good\n")
    result = runner.invoke(app, ["risk", command, "--data", str(one_class), "--target", "y",
                                 *extra])
    assert "one class only" in _one_line_exit_2(result)
    result = runner.invoke(app, ["risk", command, "--data", str(tmp_path / "nope.csv"),
                                 "--target", "y", *extra])
    assert "cannot read" in _one_line_exit_2(result)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    result = runner.invoke(app, ["risk", command, "--data", str(binary), "--target", "y",
                                 *extra])
    assert "cannot read" in _one_line_exit_2(result)
    result = runner.invoke(app, ["risk", command, "--data", CREDIT, "--target", "status",
                                 "--bad-value", "awful", *extra])
    assert "does not occur" in _one_line_exit_2(result)


def test_evaluate_with_an_unreadable_model_or_mismatched_data_exits_2(
        runner: CliRunner, trained: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["risk", "evaluate", "--model", str(tmp_path), "--data",
                                 CREDIT, "--target", "status"])
    assert "cannot load a risk model" in _one_line_exit_2(result)
    result = runner.invoke(app, ["risk", "evaluate", "--model", str(trained), "--data",
                                 LENDING, "--target", "Class"])
    assert "lack the model's input columns" in _one_line_exit_2(result)


def test_packs_lists_and_shows_rules(runner: CliRunner) -> None:
    listing = runner.invoke(app, ["risk", "packs"])
    assert listing.exit_code == 0 and "cn-2016@" in listing.output
    assert "permissive@" in listing.output
    shown = runner.invoke(app, ["risk", "packs", "cn-2016"])
    assert shown.exit_code == 0 and "cn2016.instant_listing_ban" in shown.output
    assert "refuse" in shown.output
    assert runner.invoke(app, ["risk", "packs", "nope"]).exit_code == 2


def test_dataset_exports_a_stratified_sample(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    result = runner.invoke(app, ["risk", "dataset", "credit_data", "--biaodi-names",
                                 "--sample", "300", "--out", str(out)])
    assert result.exit_code == 0, result.output
    header = out.read_text().splitlines()[0].split(",")
    assert "monthly_income" in header and "status" in header and "rownames" not in header
    assert runner.invoke(app, ["risk", "dataset", "iris", "--out", str(out)]).exit_code == 2
