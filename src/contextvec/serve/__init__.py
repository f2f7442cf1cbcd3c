"""contextvec serve: an HTTP service over the spine (FastAPI + uvicorn). Needs `pip install "contextvec[server]"`."""

from __future__ import annotations

from contextvec.errors import MissingExtraError


def require_server_extra() -> None:
    """Raise a MissingExtraError naming the pip command if the server dependencies are not installed."""
    try:
        import fastapi  # noqa: F401
        import prometheus_client  # noqa: F401
        import pydantic_settings  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise MissingExtraError(
            f'the server needs extra packages ({exc.name} is missing): pip install "contextvec[server]"'
        ) from None
