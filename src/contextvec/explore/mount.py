"""Mount the explorer on an app made by `contextvec.serve.app.create_app`: the page at /explore, its assets at
/explore/assets, and the JSON endpoints (routes.py) behind the same API key and limits as the rest."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse

from contextvec.explore.routes import Explorer, explore_router
from contextvec.protocol import EmbedderProtocol
from contextvec.serve.state import Served

WEB = Path(__file__).parent / "web"


def mount_explorer(app: FastAPI, *, static: EmbedderProtocol | None = None) -> FastAPI:
    """Add the explorer to `app`. `static` is the model shown beside the contextual one in Compare (default: the
    settings' ui_static_model, loaded on first use); tests pass a tiny one."""
    from fastapi.staticfiles import StaticFiles

    served: Served = app.state.served
    explorer = Explorer(served, static)
    app.include_router(explore_router(explorer))
    app.mount("/explore/assets", StaticFiles(directory=WEB), name="explore-assets")

    @app.get("/explore", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(WEB / "index.html", media_type="text/html; charset=utf-8")

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/explore")

    return app
