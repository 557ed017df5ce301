"""Serve the reference web client (web/dist, built by `make web`) on an origin of its own.

Its own port, not a path of the HTTP API: the client then calls the API cross-origin exactly as
a deployed web app does, so CORS (decision 52) is exercised by every click and by the browser
tests. `/config.json` tells the page where the HTTP and WebSocket APIs are.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import TracebackType

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

DIST = Path(__file__).resolve().parents[3] / "web" / "dist"


def web_app(dist: Path, api_url: str, ws_url: str) -> Starlette:
    async def config(request: Request) -> Response:
        return JSONResponse({"api": api_url, "ws": ws_url}, headers={"cache-control": "no-store"})

    return Starlette(
        routes=[
            Route("/config.json", config, methods=["GET"]),
            Mount("/", StaticFiles(directory=dist, html=True)),
        ]
    )


class WebClient:
    """`with WebClient(api_url, ws_url, port=0) as web: web.url` (port 0: a free one)."""

    def __init__(
        self,
        api_url: str,
        ws_url: str,
        host: str = "127.0.0.1",
        port: int = 3002,
        dist: Path = DIST,
    ) -> None:
        if not (dist / "index.html").exists():
            raise FileNotFoundError(f"{dist} is not built: run `make web`")
        self.host, self.port = host, port
        self.app = web_app(dist, api_url, ws_url)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self, timeout: float = 10.0) -> WebClient:
        config = uvicorn.Config(
            self.app, host=self.host, port=self.port, lifespan="off", log_level="warning"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="web-client", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._server.should_exit = True
                raise RuntimeError(f"web client did not start on {self.host}:{self.port}")
            time.sleep(0.02)
        self.port = int(self._server.servers[0].sockets[0].getsockname()[1])
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self._server = self._thread = None

    def __enter__(self) -> WebClient:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
