"""What every `contextvec` sub-command shares: the consoles, the one way errors are shown, and option types.

Both consoles print verbatim by default (`markup=False`): texts, words, paths, model names, table cells and
install hints such as `pip install "contextvec[server]"` keep their brackets. The few styled lines say
`markup=True` and pass everything user-supplied through `rich.markup.escape`.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.markup import escape
from typer._click.exceptions import ClickException  # typer 0.29 vendors click: its own exception classes
from typer.core import TyperArgument, TyperGroup, TyperOption

from contextvec.errors import ContextvecError
from contextvec.extras import Extra, require_extra
from contextvec.models.contract import DEFAULT_BACKEND, DEFAULT_PRECISION
from contextvec.models.registry import DEFAULT_MODEL
from contextvec.options import LayerPoolingArg, LayerPoolingMode
from contextvec.progress import Reporter, RichReporter

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
CORPUS_HELP = ".txt (a document a line), .jsonl, .parquet, a folder of them, or 'brown' (a document a sentence)"
InflectOpt = Annotated[
    bool,
    typer.Option(
        "--inflect/--no-inflect",
        help="also match the word's -s/-ed/-ing forms (WordNet's rules); default: only the word itself, in any case",
    ),
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

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)
        except ClickException as exc:
            raise _one_prefix(exc) from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ClickException as exc:
            raise _one_prefix(exc) from None


def _one_prefix(exc: ClickException) -> ClickException:
    """A usage mistake (unknown option, missing argument) shown like every other failure: the usage line, the
    help hint, then 'error: ...' (click's own 'Error: ...' would be the one capitalised prefix)."""

    def show(file: Any = None) -> None:
        ctx = getattr(exc, "ctx", None)
        if ctx is not None:
            hint = f"Try '{ctx.command_path} {ctx.help_option_names[0]}' for help." if ctx.help_option_names else ""
            err.print(f"{ctx.get_usage()}\n{hint}\n", markup=False, highlight=False, soft_wrap=True)
        err.print(f"[bold red]error:[/] {escape(exc.format_message())}", markup=True, highlight=False, soft_wrap=True)

    exc.show = show  # type: ignore[method-assign]
    return exc


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


class _Settings:
    quiet = False  # `contextvec --quiet`: no progress bars (set by the root command for the whole run)


settings = _Settings()


def reporter() -> Reporter:
    """How every command shows progress: Rich bars on stderr while it is a terminal; none under --quiet."""
    return RichReporter(err, quiet=settings.quiet)


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


def renamed_flag(old: str, new: str) -> None:
    """A deprecated flag spelling was used: say its new name on stderr (the old one works until REMOVED_IN)."""
    from contextvec.options import REMOVED_IN

    err.print(f"warning: {old} is renamed {new}; {old} works until contextvec {REMOVED_IN}.", highlight=False)


def require_picture(path: Path | None, purpose: str) -> None:
    """A .png picture needs matplotlib (the [viz] extra); .html pictures are written without it."""
    if path is not None and path.suffix.lower() != ".html":
        require("viz", purpose)
