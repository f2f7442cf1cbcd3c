"""Optional dependencies (pip extras): one check, run before any work, that names the one pip command.

Imports nothing but the standard library and `contextvec.errors`, so every layer may use it.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Literal

from contextvec.errors import MissingExtraError

Extra = Literal["server", "static", "viz", "vision", "index", "ray", "onnx"]

# the modules each extra provides (import names, not distribution names)
EXTRA_MODULES: dict[Extra, tuple[str, ...]] = {
    "server": ("fastapi", "uvicorn", "pydantic_settings", "prometheus_client", "orjson"),
    "static": ("gensim", "sklearn", "scipy"),
    "viz": ("matplotlib",),
    "vision": ("PIL", "sklearn"),
    "index": ("lancedb",),
    "ray": ("ray", "aiohttp"),
    "onnx": ("onnxruntime", "onnx", "onnxscript"),  # onnxscript: torch.onnx.export's dynamo exporter
}


def install_command(extra: Extra) -> str:
    """The one command that installs an extra, quoted for every shell: pip install "contextvec[server]"."""
    return f'pip install "contextvec[{extra}]"'


def _missing(module: str) -> bool:
    if module in sys.modules:
        return sys.modules[module] is None  # None marks a module known not to import
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):
        return True


def require_extra(extra: Extra, purpose: str) -> None:
    """Raise MissingExtraError (naming the missing module and the pip command) if `extra` is not installed.

    Cheap: finds the modules without importing them, so a command can check before loading any model.
    """
    missing = [m for m in EXTRA_MODULES[extra] if _missing(m)]
    if missing:
        raise MissingExtraError(
            f"{purpose} needs the [{extra}] extra ({', '.join(missing)} not installed); "
            f"install it with: {install_command(extra)}"
        )
