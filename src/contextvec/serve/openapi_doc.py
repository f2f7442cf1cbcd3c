"""The OpenAPI document tells the truth: every operation lists the errors it can answer (all in the one JSON
shape of errors.py), and the request limits of this server's settings appear as maxItems / maxLength."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from contextvec.serve.schemas import ErrorResponse
from contextvec.serve.settings import ServerSettings

_ERRORS = {
    400: "invalid input the schema cannot express (a text without a visible character, a span off word "
    "boundaries, a word missing from a text, a layer the model lacks), invalid JSON, or non-finite output "
    "(NaN/Infinity, e.g. float16 overflow)",
    401: "missing or wrong API key (only with --api-key)",
    404: "the model is not served here",
    413: "the body, a text or the number of texts is over this server's limits",
    422: "the body does not match the schema",
    429: "the queue is full; retry after the Retry-After header's seconds",
    500: "the model failed on this request's batch for a reason that is not the request's (details in the log)",
    503: "the server is shutting down; retry on another server",
    504: "the request took longer than the server's request timeout",
}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text} for status, text in _ERRORS.items()
}

# request bodies whose lists and texts are bounded by the settings: (schema, list field, item's text field)
_LIMITED = {
    "TextsRequest": "texts",
    "WordsRequest": "texts",
    "SentencesRequest": "texts",
    "CompareRequest": "texts",
    "SpansRequest": "spans",
}


def truthful_openapi(app: FastAPI, settings: ServerSettings) -> dict[str, Any]:
    """FastAPI's document plus this server's limits (cached on the app like FastAPI's own)."""
    if app.openapi_schema is None:
        doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schemas = doc.get("components", {}).get("schemas", {})
        for name, field in _LIMITED.items():
            if name in schemas:
                prop = schemas[name]["properties"][field]
                prop["maxItems"] = settings.max_texts_per_request
                if field == "texts":
                    prop["items"]["maxLength"] = settings.max_chars_per_text
        if "SpanItem" in schemas:
            schemas["SpanItem"]["properties"]["text"]["maxLength"] = settings.max_chars_per_text
        app.openapi_schema = doc
    return app.openapi_schema
