"""The one error map: every refusal leaves as problem+json with a stable code, never a 500."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel, Field

from messenger.kernel import errors
from messenger.web.bearer import bearer_token
from messenger.web.http import create_resolver, no_content, respond

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


@app.delete("/echo")
def erase() -> Response[str]:
    return no_content()


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


def test_a_model_is_written_once_as_json_and_an_empty_body_stays_empty() -> None:
    """Decision 58: the answer is pydantic's JSON text (UTF-8, not escaped), the same document;
    a 204's "" is not quoted into a JSON string."""
    result = call("POST", "/echo", json.dumps({"text": "h\u00e9 \U0001f44d"}))
    assert result["statusCode"] == 200
    assert result["body"] == '{"text":"h\u00e9 \U0001f44d"}'
    erased = call("DELETE", "/echo")
    assert (erased["statusCode"], erased["body"]) == (204, "")


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


# -- bad input is a 4xx, never a 500 (issue 10) ----------------------------------------------


def test_a_body_that_is_not_utf8_is_malformed_json() -> None:
    """API Gateway passes bytes that are not UTF-8 base64-encoded (isBase64Encoded: true)."""
    encoded = base64.b64encode(b"\xff\xfe").decode()
    result = call("POST", "/echo", encoded, b64=True)
    assert result["statusCode"] == 400
    assert problem_of(result)["code"] == "malformed_json"


def test_a_utf8_body_sent_base64_is_read() -> None:
    encoded = base64.b64encode(json.dumps({"text": "hé"}).encode()).decode()
    result = call("POST", "/echo", encoded, b64=True)
    assert result["statusCode"] == 200
    assert json.loads(result["body"]) == {"text": "hé"}


@pytest.mark.parametrize("body", ["not base64!", "\udcff"])
def test_an_undecodable_body_is_malformed_json(body: str) -> None:
    """Not base64 where the event says so, or a text body holding unpaired surrogates."""
    result = call("POST", "/echo", body, b64=body.isascii())
    assert result["statusCode"] == 400
    assert problem_of(result)["code"] == "malformed_json"


@pytest.mark.parametrize(
    "body", ['{"text":' * 5000 + "1" + "}" * 5000, "[" * 30_000 + "]" * 30_000]
)
def test_deeply_nested_json_is_malformed_json(body: str) -> None:
    """Under the 64 KiB limit, yet too deep for the parser: a RecursionError was a 500."""
    result = call("POST", "/echo", body)
    assert result["statusCode"] == 400
    assert problem_of(result)["code"] == "malformed_json"


@pytest.mark.parametrize("body", ["[]", '"x"', "null", "1", "true", "{}"])
def test_a_body_that_is_not_the_object_is_422(body: str) -> None:
    result = call("POST", "/echo", body)
    assert result["statusCode"] == 422
    assert problem_of(result)["code"] == "validation_failed"


def test_a_post_without_body_or_headers_is_422() -> None:
    event = {
        "version": "2.0",
        "routeKey": "POST /echo",
        "rawPath": "/echo",
        "rawQueryString": "",
        "requestContext": {
            "http": {"method": "POST", "path": "/echo", "protocol": "HTTP/1.1", "sourceIp": "1"},
            "requestId": "r",
            "routeKey": "POST /echo",
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }
    result = app.resolve(event, Context())
    assert result["statusCode"] == 422
    assert problem_of(result)["code"] == "validation_failed"


@pytest.mark.parametrize("path", ["/raise/a\x00b", "/raise/a\ud800", "/raise/a/b", "/nowhere"])
def test_a_path_no_route_takes_is_404_not_500(path: str) -> None:
    """API Gateway routed it here ({kind} matched), but the function's routes refuse the
    characters: no resource has such an id."""
    result = call("GET", path)
    assert result["statusCode"] == 404
    assert problem_of(result)["code"] == "not_found"
