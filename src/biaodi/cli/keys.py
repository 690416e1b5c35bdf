"""`biaodi keys …`: the personal-data key — a new one, where values stand, and rotation.

Rotation, step by step (docs/RELIABILITY.md, "Personal data"): `biaodi keys new`; configure
it as BIAODI_SECRET_KEY and the previous key in BIAODI_OLD_SECRET_KEYS (newest first); restart;
`biaodi keys rotate`; `biaodi keys status` shows nothing left under an old key; then the old key
may go (after pinning BIAODI_DIGEST_KEY if the digests were derived from it).
"""

from __future__ import annotations

import typer
from cryptography.fernet import Fernet
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from biaodi.cli.common import console, err_console, fail, platform
from biaodi.services.accounts import personal_data

app = typer.Typer(help="The key that encrypts personal data: new key, status, rotation.",
                  no_args_is_help=True)


@app.command("new")
def new_key() -> None:
    """Print a fresh encryption key (set it as BIAODI_SECRET_KEY; nothing is stored)."""
    console.print(Fernet.generate_key().decode(), highlight=False)


@app.command("status")
def status() -> None:
    """Count the personal values under the current key, under an old one, and unreadable;
    check that the digest key is the one the stored digests were made with."""
    p = platform()
    try:
        with p.reader() as uow:
            rows = personal_data.key_status(uow, p.cipher)
            match = personal_data.digests_match(uow, p.cipher)
    finally:
        p.close()
    table = Table("column", "current key", "old key", "unreadable")
    for r in rows:
        table.add_row(r.column, str(r.current), str(r.old), str(r.unreadable))
    console.print(table)
    console.print(f"old keys configured: {p.cipher.old_key_count}", highlight=False)
    old = sum(r.old for r in rows)
    unreadable = sum(r.unreadable for r in rows)
    console.print(f"values under an old key: {old}; unreadable: {unreadable}", highlight=False)
    if match is False:
        fail("the digest key does not match the stored digests: set BIAODI_DIGEST_KEY (or the "
             "oldest key in BIAODI_OLD_SECRET_KEYS) as it was", 1)
    if unreadable:
        raise typer.Exit(1)


@app.command("digest-key")
def digest_key() -> None:
    """Print the digest key in use (64 hex digits): pin it as BIAODI_DIGEST_KEY before removing
    the key it is derived from."""
    p = platform(migrated=False)
    p.close()
    console.print(p.cipher.digest_key_hex, highlight=False)


@app.command("rotate")
def rotate(chunk_size: int = typer.Option(500, min=1, help="Rows per transaction.")) -> None:
    """Re-encrypt every personal value under the current key (BIAODI_SECRET_KEY), reading old
    values with BIAODI_OLD_SECRET_KEYS. Values already under the current key are left as they
    are: running it again changes nothing."""
    p = platform()
    try:
        with p.reader() as uow:
            if personal_data.digests_match(uow, p.cipher) is False:
                fail("the digest key does not match the stored digests: set BIAODI_DIGEST_KEY "
                     "(or the oldest key in BIAODI_OLD_SECRET_KEYS) as it was; nothing changed")
            total = personal_data.rows_to_rotate(uow)
        columns = (TextColumn("re-encrypting"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn())
        with Progress(*columns, console=err_console,
                      disable=not err_console.is_terminal) as bar:
            task = bar.add_task("rows", total=total)
            done = personal_data.rotate(p.uow, p.cipher, chunk_size=chunk_size,
                                        progress=lambda n: bar.advance(task, n))
    except ValueError as error:
        fail(f"{error}: configure the key it was encrypted with in BIAODI_OLD_SECRET_KEYS")
    finally:
        p.close()
    console.print(f"re-encrypted {done.rewritten} values; {done.unchanged} already under the "
                  "current key", highlight=False)
