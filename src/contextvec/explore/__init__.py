"""The web explorer: a page (web/: HTML, CSS and hand-written JS, no third-party code, nothing fetched from
outside) with its JSON endpoints under /explore/api, mounted on the server's FastAPI app by the CLI
(`contextvec explore`, `contextvec serve --ui`). The endpoints only call analysis/ and index/ code; the
server's API key protects them like every other route.
"""

from contextvec.explore.mount import mount_explorer

__all__ = ["mount_explorer"]
