"""The one error map: every refusal leaves as problem+json with a stable code, never a 500."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel, Field

from messenger import errors
from messenger.bearer import bearer_token
from messenger.http import create_resolver, respond

pytestmark = pytest.mark.unit


class Echo(BaseModel):
    text: str = Field(min_length=1, max_length=10)


class DriverDown(Exception):
    """Stands for a driver's connection error."""


errors.register_unavailable(DriverDown)
app = create_resolver()
RAISE: dict[str, Exception] = {
    "not-found": errors.NotFound("thing_not_found", "No such thing"),
    "conflict": errors.Conflict("thing_taken", "Taken", taken_by="someone"),
    "limited": errors.RateLimited("Slow down", retry_after_seconds=42),
    "driver-down": DriverDown("connection refused"),
    "bug": ZeroDivisionError("oops"),
}


@app.post("/echo")
def echo(body: Echo) -> Response[Echo]:
    return respond(body)


@app.get("/raise/<kind>")
def raise_(kind: str) -> Response[Echo]:
    raise RAISE[kind]


class Context:
    function_name = "test"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:test"
    aws_request_id = "req"


def call(method: str, path: str, body: str | None = None, b64: bool = False) -> dict[str, Any]:
    event = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4"},
            "requestId": "r",
            "routeKey": f"{method} {path}",
            "stage": "$default",
        },
        "body": body,
        "isBase64Encoded": b64,
    }
    return app.resolve(event, Context())


def problem_of(result: dict[str, Any]) -> dict[str, Any]:
    assert result["headers"]["Content-Type"] == "application/problem+json"
    body = json.loads(result["body"])
    assert body["status"] == result["statusCode"]
    assert {"type", "title", "status", "detail", "code"} <= body.keys()
    return body


def test_valid_request_round_trips() -> None:
    result = call("POST", "/echo", json.dumps({"text": "hi"}))
    assert result["statusCode"] == 200
    assert json.loads(result["body"]) == {"text": "hi"}


def test_malformed_json_is_400() -> None:
    result = call("POST", "/echo", "{not json")
    assert result["statusCode"] == 400
    assert problem_of(result)["code"] == "malformed_json"


def test_schema_violation_is_422_listing_fields() -> None:
    result = call("POST", "/echo", json.dumps({"text": "x" * 11}))
    assert result["statusCode"] == 422
    body = problem_of(result)
    assert body["code"] == "validation_failed"
    assert [e["field"] for e in body["errors"]] == ["text"]


def test_body_over_64_kib_is_413_even_base64_encoded() -> None:
    raw = json.dumps({"text": "x" * 70_000})
    assert call("POST", "/echo", raw)["statusCode"] == 413
    encoded = base64.b64encode(raw.encode()).decode()
    result = call("POST", "/echo", encoded, b64=True)
    assert result["statusCode"] == 413
    assert problem_of(result)["code"] == "payload_too_large"


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("not-found", 404, "thing_not_found"),
        ("conflict", 409, "thing_taken"),
        ("limited", 429, "rate_limited"),
        ("driver-down", 503, "unavailable"),
        ("bug", 500, "internal_error"),
    ],
)
def test_errors_map_to_status_and_code(kind: str, status: int, code: str) -> None:
    result = call("GET", f"/raise/{kind}")
    assert result["statusCode"] == status
    assert problem_of(result)["code"] == code


def test_rate_limited_says_when_to_retry() -> None:
    result = call("GET", "/raise/limited")
    assert result["headers"]["Retry-After"] == "42"


def test_extra_fields_travel_in_the_problem() -> None:
    assert problem_of(call("GET", "/raise/conflict"))["taken_by"] == "someone"


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer   abc ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("Bearer a b", None),
        ("", None),
    ],
)
def test_bearer_token_parsing(header: str, token: str | None) -> None:
    assert bearer_token({"Authorization": header}) == token
