"""The OpenAPI `responses=` of a route, built from the problem codes it can answer (API.md).

Every route decorator passes `responses=problem_responses(...)`: its success statuses and the
codes of the refusals it can produce. Each status then documents an `application/problem+json`
body whose `code` is one of that status's codes, so the document (and the fuzz tier, which checks
every answer against it) knows exactly what a route says. Handlers import this module at init:
it is plain data and functions (no pydantic, no Powertools at run time), a few microseconds.
The schemas referred to here are PROBLEM_SCHEMAS; messenger_local.openapi adds them to the
document's components, and the authorizer's own 401 body to the protected routes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

PROBLEM_JSON = "application/problem+json"
_REF = "#/components/schemas/"


@dataclass(frozen=True)
class Refusal:
    """A problem a route can answer: its status, its code and the schema of its body."""

    status: int
    code: str
    schema: str = "Problem"


# Each code's usual status (API.md per route). A code answered with another status on some route
# is given there as a Refusal (e.g. `not_friends` is 404 on DELETE /v1/friends/{nickname}).
STATUS_OF: dict[str, int] = {
    "malformed_json": 400,
    "invalid_state": 400,
    "invalid_credentials": 401,
    "invalid_token": 401,
    "oauth_failed": 401,
    "unauthorized": 401,
    "not_participant": 403,
    "not_friends": 403,
    "not_author": 403,
    "blocked": 403,
    "not_admin": 403,
    "not_member": 404,
    "direct_chat": 409,
    "chat_full": 409,
    "chat_not_found": 404,
    "export_not_found": 404,
    "device_not_found": 404,
    "message_not_found": 404,
    "not_found": 404,
    "profile_not_ready": 404,
    "session_not_found": 404,
    "provider_not_found": 404,
    "request_not_found": 404,
    "upload_not_found": 404,
    "user_not_found": 404,
    "already_friends": 409,
    "email_taken": 409,
    "email_unverified": 409,
    "nickname_taken": 409,
    "no_password": 409,
    "request_pending": 409,
    "request_rejected": 409,
    "message_not_editable": 409,
    "too_many_reactions": 409,
    "upload_incomplete": 409,
    "upload_used": 409,
    "sync_expired": 410,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "cannot_befriend_self": 422,
    "cannot_block_self": 422,
    "validation_failed": 422,
    "invalid_reply": 422,
    "rate_limited": 429,
    "unavailable": 503,
}

TITLES: dict[int, str] = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    410: "Gone",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Too many requests",
    503: "Service unavailable",
}

# The refusals of every route that takes a JSON body (messenger.web.http: parsing and size check).
BODY_REFUSALS = (
    Refusal(400, "malformed_json"),
    Refusal(413, "payload_too_large"),
    Refusal(415, "unsupported_media_type"),
    Refusal(422, "validation_failed", "ValidationProblem"),
)
# Every route with a path parameter: a value no route pattern takes (NUL, '/', ...) finds nothing.
PATH_REFUSALS = (Refusal(404, "not_found"),)
# Every route reaches a backing service.
ALWAYS = (Refusal(503, "unavailable"),)
# Chat creation names the participants who are not the caller's friends.
NOT_FRIENDS_LISTED = Refusal(403, "not_friends", "NotFriendsProblem")
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying",
        "schema": {"type": "integer", "minimum": 1},
    }
}

_PROBLEM_PROPERTIES: dict[str, Any] = {
    "type": {"type": "string", "description": "A URI naming the problem type"},
    "title": {"type": "string"},
    "status": {"type": "integer", "description": "The HTTP status, repeated"},
    "detail": {"type": "string", "description": "What went wrong, for a human"},
    "code": {"type": "string", "description": "Stable and machine-readable (API.md)"},
}
_PROBLEM_REQUIRED = ["type", "title", "status", "detail", "code"]

PROBLEM_SCHEMAS: dict[str, dict[str, Any]] = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details; `code` is stable and machine-readable (API.md).",
        "required": _PROBLEM_REQUIRED,
        "properties": _PROBLEM_PROPERTIES,
    },
    "ValidationProblem": {
        "type": "object",
        "description": "`validation_failed`: the problem details with the offending fields.",
        "required": [*_PROBLEM_REQUIRED, "errors"],
        "properties": {
            **_PROBLEM_PROPERTIES,
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "message"],
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    },
    "NotFriendsProblem": {
        "type": "object",
        "description": "`not_friends` on chat creation: the participants who are not friends.",
        "required": [*_PROBLEM_REQUIRED, "non_friends"],
        "properties": {
            **_PROBLEM_PROPERTIES,
            "non_friends": {"type": "array", "items": {"type": "string", "format": "uuid"}},
        },
    },
}


def _refusal(entry: str | Refusal) -> Refusal:
    if isinstance(entry, Refusal):
        return entry
    status = STATUS_OF[entry]  # a KeyError here is a typo in a route's list
    return Refusal(
        status, entry, "ValidationProblem" if entry == "validation_failed" else "Problem"
    )


def _body_schema(refusal: Refusal) -> dict[str, Any]:
    return {
        "allOf": [{"$ref": _REF + refusal.schema}],
        "properties": {"status": {"const": refusal.status}, "code": {"const": refusal.code}},
    }


def problem_responses(
    *codes: str | Refusal,
    ok: Mapping[int, str] | None = None,
    no_content: str | None = None,
    body: bool = False,
    path: bool = False,
) -> dict[int, OpenAPIResponse]:
    """The responses block of a route.

    `ok`: the success statuses whose body is the route's return model, with their descriptions;
    `no_content`: the description of a 204 (no body); `body`: the route takes a JSON body (adds
    400 malformed_json, 413, 415 and 422 validation_failed); `path`: the route has path
    parameters (adds 404 not_found); `codes`: the route's own refusals,
    by code (their usual status) or as Refusal. 503 unavailable is always listed.
    """
    responses: dict[int, OpenAPIResponse] = {
        status: {"description": description} for status, description in (ok or {}).items()
    }
    if no_content is not None:
        responses[204] = {"description": no_content, "content": {}}
    refusals = [
        *(BODY_REFUSALS if body else ()),
        *(PATH_REFUSALS if path else ()),
        *map(_refusal, codes),
        *ALWAYS,
    ]
    by_status: dict[int, list[Refusal]] = {}
    for refusal in refusals:
        listed = by_status.setdefault(refusal.status, [])
        if all(r.code != refusal.code for r in listed):
            listed.append(refusal)
    for status in sorted(by_status):
        listed = by_status[status]
        variants = [_body_schema(r) for r in listed]
        schema = variants[0] if len(variants) == 1 else {"oneOf": variants}
        names = ", ".join(f"`{r.code}`" for r in listed)
        response: OpenAPIResponse = {
            "description": f"{TITLES.get(status, 'Refused')}: {names}",
            "content": {PROBLEM_JSON: {"schema": schema}},
        }
        if status in (429, 503):
            response["headers"] = RETRY_AFTER  # type: ignore[typeddict-item]
        responses[status] = response
    return responses
