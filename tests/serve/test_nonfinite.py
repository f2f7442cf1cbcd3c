"""NaN and Infinity never reach a JSON body (issue 14, defect 8): bad weights and float16 overflow are a 400."""

from __future__ import annotations

import json

import httpx
import pytest
from server_helpers import AUTH

TEXT = ["We sat on the bank of the river."]


def _post_raw(url: str, path: str, body: str) -> httpx.Response:
    headers = {**AUTH, "Content-Type": "application/json"}
    return httpx.post(url + path, content=body.encode(), headers=headers, timeout=30)


@pytest.mark.parametrize("weights", ["[NaN, 1.0]", "[Infinity, 1.0]", "[1.0, -Infinity]", "[0, 0]"])
def test_non_finite_or_zero_layer_weights_are_a_400(server_url: str, weights: str) -> None:
    body = f'{{"texts": {json.dumps(TEXT)}, "layers": "-2:", "layer_pooling": {weights}}}'
    r = _post_raw(server_url, "/embed/words", body)
    assert r.status_code == 400, r.text
    assert "layer_pooling" in r.json()["error"]["message"]
    json.loads(r.text, parse_constant=lambda c: pytest.fail(f"{c} in the body"))  # strict JSON


def test_float16_overflow_is_a_400_not_infinity(server_url: str) -> None:
    body = {"texts": TEXT, "layers": "-2:", "layer_pooling": [1e6, 1e6], "dtype": "float16"}
    r = httpx.post(server_url + "/embed/words", json=body, headers=AUTH, timeout=30)
    assert r.status_code == 400, r.text
    assert "float16" in r.json()["error"]["message"]
    json.loads(r.text, parse_constant=lambda c: pytest.fail(f"{c} in the body"))
    ok = httpx.post(server_url + "/embed/words", json={**body, "dtype": "float32"}, headers=AUTH, timeout=30)
    assert ok.status_code == 200
    json.loads(ok.text, parse_constant=lambda c: pytest.fail(f"{c} in the body"))
