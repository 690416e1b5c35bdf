"""`biaodi contracts …`: issue pending e-contracts, and check a file against what was issued."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from biaodi.cli.common import console, err_console, fail, platform
from biaodi.services.documents import contracts as service
from biaodi.services.shared.tx import in_transaction

app = typer.Typer(help="E-contracts: loan agreements, transfer agreements, guarantee letters.",
                  no_args_is_help=True)


@app.command()
def verify(file: Annotated[Path, typer.Argument(help="A contract PDF as downloaded.")]) -> None:
    """Exit 0 if FILE is a contract as issued (its SHA-256 and bytes match a stored copy),
    1 if it is not (changed, or never issued here)."""
    if not file.is_file():
        fail(f"FILE: {file} is not a readable file", 2)
    content = file.read_bytes()
    p = platform()
    with p.reader() as uow:
        verdict = service.verify(uow, content)
    p.close()
    if not verdict.issued:
        err_console.print(f"NOT issued: no contract with SHA-256 {verdict.sha256} "
                          "(the file was changed, or it was not issued by this platform)")
        raise typer.Exit(1)
    doc = verdict.document
    assert doc is not None
    console.print(f"issued: document {doc['id']} ({doc['kind']}, {doc['subject']}, copy of the "
                  f"{doc['party_role']}) on {doc['issued_on']}, SHA-256 {verdict.sha256}")
    for s in doc["signatures"]:
        console.print(f"  signed by {s['party_role']}: {s['act']} at {s['accepted_at']}")


@app.command()
def issue() -> None:
    """Issue every contract still pending now (close of business does this each day)."""
    p = platform()
    renderer = service.renderer_for(p.settings.document_font)
    if not renderer.available():
        p.close()
        fail(f"the font {renderer.font} is missing: install fonts-wqy-zenhei or set "
             "BIAODI_DOCUMENT_FONT; no contract was issued")
    made = in_transaction(p.uow, lambda uow: service.issue_contracts(uow, renderer))
    with p.reader() as uow:
        left = service.pending(uow)
    p.close()
    console.print(f"issued {made} document(s); pending: {left['loans']} loan(s), "
                  f"{left['purchases']} purchase(s)")
