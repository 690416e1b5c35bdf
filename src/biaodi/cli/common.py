"""Shared bits of the CLI: the platform built from settings, one-line errors."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NoReturn

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from biaodi.adapters.db.migrate import schema_problem
from biaodi.bootstrap import Platform, build_platform
from biaodi.config import Settings

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

#: Exit code when the database is missing, unreachable or not at the latest schema.
EXIT_NO_DATABASE = 2


def platform(*, migrated: bool = True) -> Platform:
    """The platform from the settings (BIAODI_*). With `migrated` (every command but
    `db upgrade`), a database that is missing, unreachable or behind the code's schema ends the
    command with one line and exit code 2 instead of a traceback half-way through."""
    p = build_platform(Settings())
    if not migrated:
        return p
    url = p.engine.url.render_as_string(hide_password=True)
    try:
        problem = schema_problem(p.engine)
        p.engine.dispose()  # the check leaves no pooled connection behind (commands that
        # stop on bad input before `p.close()` would leak it)
    except SQLAlchemyError as exc:
        p.close()
        reason = str(exc.orig if getattr(exc, "orig", None) else exc).strip().splitlines()[0]
        fail(f"cannot open the database at {url}: {reason}", EXIT_NO_DATABASE)
    if problem is not None:
        p.close()
        fail(f"database at {url} {problem}: run `biaodi db upgrade`", EXIT_NO_DATABASE)
    return p


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def relay_passes(p: Platform, one_pass: Callable[[], tuple[bool, str, list[str]]], *,
                 loop: bool, pause: float) -> None:
    """Run a relay's passes: once, or with `loop` every `pause` seconds until Ctrl-C. A pass
    answers (did anything, its summary, its errors); a looping relay prints only the passes
    that did something. The platform is closed at the end."""
    try:
        while True:
            busy, summary, errors = one_pass()
            if not loop or busy:
                console.print(summary, highlight=False)
                for error in errors:
                    console.print(f"  {error}", highlight=False)
            if not loop:
                break
            time.sleep(pause)
    except KeyboardInterrupt:
        pass
    finally:
        p.close()
