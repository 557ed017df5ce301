"""Bodies that are not JSON are 415 before Powertools tries form or multipart parsing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel

from messenger.web.http import create_resolver, respond

pytestmark = pytest.mark.unit


class Note(BaseModel):
    text: str


app = create_resolver()


@app.post("/notes")
def add_note(body: Note) -> Response[Note]:
    return respond(body)


@app.post("/ping")
def ping() -> Response[Note]:
    return respond(Note(text="pong"))


class Context:
    function_name = "test"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:test"
    aws_request_id = "req"


def call(path: str, content_type: str | None, body: str | None) -> tuple[int, dict[str, Any]]:
    headers = {"content-type": content_type} if content_type is not None else {}
    event = {
        "version": "2.0",
        "routeKey": f"POST {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4"},
            "requestId": "r",
            "routeKey": f"POST {path}",
            "stage": "$default",
        },
        "body": body,
        "isBase64Encoded": False,
    }
    result = app.resolve(event, Context())
    return result["statusCode"], json.loads(result["body"])


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",  # no boundary: Powertools raised ValueError, a 500
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "text/plain",
    ],
)
def test_a_body_that_is_not_json_is_415(content_type: str) -> None:
    status, problem = call("/notes", content_type, '{"text": "hi"}')
    assert status == 415
    assert problem["code"] == "unsupported_media_type"


@pytest.mark.parametrize("content_type", ["multipart/form-data", "text/plain"])
def test_an_empty_body_has_no_media_type_to_refuse(content_type: str) -> None:
    status, problem = call("/notes", content_type, None)
    assert status == 422
    assert problem["code"] == "validation_failed"
    assert call("/ping", content_type, None) == (200, {"text": "pong"})


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
def test_json_passes(content_type: str) -> None:
    assert call("/notes", content_type, '{"text": "hi"}') == (200, {"text": "hi"})
    assert call("/notes", None, '{"text": "hi"}') == (200, {"text": "hi"})
