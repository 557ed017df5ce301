"""The WebSocket API emulation: a frame no route takes never drops the connection (issue 10).

API Gateway evaluates `$request.body.action` against each frame; a frame it cannot evaluate (not
JSON, not an object, no such key, JSON too deep) matches no route: it goes to `$default`, or, with
no `$default`, the client gets `{"message": "Forbidden", "connectionId", "requestId"}`, and the
connection stays open either way.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from websockets.sync.client import ClientConnection, connect

from messenger_local.runtime import LambdaRuntime
from messenger_local.template import WebSocketApi, WebSocketRoute, load_template
from messenger_local.websocket_gateway import WebSocketGateway

from .conftest import FIXTURE_TEMPLATE, read_jsonl, wait_for

pytestmark = pytest.mark.integration

MALFORMED = [
    "{}",
    "[]",
    '"typing"',
    "null",
    "42",
    "not json",
    "",
    '{"action": 1}',
    '{"action": null}',
    '{"action": {"nested": "typing"}}',
    '{"action": "no-such-route"}',
    '{"action":' * 5000 + '"typing"' + "}" * 5000,
    "[" * 100_000 + "]" * 100_000,
]


def gateway_for(routes: dict[str, str], runtime: LambdaRuntime) -> WebSocketGateway:
    api = WebSocketApi(
        "WsApi",
        "$request.body.action",
        "test",
        {key: WebSocketRoute(key, function) for key, function in routes.items()},
    )
    return WebSocketGateway(api, runtime)


@contextmanager
def connected(gateway: WebSocketGateway) -> Iterator[ClientConnection]:
    """The gateway served by uvicorn on a free port (as LocalGateway does), one client on it."""
    server = uvicorn.Server(
        uvicorn.Config(gateway, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive(), "uvicorn died"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        with connect(f"ws://127.0.0.1:{port}/", open_timeout=10) as ws:
            yield ws
    finally:
        server.should_exit = True
        thread.join(10)


def answer(ws: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(ws.recv(timeout=20))
    return frame


@pytest.fixture(scope="module")
def runtime(out_dir: Path) -> Iterator[LambdaRuntime]:
    running = LambdaRuntime(
        load_template(FIXTURE_TEMPLATE), env_overrides={"OUT_DIR": str(out_dir)}
    )
    try:
        yield running
    finally:
        running.close()


@pytest.mark.parametrize("frame", MALFORMED)
def test_a_frame_the_expression_cannot_evaluate_matches_no_route(
    runtime: LambdaRuntime, frame: str
) -> None:
    assert gateway_for({"typing": "Echo"}, runtime).select_route(frame) is None
    assert gateway_for({"typing": "Echo", "$default": "Echo"}, runtime).select_route(frame) == (
        "$default"
    )


def test_a_frame_with_the_route_key_is_routed(runtime: LambdaRuntime) -> None:
    gateway = gateway_for({"typing": "Echo"}, runtime)
    assert gateway.select_route('{"action": "typing", "chat_id": "x"}') == "typing"


def test_without_default_each_malformed_frame_gets_forbidden_and_the_connection_stays(
    runtime: LambdaRuntime,
) -> None:
    with connected(gateway_for({"typing": "Echo"}, runtime)) as ws:
        for frame in MALFORMED:
            ws.send(frame)
            refusal = answer(ws)
            assert refusal["message"] == "Forbidden"
            assert refusal["connectionId"]
            assert refusal["requestId"]
        ws.send(b"\xff\xfe binary")
        assert answer(ws)["message"] == "Forbidden"


def test_with_default_malformed_frames_reach_it(runtime: LambdaRuntime, out_dir: Path) -> None:
    """$default is the fake Consumer: it records the event, then fails on a non-MSK event (so
    each frame also comes back as API Gateway's integration-error frame)."""
    log = out_dir / "consumer.jsonl"
    before = len(read_jsonl(log))
    frames = MALFORMED[:6]
    with connected(gateway_for({"typing": "Echo", "$default": "Consumer"}, runtime)) as ws:
        for frame in frames:
            ws.send(frame)
            assert answer(ws)["message"] == "Internal server error"
    events = wait_for(lambda: read_jsonl(log)[before:], what="the $default invocations")
    assert sorted(e["body"] for e in events) == sorted(frames)
    assert {e["requestContext"]["routeKey"] for e in events} == {"$default"}
