"""The layer and capability contracts of docs/ARCHITECTURE.md, checked with import-linter
(contracts in pyproject.toml): they hold for the tree as it is, and they catch a domain module
that reaches for the API."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(root: Path, src: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([str(LINT), "--no-cache", "--no-logo", str(root / "pyproject.toml")],
                          cwd=root, env=env, capture_output=True, text=True, timeout=120)


def test_the_tree_keeps_every_contract() -> None:
    result = lint(ROOT, ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("domain/shared/money.py", "from biaodi.api import app", "Layers point inwards"),
    ("domain/ledger/rules.py", "from biaodi.domain.servicing import buckets",
     "Capabilities use each other in one direction"),
    ("services/ledger/posting.py", "from biaodi.services.servicing import loan",
     "Capabilities use each other in one direction"),
    ("domain/listings/schedule.py", "import sqlalchemy", "The domain does no I/O"),
    ("api/routes/listings.py", "from biaodi.adapters.db.tables import Listing",
     "Routes run no SQL"),
    ("web/routes/marketplace.py", "from biaodi.adapters.db.tables import Listing",
     "Routes run no SQL"),
    ("web/pages.py", "from biaodi.api import deps", "Layers point inwards"),
])
def test_a_forbidden_import_breaks_its_contract(tmp_path: Path, module: str, line: str,
                                               contract: str) -> None:
    shutil.copytree(ROOT / "src" / "biaodi", tmp_path / "src" / "biaodi",
                    ignore=shutil.ignore_patterns("__pycache__", "models", "packs"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "src" / "biaodi" / module
    target.write_text(target.read_text() + f"\n{line}  # a shortcut\n")
    result = lint(tmp_path, tmp_path / "src")
    assert result.returncode == 1, result.stdout + result.stderr
    broken = [block for block in result.stdout.split("\n\n") if "BROKEN" in block]
    assert any(contract in block for block in broken), result.stdout
    assert module.replace("/", ".").removesuffix(".py") in result.stdout
