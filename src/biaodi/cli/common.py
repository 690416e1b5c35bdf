"""Shared bits of the CLI: the platform built from settings, one-line errors."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

from biaodi.bootstrap import Platform, build_platform
from biaodi.config import Settings

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def platform() -> Platform:
    return build_platform(Settings())


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)
