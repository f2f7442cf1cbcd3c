"""What every `contextvec` sub-command shares: the consoles, the one way errors are shown, and option types.

Anything user-supplied (texts, words, paths, error messages) is printed verbatim: through `rich.markup.escape`
when it sits inside markup, or with `markup=False`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, cast

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from contextvec.errors import ContextvecError
from contextvec.models.registry import DEFAULT_MODEL
from contextvec.options import LayerPoolingArg, LayerPoolingMode

out = Console()
err = Console(stderr=True)

__all__ = ["DEFAULT_MODEL", "escape"]

ModelOpt = Annotated[
    str, typer.Option("--model", "-m", help="minilm | mpnet | smollm2 | glove-50d | a model folder | a vector file")
]
LayersOpt = Annotated[
    str | None,
    typer.Option(help="layers: -1, '-4:', '0,6,12' or all (0 = embedding output); default: the model's recipe"),
]
LayerPoolOpt = Annotated[str, typer.Option(help="mean | sum | concat | comma-separated weights, one per layer")]
SubwordOpt = Annotated[str, typer.Option(help="first | last | first_last | mean | max")]


def layer_pooling_arg(value: str) -> LayerPoolingArg:
    """'mean' | 'sum' | 'concat' stay names (validated later); '0.2,0.8' becomes scalar weights."""
    if any(ch.isdigit() for ch in value):
        try:
            return [float(x) for x in value.split(",")]
        except ValueError:
            pass
    return cast(LayerPoolingMode, value)


def progress_bar(label: str, unit: str) -> Progress:
    """A bar on stderr, shown only when stderr is a terminal (logs and pipes get the final line alone)."""
    return Progress(
        TextColumn(escape(label)),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        console=err,
        disable=not sys.stderr.isatty(),
    )


def fail(exc: ContextvecError) -> typer.Exit:
    """Print 'error: ...' (what is wrong and how to fix it) to stderr; the caller raises the returned Exit."""
    err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


@contextmanager
def reported() -> Iterator[None]:
    """Run a command's body; a ContextvecError becomes 'error: ...' on stderr and exit code 2."""
    try:
        yield
    except ContextvecError as exc:
        raise fail(exc) from None
