"""contextvec serve: an HTTP service over the spine (FastAPI + uvicorn). Needs `pip install "contextvec[server]"`."""

from __future__ import annotations

from contextvec.extras import require_extra


def require_server_extra() -> None:
    """Raise a MissingExtraError naming the pip command if the server dependencies are not installed."""
    require_extra("server", "the server")
