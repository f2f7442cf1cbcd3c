"""Integration tests use the real packaged models; every test here is marked slow."""

from __future__ import annotations

import pytest

from contextvec import Embedder


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def minilm() -> Embedder:
    return Embedder("minilm", device="cpu")


@pytest.fixture(scope="session")
def mpnet() -> Embedder:
    return Embedder("mpnet", device="cpu")


@pytest.fixture(scope="session")
def smollm2() -> Embedder:
    return Embedder("smollm2", device="cpu")
