"""Errors on the wire: one JSON shape for every failure, and exceptions mapped to HTTP status by type.

{"error": {"message": "...", "type": "...", "code": 400}}
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from contextvec.errors import ContextvecError, ModelNotFoundError
from contextvec.serve.scheduler import InternalError, QueueFull, ShuttingDown

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """A request the server refuses for a reason of its own (limits, auth, timeouts), with its status."""

    def __init__(self, status: int, message: str, kind: str) -> None:
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


def error_response(status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"message": message, "type": kind, "code": status}}
    return JSONResponse(body, status_code=status, headers=headers)


def _status_of(exc: ContextvecError) -> tuple[int, str]:
    """HTTP status and error type of a contextvec error (the most specific class first)."""
    if isinstance(exc, ModelNotFoundError):
        return 404, "model_not_found"
    if isinstance(exc, QueueFull):
        return 429, "overloaded"
    if isinstance(exc, ShuttingDown):
        return 503, "shutting_down"
    return 400, "invalid_request_error"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return error_response(exc.status, exc.message, exc.kind, headers)

    @app.exception_handler(ContextvecError)
    async def contextvec_error(_: Request, exc: ContextvecError) -> JSONResponse:
        status, kind = _status_of(exc)
        headers = {"Retry-After": "1"} if status in (429, 503) else None
        return error_response(status, str(exc), kind, headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            detail = next(e for e in errors if e.get("type") == "json_invalid").get("ctx", {}).get("error", "")
            return error_response(400, f"the request body is not valid JSON ({detail}).", "invalid_json")
        parts = []
        for e in errors[:5]:
            where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
            parts.append(f"{where}: {e.get('msg')}")
        return error_response(422, "invalid request: " + "; ".join(parts), "invalid_request_error")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), "http_error", dict(exc.headers or {}) or None)

    @app.exception_handler(InternalError)
    async def internal(_: Request, exc: InternalError) -> JSONResponse:  # already logged by the scheduler
        return error_response(500, f"internal error: {exc} The server log has the details.", "server_error")

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected server error")
        message = f"internal error ({type(exc).__name__}); the server log has the details."
        return error_response(500, message, "server_error")
