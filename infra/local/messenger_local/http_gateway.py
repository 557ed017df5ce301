"""API Gateway HTTP API (payload format 2.0) emulation, driven by the template's routes.

Routing, the Lambda REQUEST authorizer (simple or IAM responses), the v2 event and the mapping of
the function's result back to HTTP all follow API Gateway's documented behaviour, so a handler
sees locally the very event it gets in AWS.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from messenger_local import api_explorer
from messenger_local.cors import CorsPolicy
from messenger_local.mail import LocalMailbox
from messenger_local.runtime import InvokeResult, LambdaRuntime
from messenger_local.s3 import LocalCdn
from messenger_local.sns import LocalNotifications
from messenger_local.template import ACCOUNT_ID, REGION, Authorizer, HttpRoute, Template

log = logging.getLogger("messenger_local.http")

TEXT_TYPES = ("text/", "json", "xml", "javascript", "x-www-form-urlencoded", "graphql", "yaml")


@dataclass(frozen=True)
class _CompiledRoute:
    route: HttpRoute
    segments: tuple[str, ...]

    def match(self, parts: list[str]) -> dict[str, str] | None:
        params: dict[str, str] = {}
        for i, seg in enumerate(self.segments):
            if seg.startswith("{") and seg.endswith("+}"):  # greedy: the rest of the path
                if i >= len(parts):
                    return None
                params[seg[1:-2]] = unquote("/".join(parts[i:]))
                return params
            if i >= len(parts):
                return None
            if seg.startswith("{") and seg.endswith("}"):
                params[seg[1:-1]] = unquote(parts[i])
            elif seg != parts[i]:
                return None
        return params if len(parts) == len(self.segments) else None

    def precedence(self) -> tuple[Any, ...]:
        """Lower sorts first: static segments beat {param}, which beats {greedy+}."""
        kinds = tuple(
            2 if s.endswith("+}") else 1 if s.startswith("{") else 0 for s in self.segments
        )
        return (kinds, self.route.method == "ANY")


def _split(path: str) -> list[str]:
    return path.strip("/").split("/") if path.strip("/") else []


def _json_response(status: int, message: str, request_id: str) -> Response:
    return Response(
        json.dumps({"message": message}),
        status_code=status,
        media_type="application/json",
        headers={"apigw-requestid": request_id, "x-amzn-requestid": request_id},
    )


def text_body(content_type: str | None, body: bytes) -> str | None:
    """The body as the event's text, or None when API Gateway would base64-encode it.

    API Gateway (HTTP API, payload 2.0) passes a body as is only when it is text: a text media
    type (or none) and bytes that are valid UTF-8. Anything else, including a `application/json`
    body whose bytes are not UTF-8, reaches the function base64-encoded with `isBase64Encoded:
    true`; refusing it is the function's business, never a gateway 500."""
    if content_type and not any(t in content_type.lower() for t in TEXT_TYPES):
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


