"""Entrypoint: the `biaodi` command line, one module per capability (Typer + Rich)."""
