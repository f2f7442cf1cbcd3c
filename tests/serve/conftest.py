"""Fixtures for the server tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from server_helpers import make_settings, running

from contextvec import Embedder
from contextvec.serve.app import create_app


@pytest.fixture(scope="module")
def server_url(bert_embedder: Embedder) -> Iterator[str]:
    app = create_app(
        make_settings(api_key="s3cret", max_texts_per_request=300, max_chars_per_text=5000, max_request_bytes=200_000),
        embedders={"tiny": bert_embedder},
    )
    with running(app) as (url, _):
        yield url
