"""CORS as API Gateway applies an HttpApi's CorsConfiguration (API.md "Browsers", decision 52)."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest

from messenger_local.gateway import LocalGateway
from messenger_local.http_gateway import HttpApi
from messenger_local.runtime import LambdaRuntime
from messenger_local.template import load_template

from .conftest import REAL_TEMPLATE, read_jsonl

pytestmark = pytest.mark.integration

LOCAL = "http://localhost:5173"
EVIL = "https://evil.example"


PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization,content-type",
}


def preflight(client: httpx.Client, path: str, origin: str) -> httpx.Response:
    return client.options(path, headers={"Origin": origin, **PREFLIGHT})


def in_process(method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    """One request to the real template's HTTP API in process (no function is started)."""
    t = load_template(REAL_TEMPLATE)
    transport = httpx.ASGITransport(app=HttpApi(t, LambdaRuntime(t)))

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            return await c.request(method, path, headers=headers)

    return anyio.run(call)


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


def test_preflight_is_answered_by_the_gateway_without_the_authorizer(
    http_gateway: LocalGateway, out_dir: Path
) -> None:
    calls = out_dir / "authorizer.jsonl"
    before = len(read_jsonl(calls))
    with httpx.Client(base_url=http_gateway.url) as client:
        ok = preflight(client, "/v1/items/1", "http://127.0.0.1:45123")
        unknown_path = preflight(client, "/v1/nowhere", "https://app.example.com")
    assert ok.status_code == 204
    assert ok.content == b""
    assert cors_headers(ok) == {
        "access-control-allow-origin": "http://127.0.0.1:45123",
        "access-control-allow-methods": "GET,POST,DELETE",
        "access-control-allow-headers": "authorization,content-type",
        "access-control-max-age": "300",
    }
    # CORS is API-wide: the preflight does not depend on a route existing.
    assert unknown_path.status_code == 204
    assert unknown_path.headers["access-control-allow-origin"] == "https://app.example.com"
    assert len(read_jsonl(calls)) == before  # neither the authorizer nor a function ran


@pytest.mark.parametrize(
    "origin",
    [
        EVIL,
        "http://127.0.0.1.evil.example:80",
        "https://localhost:5173",  # another scheme is another origin
        "http://localhost",  # ":*" means some port, not none
        "http://app.example.com",
        "null",
    ],
)
def test_a_disallowed_origin_gets_no_cors_headers(http_gateway: LocalGateway, origin: str) -> None:
    with httpx.Client(base_url=http_gateway.url) as client:
        pre = preflight(client, "/v1/items/1", origin)
        actual = client.get("/v1/items/1", headers={"Origin": origin, "Authorization": "allow"})
    assert pre.status_code == 204
    assert cors_headers(pre) == {}
    assert actual.status_code == 200
    assert cors_headers(actual) == {}


def test_every_response_to_an_allowed_origin_carries_the_headers(
    http_gateway: LocalGateway,
) -> None:
    origin = {"Origin": LOCAL}
    with httpx.Client(base_url=http_gateway.url) as client:
        allowed = client.get("/v1/items/1", headers={**origin, "Authorization": "allow"})
        no_token = client.get("/v1/items/1", headers=origin)
        refused = client.get("/v1/items/1", headers={**origin, "Authorization": "nobody"})
        denied = client.get("/v1/items/1", headers={**origin, "Authorization": "deny"})
        missing = client.get("/v1/no/such/route", headers=origin)
        crash = client.get("/v1/misc/crash", headers=origin)
        without_origin = client.get("/v1/items/1", headers={"Authorization": "allow"})
    expected = {
        "access-control-allow-origin": LOCAL,
        "access-control-expose-headers": "retry-after",
    }
    for response, status in (
        (allowed, 200),
        (no_token, 401),
        (refused, 401),
        (denied, 403),
        (missing, 404),
        (crash, 500),
    ):
        assert response.status_code == status
        assert cors_headers(response) == expected, response.request.url
    assert cors_headers(without_origin) == {}


def test_the_integrations_own_cors_headers_are_replaced(http_gateway: LocalGateway) -> None:
    with httpx.Client(base_url=http_gateway.url) as client:
        mine = client.get("/v1/items/1?cors=1", headers={"Origin": LOCAL, "Authorization": "a"})
        other = client.get("/v1/items/1?cors=1", headers={"Origin": EVIL, "Authorization": "a"})
    assert mine.headers["access-control-allow-origin"] == LOCAL
    assert cors_headers(other) == {}


def test_an_options_request_that_is_not_a_preflight_is_routed() -> None:
    """Without Access-Control-Request-Method it is a plain OPTIONS: no route, 404."""
    plain = in_process("OPTIONS", "/v1/chats", {"Origin": LOCAL})
    assert plain.status_code == 404
    assert plain.headers["access-control-allow-origin"] == LOCAL


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://127.0.0.1:5173", True),
        ("http://localhost:3000", True),
        ("http://localhost:65535", True),
        ("http://LOCALHOST:8080", True),
        (EVIL, False),
        ("http://192.168.1.10:5173", False),
    ],
)
def test_the_real_template_allows_local_origins_on_any_port(origin: str, allowed: bool) -> None:
    response = in_process("OPTIONS", "/v1/chats", {"Origin": origin, **PREFLIGHT})
    assert response.status_code == 204
    if allowed:
        assert response.headers["access-control-allow-origin"] == origin
        assert "authorization" in response.headers["access-control-allow-headers"]
        assert "content-type" in response.headers["access-control-allow-headers"]
        # Browsers compare methods case-sensitively: PUT must be spelled PUT.
        assert "PUT" in response.headers["access-control-allow-methods"].split(",")
        assert "PATCH" in response.headers["access-control-allow-methods"].split(",")
    else:
        assert cors_headers(response) == {}