class HttpApi:
    """An ASGI app serving the template's HttpApi routes through the runtime's functions."""

    def __init__(self, template: Template, runtime: LambdaRuntime, api_id: str = "local") -> None:
        self.template = template
        self.runtime = runtime
        self.api_id = api_id
        self.routes = sorted(
            (
                _CompiledRoute(r, tuple(_split(r.path)))
                for r in template.routes
                if r.path != "$default"
            ),
            key=_CompiledRoute.precedence,
        )
        self.default_route = next((r for r in template.routes if r.path == "$default"), None)
        # Local only: the OpenAPI document and its explorer (built on first request).
        self.openapi_document = template.path.parent / "docs" / "openapi.json"
        self._explorer: Any = None
        self.cors = CorsPolicy(template.cors) if template.cors else None
        # The template's CloudFront distributions (messenger_local.s3), on this port.
        self.cdn = LocalCdn(template.distributions, runtime.env_overrides.get("S3_ENDPOINT"))
        # Every mail sent through SES locally (messenger_local.mail).
        self.mailbox = LocalMailbox(runtime.env_overrides.get("SES_ENDPOINT"))
        # Every push notification published through the local SNS (moto), for developers.
        self.notifications = LocalNotifications(lambda: runtime.env_overrides.get("SNS_ENDPOINT"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Plain ASGI: every path and method reaches `match` (no framework redirects or 405s)."""
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        if api_explorer.serves(scope["method"], scope["path"]):
            if self._explorer is None:
                self._explorer = api_explorer.explorer_app(self.openapi_document)
            await self._explorer(scope, receive, send)
            return
        if self.cdn.serves(scope["path"]):
            await self.cdn(scope, receive, send)
            return
        if self.mailbox.serves(scope["method"], scope["path"]):
            await self.mailbox(scope, receive, send)
            return
        if self.notifications.serves(scope["method"], scope["path"]):
            await self.notifications(scope, receive, send)
            return
        response = await self._handle(Request(scope, receive))
        await response(scope, receive, send)

    # -- routing -----------------------------------------------------------------------------
    def match(self, method: str, path: str) -> tuple[HttpRoute, dict[str, str]] | None:
        parts = _split(path)
        for compiled in self.routes:
            if compiled.route.method not in (method.upper(), "ANY"):
                continue
            params = compiled.match(parts)
            if params is not None:
                return compiled.route, params
        return (self.default_route, {}) if self.default_route else None

    # -- events ------------------------------------------------------------------------------
    def build_event(
        self,
        request: Request,
        route: HttpRoute,
        path_params: dict[str, str],
        body: bytes,
        request_id: str,
    ) -> dict[str, Any]:
        """The payload 2.0 event; optional keys are present only when API Gateway sends them."""
        headers: dict[str, str] = {}
        cookies: list[str] = []
        for raw_name, raw_value in request.headers.raw:
            name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
            if name == "cookie":
                cookies.extend(c.strip() for c in value.split(";") if c.strip())
                continue
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        raw_query = request.scope.get("query_string", b"").decode("latin-1")
        now = time.time()
        host = headers.get("host", "localhost")
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route.route_key,
            "rawPath": request.scope.get("raw_path", request.url.path.encode()).decode("latin-1"),
            "rawQueryString": raw_query,
        }
        if cookies:
            event["cookies"] = cookies
        event["headers"] = headers
        if raw_query:
            query: dict[str, str] = {}
            for key, value in parse_qsl(raw_query, keep_blank_values=True):
                query[key] = f"{query[key]},{value}" if key in query else value
            event["queryStringParameters"] = query
        event["requestContext"] = {
            "accountId": ACCOUNT_ID,
            "apiId": self.api_id,
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": request.method,
                "path": request.url.path,
                "protocol": f"HTTP/{request.scope.get('http_version', '1.1')}",
                "sourceIp": request.client.host if request.client else "127.0.0.1",
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route.route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        }
        if body:
            text = text_body(headers.get("content-type"), body)
            if text is not None:
                event["body"], event["isBase64Encoded"] = text, False
            else:
                event["body"] = base64.b64encode(body).decode()
                event["isBase64Encoded"] = True
        if path_params:
            event["pathParameters"] = path_params
        event.setdefault("isBase64Encoded", False)
        return event

    def authorizer_event(self, event: dict[str, Any], identity: list[str]) -> dict[str, Any]:
        """The REQUEST authorizer event (payload 2.0): the request minus its body, plus routeArn."""
        http = event["requestContext"]["http"]
        route_arn = (
            f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{self.api_id}/$default/"
            f"{http['method']}{http['path']}"
        )
        auth_event: dict[str, Any] = {
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": route_arn,
            "identitySource": identity,
        }
        for key in ("routeKey", "rawPath", "rawQueryString", "cookies", "headers"):
            if key in event:
                auth_event[key] = event[key]
        if "queryStringParameters" in event:
            auth_event["queryStringParameters"] = event["queryStringParameters"]
        auth_event["requestContext"] = event["requestContext"]
        if "pathParameters" in event:
            auth_event["pathParameters"] = event["pathParameters"]
        return auth_event

    # -- the request pipeline ----------------------------------------------------------------
    async def _invoke(self, function_id: str, event: dict[str, Any]) -> InvokeResult:
        call: Callable[[], InvokeResult] = lambda: self.runtime.invoke(function_id, event)  # noqa: E731
        return await anyio.to_thread.run_sync(call)

    async def _authorize(
        self,
        authorizer: Authorizer,
        event: dict[str, Any],
        request_id: str,
        timings: list[str] | None = None,
    ) -> Response | dict[str, Any]:
        """A Response to send back (401/403/500), or the context to pass to the integration."""
        identity = [event["headers"].get(h.lower(), "") for h in authorizer.identity_headers]
        if not all(identity):
            return _json_response(401, "Unauthorized", request_id)
        result = await self._invoke(authorizer.function, self.authorizer_event(event, identity))
        if timings is not None:
            timings.append(f"authorizer;dur={result.handler_ms:.3f}")
        if not result.ok:
            if result.error_message == "Unauthorized":
                return _json_response(401, "Unauthorized", request_id)
            log.error("authorizer %s failed: %s", authorizer.function, result.error_payload())
            return _json_response(500, "Internal Server Error", request_id)
        payload = result.payload
        if not isinstance(payload, dict):
            log.error("authorizer %s returned %r", authorizer.function, payload)
            return _json_response(500, "Internal Server Error", request_id)
        if authorizer.simple_responses and "isAuthorized" in payload:
            allowed = payload["isAuthorized"] is True
        else:
            statements = (payload.get("policyDocument") or {}).get("Statement") or []
            effects = [s.get("Effect") for s in statements if isinstance(s, dict)]
            allowed = bool(effects) and all(e == "Allow" for e in effects)
            if not statements:
                log.error("authorizer %s returned no decision: %r", authorizer.function, payload)
                return _json_response(500, "Internal Server Error", request_id)
        if not allowed:
            return _json_response(403, "Forbidden", request_id)
        context = payload.get("context") or {}
        return context if isinstance(context, dict) else {}

    async def _handle(self, request: Request) -> Response:
        started = time.monotonic()
        request_id = base64.b64encode(secrets.token_bytes(12)).decode()
        origin = request.headers.get("origin")
        if self.cors and self._gateway_answers_preflight(request):
            response = Response(status_code=204, headers=self.cors.preflight_headers(origin))
            response.headers["apigw-requestid"] = request_id
        else:
            response = await self._respond(request, request_id)
            if self.cors:
                self.cors.apply(origin, response.headers)
        log.info(
            "%s %s -> %s (%.0f ms)",
            request.method,
            request.url.path,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return response

    def _gateway_answers_preflight(self, request: Request) -> bool:
        """A preflight is API Gateway's to answer unless an OPTIONS or $default route takes it."""
        if not CorsPolicy.is_preflight(request.method, request.headers):
            return False
        matched = self.match("OPTIONS", request.url.path)
        if matched is None:
            return True
        route = matched[0]
        return route.method != "OPTIONS" and route.path != "$default"

    async def _respond(self, request: Request, request_id: str) -> Response:
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        matched = self.match(request.method, raw_path.decode("latin-1"))
        if matched is None:
            return _json_response(404, "Not Found", request_id)
        route, path_params = matched
        body = await request.body()
        event = self.build_event(request, route, path_params, body, request_id)
        timings: list[str] = []
        if route.authorizer:
            authorizer = self.template.authorizers[route.authorizer]
            outcome = await self._authorize(authorizer, event, request_id, timings)
            if isinstance(outcome, Response):
                return outcome
            event["requestContext"]["authorizer"] = {"lambda": outcome}
        result = await self._invoke(route.function, event)
        if not result.ok:
            log.error("%s failed: %s", route.function, result.error_payload())
            return _json_response(500, "Internal Server Error", request_id)
        response = self.to_response(result.payload, request_id)
        # Local only (API Gateway sends no such header): where the time went, for `make bench`.
        timings.append(f"function;dur={result.handler_ms:.3f}")
        response.headers["server-timing"] = ", ".join(timings)
        return response

    @staticmethod
    def to_response(payload: Any, request_id: str) -> Response:
        """Payload 2.0 output: a dict with statusCode is a response, anything else a JSON body."""
        ids = {"apigw-requestid": request_id, "x-amzn-requestid": request_id}
        if not (isinstance(payload, dict) and "statusCode" in payload):
            text = payload if isinstance(payload, str) else json.dumps(payload)
            return Response(text, 200, media_type="application/json", headers=ids)
        try:
            status = int(payload["statusCode"])
            body = payload.get("body")
            if body is None:
                content = b""
            elif payload.get("isBase64Encoded"):
                content = base64.b64decode(body)
            else:
                content = (body if isinstance(body, str) else json.dumps(body)).encode()
            response = Response(content, status)
            for name, value in (payload.get("headers") or {}).items():
                response.headers[str(name)] = str(value)
            for name, values in (payload.get("multiValueHeaders") or {}).items():
                for value in values:
                    response.headers.append(str(name), str(value))
            for cookie in payload.get("cookies") or []:
                response.headers.append("set-cookie", str(cookie))
        except (TypeError, ValueError, AttributeError) as exc:
            log.error("malformed Lambda response %r: %s", payload, exc)
            return _json_response(500, "Internal Server Error", request_id)
        for name, value in ids.items():
            response.headers[name] = value
        return response
