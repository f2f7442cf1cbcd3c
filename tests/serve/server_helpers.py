"""Run the app in a real uvicorn server on 127.0.0.1 (a free port) in a background thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from contextvec.serve.settings import ServerSettings


@contextmanager
def running(app: FastAPI) -> Iterator[tuple[str, uvicorn.Server]]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", timeout_graceful_shutdown=10)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started:
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", server
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def make_settings(**overrides: object) -> ServerSettings:
    return ServerSettings(models=["tiny"], **overrides)  # type: ignore[arg-type]


AUTH = {"Authorization": "Bearer s3cret"}
