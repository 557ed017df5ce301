"""The HTTP API emulation: routing, the v2 event, the authorizer, response mapping."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from messenger_local.gateway import LocalGateway
from messenger_local.http_gateway import HttpApi
from messenger_local.runtime import LambdaRuntime
from messenger_local.template import load_template

from .conftest import REAL_TEMPLATE, read_jsonl, reference

pytestmark = pytest.mark.integration

# Present in the references, but only sent by API Gateway for features we do not emulate:
# mTLS (authentication), JWT authorizers (authorizer.jwt) and stage variables.
NOT_EMULATED = {"authentication", "stageVariables", "authorizer"}
# Maps whose keys are data (header names, parameters): only their value types are compared.
FREE_FORM = {"headers", "queryStringParameters", "pathParameters"}


def shape(value: Any, skip: set[str] = frozenset()) -> Any:  # type: ignore[assignment]
    """Keys and value types, recursively: what "same shape as the reference" means."""
    if isinstance(value, dict):
        return {
            k: {"*": sorted({shape(x) for x in v.values()})} if k in FREE_FORM else shape(v)
            for k, v in value.items()
            if k not in skip
        }
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def echo(gateway: LocalGateway, response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return json.loads(response.text)  # type: ignore[no-any-return]


def test_route_precedence_in_the_real_template() -> None:
    """Static segments beat {param}: /v1/users/me is not GetProfile(user_id="me")."""
    t = load_template(REAL_TEMPLATE)
    api = HttpApi(t, LambdaRuntime(t))
    route, params = api.match("GET", "/v1/users/me") or (None, None)
    assert route is not None
    assert route.function == "GetMyProfile"
    assert params == {}
    route, params = api.match("GET", "/v1/users/42") or (None, None)
    assert route is not None
    assert route.function == "GetProfile"
    assert params == {"user_id": "42"}
    route, params = api.match("GET", "/v1/users/by-nickname/bob") or (None, None)
    assert route is not None
    assert route.function == "GetProfileByNickname"
    assert params == {"nickname": "bob"}
    assert api.match("PUT", "/v1/users/me") is None  # no such method on that path
    assert api.match("GET", "/v1/users/me/extra") is None


def test_route_precedence_over_http(http_gateway: LocalGateway) -> None:
    headers = {"Authorization": "allow"}
    with httpx.Client(base_url=http_gateway.url) as client:
        special = echo(http_gateway, client.get("/v1/items/special", headers=headers))
        by_id = echo(http_gateway, client.get("/v1/items/special-2", headers=headers))
        greedy = echo(http_gateway, client.delete("/v1/files/a/b%20c.txt"))
    assert special["route"] == "item-special"
    assert "pathParameters" not in special["event"]
    assert by_id["route"] == "item-by-id"
    assert by_id["event"]["pathParameters"] == {"item_id": "special-2"}
    assert by_id["event"]["routeKey"] == "GET /v1/items/{item_id}"
    assert greedy["event"]["pathParameters"] == {"path": "a/b c.txt"}
    assert greedy["event"]["routeKey"] == "ANY /v1/files/{path+}"


def test_unknown_route_or_method_is_404(http_gateway: LocalGateway) -> None:
    with httpx.Client(base_url=http_gateway.url) as client:
        for response in (client.get("/nope"), client.get("/v1/echo"), client.get("/")):
            assert response.status_code == 404
            assert response.json() == {"message": "Not Found"}
            assert response.headers["apigw-requestid"]


def test_v2_event_has_the_shape_of_sams_reference(http_gateway: LocalGateway) -> None:
    ref = reference("sam_http_api_proxy.json")
    with httpx.Client(base_url=http_gateway.url) as client:
        response = client.post(
            "/v1/echo?parameter1=value1&parameter1=value2&parameter2=value",
            content=b'{"message": "hello"}',
            headers=[
                ("Content-Type", "application/json"),
                ("Header2", "value1"),
                ("Header2", "value2"),
                ("Cookie", "cookie1=a; cookie2=b"),
                ("User-Agent", "agent"),
            ],
        )
    body = echo(http_gateway, response)
    event = body["event"]
    # Same keys, same types (the reference's path parameters come from a route with a param).
    expected = shape(ref, NOT_EMULATED | {"pathParameters"})
    expected["requestContext"] = shape(ref["requestContext"], NOT_EMULATED)
    expected["isBase64Encoded"] = "bool"
    actual = shape(event)
    actual["requestContext"] = shape(event["requestContext"])
    assert actual == expected

    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /v1/echo"
    assert event["rawPath"] == "/v1/echo"
    assert event["rawQueryString"] == "parameter1=value1&parameter1=value2&parameter2=value"
    assert event["queryStringParameters"] == {"parameter1": "value1,value2", "parameter2": "value"}
    assert event["cookies"] == ["cookie1=a", "cookie2=b"]
    assert event["headers"]["header2"] == "value1,value2"
    assert "cookie" not in event["headers"]
    assert all(name == name.lower() for name in event["headers"])
    assert event["body"] == '{"message": "hello"}'
    assert event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["http"] == {
        "method": "POST",
        "path": "/v1/echo",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "agent",
    }
    assert ctx["stage"] == "$default"
    assert ctx["routeKey"] == "POST /v1/echo"
    assert ctx["requestId"] == response.headers["apigw-requestid"]
    # The function ran with its template environment + the local overrides, and a context.
    assert body["env"] == {
        "STAGE": "test",
        "GREETING": "hello-test-us-east-1",
        "KAFKA_SECURITY_PROTOCOL": "PLAINTEXT",
    }
    assert body["context"]["function_name"] == "Echo"
    assert body["context"]["memory_limit_in_mb"] == 256
    assert body["context"]["invoked_function_arn"].endswith(":function:Echo")
    assert 0 < body["context"]["remaining"] <= 10_000


def test_source_ip_is_the_peer_address_not_a_forwarded_header(
    http_gateway: LocalGateway,
) -> None:
    # Login throttling keys on it: a client must not choose it by writing X-Forwarded-For.
    transport = httpx.HTTPTransport(local_address="127.0.0.9")
    with httpx.Client(base_url=http_gateway.url, transport=transport) as client:
        response = client.post("/v1/echo", headers={"X-Forwarded-For": "203.0.113.1"})
    assert echo(http_gateway, response)["event"]["requestContext"]["http"]["sourceIp"] == (
        "127.0.0.9"
    )


def test_binary_body_is_base64(http_gateway: LocalGateway) -> None:
    payload = bytes(range(256))
    with httpx.Client(base_url=http_gateway.url) as client:
        response = client.post(
            "/v1/echo", content=payload, headers={"content-type": "application/octet-stream"}
        )
        binary = client.get("/v1/files/x?binary=1")
    event = echo(http_gateway, response)["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload
    assert binary.content == b"\x00\x01\xfe\xff"
    assert binary.headers["content-type"] == "application/octet-stream"


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "text/plain", None]
)
def test_a_text_body_that_is_not_utf8_reaches_the_function_base64(
    http_gateway: LocalGateway, content_type: str | None
) -> None:
    """As API Gateway does: only UTF-8 text travels as text; was a gateway 500 (issue 10)."""
    payload = b"\xff\xfe{}"
    headers = {"content-type": content_type} if content_type else {}
    with httpx.Client(base_url=http_gateway.url) as client:
        response = client.post("/v1/echo", content=payload, headers=headers)
    event = echo(http_gateway, response)["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload


def test_a_utf8_json_body_stays_text(http_gateway: LocalGateway) -> None:
    with httpx.Client(base_url=http_gateway.url) as client:
        response = client.post("/v1/echo", json={"text": "héllo"})
    event = echo(http_gateway, response)["event"]
    assert event["isBase64Encoded"] is False
    assert json.loads(event["body"]) == {"text": "héllo"}


def test_response_mapping(http_gateway: LocalGateway) -> None:
    with httpx.Client(base_url=http_gateway.url) as client:
        full = client.post("/v1/echo", json={})
        plain = client.get("/v1/misc/plain")
        crash = client.get("/v1/misc/crash")
        no_body = client.get("/v1/misc/nothing")
    assert full.headers["x-route"] == "echo"
    assert full.headers.get_list("x-multi") == ["a", "b"]
    assert full.headers.get_list("set-cookie") == ["c1=v1", "c2=v2; HttpOnly"]
    # A payload 2.0 result without statusCode is the body of a 200 JSON response.
    assert plain.status_code == 200
    assert plain.json() == {"hello": "world"}
    assert plain.headers["content-type"] == "application/json"
    assert crash.status_code == 500
    assert crash.json() == {"message": "Internal Server Error"}
    assert no_body.status_code == 204
    assert no_body.content == b""


def test_authorizer_flow(http_gateway: LocalGateway, out_dir: Path) -> None:
    calls = out_dir / "authorizer.jsonl"
    before = len(read_jsonl(calls))
    with httpx.Client(base_url=http_gateway.url) as client:
        missing = client.get("/v1/items/1")
        assert len(read_jsonl(calls)) == before  # no identity source: the authorizer is not called
        unauthorized = client.get("/v1/items/1", headers={"Authorization": "nobody"})
        denied = client.get("/v1/items/1", headers={"Authorization": "deny"})
        broken = client.get("/v1/items/1", headers={"Authorization": "boom"})
        allowed = client.get("/v1/items/1?q=1", headers={"Authorization": "allow"})
    assert missing.status_code == 401
    assert missing.json() == {"message": "Unauthorized"}
    assert unauthorized.status_code == 401
    assert unauthorized.json() == {"message": "Unauthorized"}
    assert denied.status_code == 403
    assert denied.json() == {"message": "Forbidden"}
    assert broken.status_code == 500
    assert broken.json() == {"message": "Internal Server Error"}
    event = echo(http_gateway, allowed)["event"]
    assert event["requestContext"]["authorizer"] == {"lambda": {"user_id": "u-1", "scope": "all"}}

    auth_event = read_jsonl(calls)[-1]
    ref = reference("powertools_apiGatewayAuthorizerV2Event.json")
    skip = NOT_EMULATED | {"cookies", "pathParameters", "headers"}
    assert shape(auth_event, skip | {"requestContext"}) == shape(ref, skip | {"requestContext"})
    assert shape(auth_event["requestContext"]) == shape(ref["requestContext"], NOT_EMULATED)
    assert auth_event["type"] == "REQUEST"
    assert auth_event["identitySource"] == ["allow"]
    assert auth_event["routeKey"] == "GET /v1/items/{item_id}"
    assert auth_event["routeArn"].endswith("/$default/GET/v1/items/1")
    assert auth_event["pathParameters"] == {"item_id": "1"}
    assert "body" not in auth_event
