"""Building requests from the events/ samples and reading the functions' answers."""

from __future__ import annotations

import json
from typing import Any

from tests.support import invoke, sample_event, template


def http_call(
    logical_id: str,
    body: Any = None,
    *,
    token: str | None = None,
    user_id: str | None = None,
    path_parameters: dict[str, str] | None = None,
    raw_body: str | None = None,
    source_ip: str | None = None,
) -> tuple[int, Any, dict[str, str]]:
    """Invoke an HTTP function with its sample event, changing only what the test says."""
    event = sample_event(logical_id)
    if raw_body is not None:
        event["body"] = raw_body
    elif body is not None:
        event["body"] = json.dumps(body)
    event["isBase64Encoded"] = False
    headers = event.setdefault("headers", {})
    headers.pop("authorization", None)
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    if path_parameters is not None:
        route = next(r for r in template().routes if r.function == logical_id)
        path = route.path
        for name, value in path_parameters.items():
            path = path.replace("{" + name + "}", value)
        event["pathParameters"] = path_parameters
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
    if source_ip is not None:  # the peer address API Gateway saw
        event["requestContext"]["http"]["sourceIp"] = source_ip
    if user_id is not None:
        authorizer = event["requestContext"].setdefault("authorizer", {})
        authorizer["lambda"] = {"user_id": user_id}
    result = invoke(logical_id, event)
    text = result.get("body") or ""
    payload = json.loads(text) if text else None
    return result["statusCode"], payload, {k.lower(): v for k, v in result["headers"].items()}


def authorize(token: str | None) -> str | None:
    """Run the authorizer with its sample event; the user id, or None when it refuses."""
    event = sample_event("Authorizer")
    headers = event.setdefault("headers", {})
    headers.pop("authorization", None)
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    try:
        result = invoke("Authorizer", event)
    except Exception as refused:
        if str(refused) != "Unauthorized":  # anything else would be a 500 at API Gateway
            raise
        return None
    assert result["isAuthorized"] is True
    return str(result["context"]["user_id"])
