"""API Gateway WebSocket API emulation, driven by the template's ApiGatewayV2 routes.

- A client connects: the `$connect` route's function gets a CONNECT event (headers, query string,
  requestContext.connectionId...); a 2xx answer accepts the connection, anything else refuses it
  with that status.
- Each frame: the route selection expression (`$request.body.action`) picks the route, else
  `$default`, else the client gets API Gateway's `{"message": "Forbidden", ...}` frame; the
  route's function gets a MESSAGE event with the frame as body.
- The socket closes (cleanly or not): the `$disconnect` function gets a DISCONNECT event.
- `@connections` management API on the same port, as in AWS (`POST|GET|DELETE
  [/{stage}]/@connections/{connectionId}`), so the functions' boto3 `apigatewaymanagementapi`
  calls work unchanged; an unknown connection is `410 GoneException`.
Event shapes follow Powertools' canonical WebSocket test events (apiGatewayWebSocketApi*.json).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from messenger_local.runtime import InvokeResult, LambdaRuntime
from messenger_local.template import WebSocketApi

log = logging.getLogger("messenger_local.websocket")

MAX_POST_BYTES = 128 * 1024
MANAGEMENT = "/@connections/"


def _new_id() -> str:
    """Connection/request ids shaped like API Gateway's (12 base64 chars + '=')."""
    return base64.urlsafe_b64encode(secrets.token_bytes(10)).decode()[:15] + "="


def _request_time(now: float) -> str:
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now))


def _iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def _error(status: int, error_type: str, message: str | None) -> Response:
    return Response(
        json.dumps({"message": message}),
        status_code=status,
        media_type="application/json",
        headers={"x-amzn-errortype": error_type},
    )


@dataclass
class _Connection:
    connection_id: str
    send: Send
    connected_at: int  # epoch ms
    source_ip: str
    user_agent: str
    last_active_at: int
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    closed: bool = False


