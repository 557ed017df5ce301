"""The committed OpenAPI document is the one the handlers generate (run `make openapi`)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from messenger.web import api_docs
from messenger_local import openapi
from tests.support import ROOT, template

pytestmark = pytest.mark.unit


def test_committed_openapi_is_current() -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text()
    assert committed == openapi.render(openapi.build()), "run `make openapi` and commit"


def test_every_route_is_documented_with_its_security() -> None:
    document = openapi.build()
    for route in template().routes:
        path = route.path
        operation = document["paths"][path][route.method.lower()]
        assert operation["x-lambda-function"] == route.function
        assert ("security" in operation) == (route.authorizer is not None)


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


def test_success_statuses_are_the_ones_the_handlers_answer() -> None:
    paths = openapi.build()["paths"]
    assert set(paths["/v1/auth/register"]["post"]["responses"]) >= {"201"}
    assert "200" not in paths["/v1/auth/register"]["post"]["responses"]
    assert {"200", "201"} <= set(paths["/v1/chats"]["post"]["responses"])
    assert {"200", "201"} <= set(paths["/v1/friends/requests"]["post"]["responses"])
    for no_body in (paths["/v1/auth/logout"]["post"], paths["/v1/friends/{nickname}"]["delete"]):
        assert "content" not in no_body["responses"]["204"]


def test_every_204_has_no_body_and_every_refusal_is_problem_json() -> None:
    document = openapi.build()
    for name, operation in _operations(document):
        for status, response in operation["responses"].items():
            content = response.get("content", {})
            if status == "204":
                assert not content, name
            elif status.startswith(("4", "5")):
                assert api_docs.PROBLEM_JSON in content or status == "401", (name, status)
                assert "HTTPValidationError" not in str(content), name
        assert "503" in operation["responses"], f"{name}: every route reaches a backing service"


def test_protected_routes_document_the_authorizers_own_401() -> None:
    document = openapi.build()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for name, operation in _operations(document):
        gateway_401 = (
            operation["responses"].get("401", {}).get("content", {}).get("application/json")
        )
        if "security" in operation:
            assert gateway_401 == {"schema": {"$ref": "#/components/schemas/GatewayError"}}, name
        else:
            assert gateway_401 is None, name


def test_problem_responses_pin_status_and_code() -> None:
    responses = api_docs.problem_responses(
        "email_taken", "nickname_taken", ok={201: "Created"}, body=True
    )
    assert responses[201] == {"description": "Created"}
    conflict = responses[409]["content"][api_docs.PROBLEM_JSON]["schema"]
    codes = {variant["properties"]["code"]["const"] for variant in conflict["oneOf"]}
    assert codes == {"email_taken", "nickname_taken"}
    invalid = responses[422]["content"][api_docs.PROBLEM_JSON]["schema"]
    assert invalid["allOf"] == [{"$ref": "#/components/schemas/ValidationProblem"}]
    assert set(responses) == {201, 400, 409, 413, 415, 422, 503}
    assert "Retry-After" in responses[503]["headers"]
    with pytest.raises(KeyError):
        api_docs.problem_responses("no_such_code")


def test_patch_nickname_is_not_nullable_in_the_schema() -> None:
    schema = openapi.build()["components"]["schemas"]["ProfilePatch"]["properties"]["nickname"]
    assert "null" not in json.dumps(schema)
    assert schema["type"] == "string"


# Domain refusals are raised as `NotFound("code", ...)` or `super().__init__("code", ...)`.
RAISED = re.compile(
    r"(?:BadRequest|InvalidInput|Unauthenticated|Forbidden|NotFound|Conflict|super\(\)\.__init__)"
    r'\(\s*"([a-z_]+)"'
)


def test_every_code_the_code_raises_is_documented_by_some_route() -> None:
    raised = set()
    for source in (ROOT / "layers" / "messenger" / "messenger").rglob("*.py"):
        raised |= set(RAISED.findall(source.read_text()))
    raised |= {"rate_limited", "unavailable"}  # RateLimited and Unavailable set their own code
    documented = set()
    for _, operation in _operations(openapi.build()):
        documented |= set(re.findall(r'"const": "([a-z_]+)"', json.dumps(operation)))
    assert raised - {"internal_error"} <= documented
    assert set(api_docs.STATUS_OF) <= documented, "a code in STATUS_OF that no route lists"


def _codes(response: dict[str, Any]) -> set[str]:
    return set(re.findall(r'"const": "([a-z_]+)"', json.dumps(response)))


def test_body_and_path_refusals_follow_the_route_signature() -> None:
    """`body=True` exactly where the handler takes a body, `path=True` where it has a path
    parameter: the flags cannot drift from the code they describe."""
    for name, operation in _operations(openapi.build()):
        responses = operation["responses"]
        takes_body = "requestBody" in operation
        assert ("malformed_json" in _codes(responses.get("400", {}))) == takes_body, name
        assert ("415" in responses) == takes_body, name
        has_path = any(p["in"] == "path" for p in operation.get("parameters", []))
        assert ("not_found" in _codes(responses.get("404", {}))) == has_path, name
