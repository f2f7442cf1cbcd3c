"""What every `contextvec` sub-command shares: the consoles, the one way errors are shown, and option types.

Both consoles print verbatim by default (`markup=False`): texts, words, paths, model names, table cells and
install hints such as `pip install "contextvec[server]"` keep their brackets. The few styled lines say
`markup=True` and pass everything user-supplied through `rich.markup.escape`.
"""

from __future__ import annotations

import sys
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from typer.core import TyperArgument, TyperGroup, TyperOption

from contextvec.errors import ContextvecError
from contextvec.extras import Extra, require_extra
from contextvec.models.contract import DEFAULT_BACKEND, DEFAULT_PRECISION
from contextvec.models.registry import DEFAULT_MODEL
from contextvec.options import LayerPoolingArg, LayerPoolingMode

out = Console(markup=False)
err = Console(stderr=True, markup=False)

__all__ = ["DEFAULT_BACKEND", "DEFAULT_MODEL", "DEFAULT_PRECISION", "escape"]

ModelOpt = Annotated[
    str,
    typer.Option(
        "--model",
        "-m",
        metavar="MODEL",
        help="minilm | mpnet | smollm2 | glove-50d | a model folder | a vector file",
    ),
]
LayersOpt = Annotated[
    str | None,
    typer.Option(
        metavar="LAYERS",
        help="layers: -1, -4:, 0,6,12 or all (0 = embedding output); default: the model's recipe",
    ),
]
LayerPoolOpt = Annotated[
    str, typer.Option(metavar="POOLING", help="mean | sum | concat | comma-separated weights, one per layer")
]
BackendOpt = Annotated[
    str, typer.Option("--backend", metavar="BACKEND", help="torch | onnx (CPU, the [onnx] extra) | auto")
]
PrecisionOpt = Annotated[
    str,
    typer.Option("--model-dtype", metavar="DTYPE", help="model precision: float32 | bfloat16 | float16 | int8 | auto"),
]
SubwordOpt = Annotated[str, typer.Option(metavar="POOLING", help="first | last | first_last | mean | max")]


def require(extra: Extra, purpose: str) -> None:
    """Before any work: a missing pip extra ends the command with the one pip command that installs it."""
    try:
        require_extra(extra, purpose)
    except ContextvecError as exc:
        raise fail(exc) from None


class ReadableGroup(TyperGroup):
    """The root command group; once its tree is built, every argument and option gets a readable placeholder."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        name_metavars(self)


def name_metavars(command: Any) -> None:
    """SOURCE, FILE, TEXT, INTEGER ... instead of typer's `<str>`, `<bool>` or `{source}` (a given metavar stays)."""
    for param in command.params:
        if isinstance(param, TyperArgument):
            # usage: SOURCE (not typer's {SOURCE}); help: TEXTS... (not TEXTS <list[str]>)
            param.metavar = param.metavar or (param.name or "value").upper()
            param._usage_display_name = _usage_name(param)  # type: ignore[method-assign]
            param._rich_display_name = _usage_name(param, bare=True)  # type: ignore[method-assign]
            param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]
        elif isinstance(param, TyperOption) and not param.metavar and not param.is_flag:
            param.metavar = _option_metavar(param)
    for sub in getattr(command, "commands", {}).values():
        name_metavars(sub)


def _usage_name(param: TyperArgument, bare: bool = False) -> Callable[[], str]:
    name = str(param.metavar)
    shown = (name if param.required or bare else f"[{name}]") + ("..." if param.nargs != 1 else "")
    return lambda: shown


def _option_metavar(param: TyperOption) -> str:
    annotation = param.type_descriptor.annotation
    if param.type_descriptor.is_list:
        annotation = typing.get_args(annotation)[0]
    if param.type_descriptor.is_path:
        return "PATH"
    if annotation is int:
        return "INTEGER"
    if annotation is float:
        return "NUMBER"
    return "TEXT"


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
    err.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


@contextmanager
def reported() -> Iterator[None]:
    """Run a command's body; a ContextvecError becomes 'error: ...' on stderr and exit code 2."""
    try:
        yield
    except ContextvecError as exc:
        raise fail(exc) from None
