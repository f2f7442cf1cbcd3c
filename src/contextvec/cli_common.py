"""What every `contextvec` sub-command shares: the consoles and the one way errors are shown."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from contextvec.errors import ContextvecError

out = Console()
err = Console(stderr=True)


def fail(exc: ContextvecError) -> typer.Exit:
    """Print 'error: ...' (what is wrong and how to fix it) to stderr; the caller raises the returned Exit."""
    err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


@contextmanager
def reported() -> Iterator[None]:
    """Run a command's body; a ContextvecError becomes 'error: ...' on stderr and exit code 2."""
    try:
        yield
    except ContextvecError as exc:
        raise fail(exc) from None
