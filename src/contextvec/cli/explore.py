"""`contextvec explore`: the server with the web explorer on (the same as `contextvec serve --ui`); every flag is
a ServerSettings field, so defaults, descriptions and CONTEXTVEC_* variables are the server's own."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer


def _help(field: str) -> str:
    try:
        from contextvec.serve.settings import ServerSettings
    except ImportError:  # no [server] extra: the command still lists, and says what to install when run
        return 'a server setting (install the [server] extra: pip install "contextvec[server]")'
    info = ServerSettings.model_fields[field]
    default = ",".join(info.default) if isinstance(info.default, list) else info.default
    return f"{info.description} (default: {default if default not in (None, '') else 'none'})"


def explore(
    model: Annotated[list[str] | None, typer.Option("--model", "-m", help=_help("models"))] = None,
    index: Annotated[Path | None, typer.Option(help=_help("index"))] = None,
    port: Annotated[int | None, typer.Option(help=_help("port"))] = None,
    host: Annotated[str | None, typer.Option(help=_help("host"))] = None,
    api_key: Annotated[str | None, typer.Option(help=_help("api_key"))] = None,
    ui_static_model: Annotated[str | None, typer.Option(help=_help("ui_static_model"))] = None,
    static_model: Annotated[str | None, typer.Option(hidden=True, help="deprecated: --ui-static-model")] = None,
) -> None:
    """Explore contextual vectors in the browser: compare a word across sentences layer by layer, map its senses,
    contextuality curves, attention by word, and search an index by example (open the printed address)."""
    from contextvec.cli.common import fail, renamed_flag
    from contextvec.cli.serve import serve
    from contextvec.errors import ContextvecError
    from contextvec.serve import require_server_extra

    try:
        require_server_extra()
    except ContextvecError as exc:
        raise fail(exc) from None
    if static_model is not None:
        renamed_flag("explore --static-model", "--ui-static-model")
        ui_static_model = static_model
    flags: dict[str, Any] = {"models": model, "index": index, "port": port, "host": host, "api_key": api_key}
    serve(**flags, ui_static_model=ui_static_model, ui=True)
