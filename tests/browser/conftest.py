"""Browser tests: the real server (uvicorn on a free loopback port) with the explorer mounted and a tiny random
model, driven by Playwright in Debian's Chromium (Playwright's own browser download is not used)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "serve"))
from explore_data import INDEX_DOCS, toy_static
from server_helpers import running

from contextvec import Embedder
from contextvec.serve.settings import ServerSettings

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")  # not session: Playwright's sync API keeps an asyncio loop running on this thread
def browser() -> Iterator[Any]:  # until it stops, and the server tests after these call asyncio.run
    if not CHROMIUM.exists():
        pytest.skip("Chromium is missing: apt-get install -y chromium (scripts/install.sh dev does it)")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory: pytest.TempPathFactory, bert_embedder: Embedder) -> Path:
    from contextvec.index import build_index

    root = tmp_path_factory.mktemp("explore-index")
    (root / "c.txt").write_text("\n".join(INDEX_DOCS) + "\n", encoding="utf-8")
    build_index(root / "c.txt", root / "idx", model="tiny-bert", embedder=bert_embedder, shard_rows=60, batch_docs=4)
    return root / "idx"


@pytest.fixture(scope="session")
def explorer_url(bert_embedder: Embedder, index_dir: Path) -> Iterator[str]:
    from contextvec.explore import mount_explorer
    from contextvec.serve.app import create_app

    settings = ServerSettings(
        models=["tiny-bert"], index=index_dir, ui=True, max_texts_per_request=20_000, max_queue_texts=20_000
    )
    app = mount_explorer(create_app(settings, embedders={"tiny-bert": bert_embedder}), static=toy_static())
    with running(app) as (url, _):
        yield url


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    """A fresh page at 1280x800 that records console errors and uncaught exceptions (tests assert none)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    pg = context.new_page()
    pg.console_errors = []
    pg.on("console", lambda m: pg.console_errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.console_errors.append(f"uncaught: {e}"))
    yield pg
    context.close()