class WebSocketGateway:
    """An ASGI app: the WebSocket API's connections and its @connections management endpoint."""

    def __init__(self, api: WebSocketApi, runtime: LambdaRuntime) -> None:
        self.api = api
        self.runtime = runtime
        self.api_id = api.logical_id.lower()[:10]
        self.connections: dict[str, _Connection] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] == "websocket":
            await self._session(scope, receive, send)
        elif scope["type"] == "http":
            response = await self._management(Request(scope, receive))
            await response(scope, receive, send)

    # -- events --------------------------------------------------------------------------------
    def _context(
        self, scope: Scope, connection_id: str, route_key: str, event_type: str, connected_at: int
    ) -> dict[str, Any]:
        now = time.time()
        request_id = _new_id()
        headers = self._headers(scope)
        client = scope.get("client") or ("127.0.0.1", 0)
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": _request_time(now),
            "messageDirection": "IN",
            "stage": self.api.stage,
            "connectedAt": connected_at,
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": client[0], "userAgent": headers.get("user-agent", "")},
            "requestId": request_id,
            "domainName": headers.get("host", "localhost"),
            "connectionId": connection_id,
            "apiId": self.api_id,
        }

    @staticmethod
    def _headers(scope: Scope) -> dict[str, str]:
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope.get("headers") or []:
            name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        return headers

    def connect_event(self, scope: Scope, connection_id: str, connected_at: int) -> dict[str, Any]:
        headers = self._headers(scope)
        event: dict[str, Any] = {
            "headers": headers,
            "multiValueHeaders": {k: v.split(",") for k, v in headers.items()},
        }
        raw_query = (scope.get("query_string") or b"").decode("latin-1")
        if raw_query:
            single: dict[str, str] = {}
            multi: dict[str, list[str]] = {}
            for key, value in parse_qsl(raw_query, keep_blank_values=True):
                single[key] = value
                multi.setdefault(key, []).append(value)
            event["queryStringParameters"] = single
            event["multiValueQueryStringParameters"] = multi
        event["requestContext"] = self._context(
            scope, connection_id, "$connect", "CONNECT", connected_at
        )
        event["isBase64Encoded"] = False
        return event

    def message_event(
        self, scope: Scope, conn: _Connection, route_key: str, body: str, is_base64: bool
    ) -> dict[str, Any]:
        context = self._context(scope, conn.connection_id, route_key, "MESSAGE", conn.connected_at)
        context["messageId"] = _new_id()
        return {"requestContext": context, "body": body, "isBase64Encoded": is_base64}

    def disconnect_event(self, scope: Scope, conn: _Connection, code: int) -> dict[str, Any]:
        headers = self._headers(scope)
        context = self._context(
            scope, conn.connection_id, "$disconnect", "DISCONNECT", conn.connected_at
        )
        context["disconnectStatusCode"] = code
        context["disconnectReason"] = "" if code in (1000, 1001) else "Connection closed"
        return {
            "headers": headers,
            "multiValueHeaders": {k: v.split(",") for k, v in headers.items()},
            "requestContext": context,
            "isBase64Encoded": False,
        }

    def select_route(self, body: str) -> str | None:
        """`$request.body.a.b` against the frame's JSON; else $default (None: no route).

        As in API Gateway, a frame the expression cannot evaluate (not JSON, not an object, the
        key missing or not a string, JSON too deep to parse) simply matches no route: it goes to
        `$default`, or the client gets the no-route error frame; the connection stays open."""
        expression = self.api.route_selection_expression
        key: str | None = None
        if expression.startswith("$request.body."):
            try:
                value: Any = json.loads(body)
            except (ValueError, RecursionError):
                value = None
            for part in expression.removeprefix("$request.body.").split("."):
                value = value.get(part) if isinstance(value, dict) else None
            key = value if isinstance(value, str) else None
        if key is not None and key in self.api.routes:
            return key
        return "$default" if "$default" in self.api.routes else None

    # -- the connection's life -----------------------------------------------------------------
    async def _invoke(self, function_id: str, event: dict[str, Any]) -> InvokeResult:
        call: Callable[[], InvokeResult] = lambda: self.runtime.invoke(function_id, event)  # noqa: E731
        return await anyio.to_thread.run_sync(call)

    async def _session(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        connection_id = _new_id()
        connected_at = int(time.time() * 1000)
        headers = self._headers(scope)
        client = scope.get("client") or ("127.0.0.1", 0)
        conn = _Connection(
            connection_id,
            send,
            connected_at,
            client[0],
            headers.get("user-agent", ""),
            connected_at,
        )
        # `$connect` stores the connection (DynamoDB) before it returns, so a push may post to it
        # while `$connect` still runs. Known here from the start, its lock held until the accept:
        # such a post waits (or times out: a failure the pusher retries) instead of finding no
        # connection, a 410 that makes the pusher forget a connection about to open (decision 55).
        await conn.lock.acquire()
        self.connections[connection_id] = conn
        try:
            route = self.api.routes.get("$connect")
            if route is not None and route.function is not None:
                result = await self._invoke(
                    route.function, self.connect_event(scope, connection_id, connected_at)
                )
                status = self._status(result)
                if not 200 <= status < 300:
                    log.info("$connect refused with %s", status)
                    conn.closed = True
                    self.connections.pop(connection_id, None)
                    await self._refuse(scope, send, status, self._retry_after(result))
                    return
            await send({"type": "websocket.accept"})
        except BaseException:
            conn.closed = True
            self.connections.pop(connection_id, None)
            raise
        finally:
            conn.lock.release()
        code = 1005
        try:
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    code = int(message.get("code") or 1005)
                    break
                if message["type"] == "websocket.receive":
                    conn.last_active_at = int(time.time() * 1000)
                    self._dispatch(scope, conn, message)
        finally:
            conn.closed = True
            self.connections.pop(connection_id, None)
            route = self.api.routes.get("$disconnect")
            if route is not None and route.function is not None and not self.runtime.closed:
                await self._invoke(route.function, self.disconnect_event(scope, conn, code))

    @staticmethod
    def _status(result: InvokeResult) -> int:
        if not result.ok:
            log.error("%s failed: %s", result.function, result.error_payload())
            return 500
        payload = result.payload
        if isinstance(payload, dict) and "statusCode" in payload:
            try:
                return int(payload["statusCode"])
            except (TypeError, ValueError):
                return 500
        return 200

    @staticmethod
    def _retry_after(result: InvokeResult) -> str | None:
        """A refusal's Retry-After header (503 from $connect), passed on to the client."""
        payload = result.payload if result.ok else None
        headers = payload.get("headers") if isinstance(payload, dict) else None
        if not isinstance(headers, dict):
            return None
        value = next((v for k, v in headers.items() if str(k).lower() == "retry-after"), None)
        return None if value is None else str(value)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, status: int, retry_after: str | None) -> None:
        if "websocket.http.response" in (scope.get("extensions") or {}):
            messages = {403: "Forbidden", 401: "Unauthorized", 503: "Service Unavailable"}
            body = json.dumps({"message": messages.get(status, "Internal Server Error")})
            headers = [(b"content-type", b"application/json")]
            if retry_after is not None:
                headers.append((b"retry-after", retry_after.encode()))
            await send(
                {
                    "type": "websocket.http.response.start",
                    "status": status,
                    "headers": headers,
                }
            )
            await send({"type": "websocket.http.response.body", "body": body.encode()})
        else:
            await send({"type": "websocket.close", "code": 1008})

    def _dispatch(self, scope: Scope, conn: _Connection, message: Message) -> None:
        if message.get("text") is not None:
            body, is_base64 = str(message["text"]), False
        else:
            body, is_base64 = base64.b64encode(message.get("bytes") or b"").decode(), True
        route_key = self.select_route(body if not is_base64 else "")
        task = asyncio.create_task(self._route(scope, conn, route_key, body, is_base64))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _route(
        self, scope: Scope, conn: _Connection, route_key: str | None, body: str, is_base64: bool
    ) -> None:
        route = self.api.routes.get(route_key) if route_key else None
        if route is None or route.function is None:
            # What API Gateway answers a frame no route takes (the connection stays open).
            frame = {"message": "Forbidden", "connectionId": conn.connection_id}
            await self._post(conn, {**frame, "requestId": _new_id()})
            return
        event = self.message_event(scope, conn, route.route_key, body, is_base64)
        result = await self._invoke(route.function, event)
        if not result.ok:
            log.error("%s failed: %s", route.function, result.error_payload())
            await self._post(
                conn,
                {
                    "message": "Internal server error",
                    "connectionId": conn.connection_id,
                    "requestId": event["requestContext"]["requestId"],
                },
            )

    async def _post(self, conn: _Connection, frame: dict[str, Any]) -> None:
        async with conn.lock:
            if not conn.closed:
                await conn.send({"type": "websocket.send", "text": json.dumps(frame)})

    # -- @connections --------------------------------------------------------------------------
    async def _management(self, request: Request) -> Response:
        path = request.url.path
        if MANAGEMENT not in path:
            return _error(403, "ForbiddenException", "Forbidden")
        connection_id = unquote(path.split(MANAGEMENT, 1)[1])
        conn = self.connections.get(connection_id)
        if conn is None or conn.closed:
            return _error(410, "GoneException", None)
        if request.method == "POST":
            data = await request.body()
            if len(data) > MAX_POST_BYTES:
                return _error(413, "PayloadTooLargeException", "Message too long")
            try:
                text = data.decode("utf-8")
                message: Message = {"type": "websocket.send", "text": text}
            except UnicodeDecodeError:
                message = {"type": "websocket.send", "bytes": data}
            try:
                async with conn.lock:
                    if conn.closed:  # its `$connect` refused it while this post waited
                        return _error(410, "GoneException", None)
                    await conn.send(message)
            except Exception:  # the socket died under us: what API Gateway reports is 410
                return _error(410, "GoneException", None)
            return Response(status_code=200)
        if request.method == "GET":
            body = {
                "ConnectedAt": _iso(conn.connected_at),
                "Identity": {"SourceIp": conn.source_ip, "UserAgent": conn.user_agent},
                "LastActiveAt": _iso(conn.last_active_at),
            }
            return Response(json.dumps(body), media_type="application/json")
        if request.method == "DELETE":
            # As API Gateway: the server closes the socket; `$disconnect` runs when it is closed.
            async with conn.lock:
                conn.closed = True
                try:
                    await conn.send({"type": "websocket.close", "code": 1000})
                except Exception:  # already dead under us: gone, as for a post
                    return _error(410, "GoneException", None)
            return Response(status_code=204)
        return _error(403, "ForbiddenException", "Forbidden")
