"""Issue 14 regressions at the HTTP edge: `"layers": true` is a 422 (#11), /docs and /openapi.json need the API key
when one is set (#12), the schema documents the errors and the limits, and 405 answers carry `Allow` (#13)."""

from __future__ import annotations

import httpx
import pytest
from server_helpers import AUTH, make_settings, running

from contextvec import Embedder
from contextvec.serve.app import create_app

DOCUMENTED = {"400", "401", "404", "413", "422", "429", "504"}


@pytest.mark.parametrize("layers", [True, False, [True, 1]])
def test_boolean_layers_are_a_422(server_url: str, layers: object) -> None:
    r = httpx.post(server_url + "/embed/words", json={"texts": ["a bank"], "layers": layers}, headers=AUTH)
    assert r.status_code == 422, r.text
    assert "not true/false" in r.json()["error"]["message"]


def test_docs_and_schema_need_the_key(server_url: str) -> None:
    for path in ("/docs", "/openapi.json"):
        r = httpx.get(server_url + path)
        assert r.status_code == 401 and r.json()["error"]["type"] == "unauthorized", path
        assert httpx.get(server_url + path, headers=AUTH).status_code == 200, path
    assert httpx.get(server_url + "/redoc").status_code in (401, 404)


def test_without_a_key_docs_are_open(bert_embedder: Embedder) -> None:
    app = create_app(make_settings(), embedders={"tiny": bert_embedder})
    with running(app) as (url, _):
        assert httpx.get(url + "/docs").status_code == 200
        assert "/embed/words" in httpx.get(url + "/openapi.json").json()["paths"]


def test_the_schema_documents_errors_and_limits(server_url: str) -> None:
    doc = httpx.get(server_url + "/openapi.json", headers=AUTH).json()
    operations = [op for item in doc["paths"].values() for op in item.values()]
    assert len(operations) >= 8
    for op in operations:
        assert set(op["responses"]) >= DOCUMENTED, op["operationId"]
        assert op["responses"]["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")
    schemas = doc["components"]["schemas"]
    texts = schemas["WordsRequest"]["properties"]["texts"]
    assert texts["minItems"] == 1 and texts["maxItems"] == 300  # the server_url fixture's limits
    assert texts["items"]["minLength"] == 1 and texts["items"]["maxLength"] == 5000
    assert schemas["SpanItem"]["properties"]["text"]["minLength"] == 1
    assert schemas["CompareRequest"]["properties"]["word"]["minLength"] == 1
    assert "NaN" in doc["paths"]["/embed/words"]["post"]["responses"]["400"]["description"]


@pytest.mark.parametrize(("method", "path", "allow"), [("GET", "/embed/words", "POST"), ("POST", "/health", "GET")])
def test_405_names_the_allowed_methods(server_url: str, method: str, path: str, allow: str) -> None:
    r = httpx.request(method, server_url + path, headers=AUTH)
    assert r.status_code == 405 and allow in r.headers["allow"]
    assert r.json()["error"]["code"] == 405


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/compare", {"texts": ["a bank", "the bank"], "word": "bank", "context_only": 0}),
        ("/compare", {"texts": ["a bank", "the bank"], "word": "bank", "occurrence": "1"}),
        ("/embed/sentences", {"texts": ["a bank"], "normalize": 0}),
        ("/embed/spans", {"spans": [{"text": "a bank", "start": False, "end": 1}]}),
        ("/embed/words", {"texts": ["a bank"], "layers": "-2:", "layer_pooling": [True, 1.0]}),
    ],
)
def test_values_the_schema_does_not_allow_are_a_422(server_url: str, path: str, body: dict[str, object]) -> None:
    """Found by the fuzzing: lax pydantic took 0 for false, false for 0 and "1" for 1, which the schema forbids."""
    r = httpx.post(server_url + path, json=body, headers=AUTH)
    assert r.status_code == 422, r.text
