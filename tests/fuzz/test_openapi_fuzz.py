"""Generated requests to every documented operation; every answer must be one it documents.

Fails on any 5xx and on any answer whose status, content type or body the document does not
list for that operation (schemathesis' not_a_server_error, status_code_conformance,
content_type_conformance and response_schema_conformance). The document is docs/openapi.json,
the file the local gateway serves at /openapi.json.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup, ServerError
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.flows import PASSWORD, bearer
from tests.fuzz.conftest import FINDINGS, MAX_EXAMPLES, STATUSES, TOTALS, WORLD
from tests.support import ROOT

pytestmark = [pytest.mark.fuzz, pytest.mark.timeout(600)]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

schema = schemathesis.openapi.from_path(
    ROOT / "docs" / "openapi.json",
    config=schemathesis.Config.from_dict(
        {
            "request-timeout": 30,
            "generation": {"max-examples": MAX_EXAMPLES},
            "phases": {"stateful": {"enabled": False}},
        }
    ),
)


def _real_path_values() -> dict[str, str]:
    friend = WORLD["friend"]
    return {
        "chat_id": WORLD["chat_id"],
        "message_id": WORLD["message_id"],
        "user_id": friend["user_id"],
        "nickname": friend["nickname"],
        "emoji": "👍",
    }


def _real_body(path: str, method: str) -> dict[str, Any] | None:
    friend = WORLD["friend"]
    return {
        ("/v1/chats", "POST"): {"participants": [friend["user_id"]]},
        ("/v1/chats/{chat_id}/messages", "POST"): {"content": "hi", "client_message_id": "fuzz"},
        ("/v1/chats/{chat_id}/read", "POST"): {"message_id": WORLD["message_id"]},
        ("/v1/chats/{chat_id}/delivered", "POST"): {"message_id": WORLD["message_id"]},
        ("/v1/chats/{chat_id}/messages/{message_id}", "PATCH"): {"content": "edited"},
        ("/v1/friends/requests", "POST"): {"nickname": friend["nickname"]},
    }.get((path, method.upper()))


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
    """As often as not, the world's real ids instead of the generated ones."""
    real = {k: v for k, v in _real_path_values().items() if k in (path_parameters or {})}
    if not real:
        return st.just(path_parameters)
    return st.sampled_from([path_parameters, {**path_parameters, **real}])


@schema.hook
def flatmap_body(context: Any, body: Any) -> Any:
    operation = context.operation
    real = _real_body(operation.path, operation.method) if operation else None
    return st.sampled_from([body, real]) if real is not None else st.just(body)


def _authorization(case: schemathesis.Case) -> dict[str, str]:
    if case.operation.path == "/v1/auth/logout":
        # Logging out revokes the token: each logout gets a session of its own.
        login = httpx.post(
            f"{WORLD['base_url']}/v1/auth/login",
            json={"email": WORLD["friend"]["email"], "password": PASSWORD},
            timeout=30,
        )
        assert login.status_code == 200, login.text
        return bearer(login.json()["access_token"])
    return bearer(WORLD["me"]["access_token"])


_seen: set[str] = set()


@schema.parametrize()
# CI runs a fixed sequence (a red build must be reproducible); a local run explores anew.
@settings(
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=os.environ.get("CI", "") not in ("", "0", "false"),
)
def test_every_answer_is_documented(case: schemathesis.Case, world: dict[str, Any]) -> None:
    if case.operation.label not in _seen:
        _seen.add(case.operation.label)
        TOTALS["operations"] += 1
    headers = _authorization(case)
    response = case.call(base_url=world["base_url"], headers=headers)
    TOTALS["requests"] += 1
    STATUSES.setdefault(case.operation.label, Counter())[response.status_code] += 1
    if response.status_code >= 500:
        TOTALS["5xx"] += 1
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except (Failure, FailureGroup) as exc:
        failures = exc.exceptions if isinstance(exc, FailureGroup) else (exc,)
        for failure in failures:
            if not isinstance(failure, ServerError):  # counted above, as a 5xx
                TOTALS["violations"] += 1
            FINDINGS.append(f"{case.operation.label}: {failure.title} ({response.status_code})")
        raise
