"""`GET /openapi.json` (docs/openapi.json as is) and `GET /docs` (Swagger UI) on the local HTTP API.

Local only (API.md, Local development endpoints): API Gateway serves neither. The explorer's
assets are the ones swagger-ui-py ships (Swagger UI 5, which reads OpenAPI 3.1), served from
the package: nothing comes from a CDN.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

DOCUMENT = "/openapi.json"
EXPLORER = "/docs"


def serves(method: str, path: str) -> bool:
    """Whether a request is the explorer's rather than the API's."""
    if method not in ("GET", "HEAD"):
        return False
    return path in (DOCUMENT, EXPLORER, EXPLORER + "/") or path.startswith(EXPLORER + "/static/")


def explorer_app(document: Path, title: str = "Messenger API") -> Starlette:
    from swagger_ui.core import ApplicationDocument  # the dev tools' package, loaded on demand

    page = ApplicationDocument(None, config_path=str(document), url_prefix=EXPLORER, title=title)
    page.parameters["url"] = f'"{DOCUMENT}"'  # the document as served, not a rewritten copy
    page.parameters["persistAuthorization"] = "true"
    # Offline: no call to Swagger's online validator (its badge loads from validator.swagger.io
    # whenever the page is opened under a host other than localhost).
    page.parameters["validatorUrl"] = "null"
    html = page.doc_html

    async def openapi_json(request: Request) -> Response:
        return FileResponse(document, media_type="application/json")

    async def docs(request: Request) -> Response:
        return HTMLResponse(html)

    return Starlette(
        routes=[
            Route(DOCUMENT, openapi_json, methods=["GET"]),
            Route(EXPLORER, docs, methods=["GET"]),
            Route(EXPLORER + "/", docs, methods=["GET"]),
            Mount(EXPLORER + "/static", StaticFiles(directory=page.static_dir)),
        ]
    )
