"""The HTTP side every API function shares: one resolver factory, one error map, the request's
context, one entrypoint.

Errors leave as RFC 9457 problem+json with a stable `code` (API.md, Conventions). This module is
the only place that turns a domain error, a validation failure or an unreachable backing service
into a status code. A function's file is its routes and one line:

    lambda_handler = entrypoint(app)
"""

from __future__ import annotations

import base64
import json
import uuid
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIResponseValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.logging import correlation_paths
from pydantic import BaseModel

from messenger.kernel import errors
from messenger.kernel.context import RequestContext
from messenger.platform import deadline
from messenger.platform.collector import end_init
from messenger.platform.observability import logger, metrics

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from aws_lambda_powertools.utilities.typing import LambdaContext

    Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


ModelT = TypeVar("ModelT")

PROBLEM_JSON = "application/problem+json"
MAX_BODY_BYTES = 64 * 1024

STATUS_BY_ERROR: dict[type[errors.DomainError], HTTPStatus] = {
    errors.BadRequest: HTTPStatus.BAD_REQUEST,
    errors.InvalidInput: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.Unauthenticated: HTTPStatus.UNAUTHORIZED,
    errors.Forbidden: HTTPStatus.FORBIDDEN,
    errors.NotFound: HTTPStatus.NOT_FOUND,
    errors.Conflict: HTTPStatus.CONFLICT,
    errors.Gone: HTTPStatus.GONE,
    errors.RateLimited: HTTPStatus.TOO_MANY_REQUESTS,
    errors.Unavailable: HTTPStatus.SERVICE_UNAVAILABLE,
}


def problem(
    status: HTTPStatus,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[str]:
    body = {
        "type": f"https://messenger.example/problems/{code.replace('_', '-')}",
        "title": title or status.phrase,
        "status": int(status),
        "detail": detail,
        "code": code,
        **extra,
    }
    return Response(
        status_code=int(status), content_type=PROBLEM_JSON, body=json.dumps(body), headers=headers
    )


def _field_errors(raw: Sequence[Any]) -> list[dict[str, str]]:
    fields = []
    for error in raw:
        location = [str(part) for part in error.get("loc", ()) if part != "body"]
        fields.append({"field": ".".join(location) or "body", "message": str(error.get("msg"))})
    return fields


class _UnreadableBody(ValueError):
    """The body is not base64 where the event says so, or its bytes are not UTF-8."""


def _body_bytes(event: Mapping[str, Any]) -> bytes:
    """The request body's bytes, refused unless they are UTF-8 text (every body we take is
    JSON). API Gateway base64-encodes bodies that are not text (`isBase64Encoded: true`)."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except ValueError as exc:  # binascii.Error is a ValueError
            raise _UnreadableBody("The request body is not base64 as announced") from exc
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _UnreadableBody("The request body is not UTF-8 text") from exc
        return raw
    try:
        return str(body).encode("utf-8")
    except UnicodeEncodeError as exc:  # a direct invoke can hand us unpaired surrogates
        raise _UnreadableBody("The request body is not UTF-8 text") from exc


def parse_json(text: str | bytes) -> Any:
    """json.loads, except that JSON nested too deeply to parse is malformed JSON (400), not a
    RecursionError (500)."""
    try:
        return json.loads(text)
    except RecursionError as exc:
        doc = text if isinstance(text, str) else text.decode("utf-8", "replace")
        raise json.JSONDecodeError("nested too deeply", doc, 0) from exc


def _refusal(response: Response[str]) -> dict[str, Any]:
    """A problem response in the Lambda proxy result shape, for refusals before routing."""
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": PROBLEM_JSON, **(response.headers or {})},
        "body": response.body,
        "isBase64Encoded": False,
    }


def _malformed_json(detail: str = "The request body is not valid JSON") -> Response[str]:
    return problem(HTTPStatus.BAD_REQUEST, "malformed_json", detail)


def unavailable_problem() -> Response[str]:
    return problem(
        HTTPStatus.SERVICE_UNAVAILABLE,
        "unavailable",
        "A backing service is unavailable; nothing was changed, retry shortly",
        headers={"Retry-After": "1"},
    )


def _session_store_unreachable(event: Mapping[str, Any]) -> bool:
    """The authorizer could not check the token at all (decision 30): no caller, no business."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    flag = (authorizer.get("lambda") or {}).get("unavailable")
    return flag is True or str(flag).lower() == "true"


def _media_type(event: Mapping[str, Any]) -> str:
    content_type = str((event.get("headers") or {}).get("content-type") or "")
    return content_type.split(";", 1)[0].strip().lower()


def _without_content_type(event: Mapping[str, Any]) -> dict[str, Any]:
    headers = {k: v for k, v in (event.get("headers") or {}).items() if k != "content-type"}
    return {**event, "headers": headers}


class MessengerResolver(APIGatewayHttpResolver):
    """Sets the invocation's deadline and refuses, before anything parses them, requests whose
    caller could not be verified (503), oversized bodies (413), bytes that are not UTF-8
    (400 `malformed_json`; API Gateway passes them base64, `isBase64Encoded: true`) and bodies
    of another media type than JSON (415: Powertools would otherwise try form or multipart
    parsing, and a multipart type without a boundary raised a 500; an empty body has no media
    type to refuse, its Content-Type is dropped and a route that needs a body answers 422).
    Validation runs before middlewares, so this cannot be one."""

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        if _session_store_unreachable(event):
            logger.warning("The authorizer could not reach the session store")
            return _refusal(unavailable_problem())
        try:
            raw = _body_bytes(event)
        except _UnreadableBody as exc:
            return _refusal(_malformed_json(str(exc)))
        if len(raw) > MAX_BODY_BYTES:
            detail = f"The request body is {len(raw)} bytes; the limit is {MAX_BODY_BYTES}"
            return _refusal(
                problem(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "payload_too_large", detail)
            )
        media_type = _media_type(event)
        if media_type and media_type != "application/json":
            if raw:
                detail = f"The body is {media_type}; send it as application/json"
                return _refusal(
                    problem(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", detail)
                )
            event = _without_content_type(event)
        with deadline.invocation(context):
            return super().resolve(event, context)


class _JsonField:
    """A route's return field whose `serialize` writes a model's JSON text itself."""

    def __init__(self, field: Any) -> None:
        self._field = field

    def __getattr__(self, name: str) -> Any:
        return getattr(self._field, name)

    def serialize(self, value: Any, *, mode: str = "json", **options: Any) -> Any:
        adapter = self._field._type_adapter
        if not isinstance(value, BaseModel):  # a str body (204's "") is sent as it is, unquoted
            return adapter.dump_python(value, mode=mode, **options)
        return adapter.dump_json(value, **options).decode()


class OnePassJsonValidation(OpenAPIResponseValidationMiddleware):
    """Powertools' response validation, with the body written in one pass (decision 58).

    Powertools validates a route's answer against its declared model, dumps it to dicts and lists,
    and json.dumps then walks those again: 0.47 ms of a 50-message history page, against 0.23 ms
    for pydantic's own JSON writer with the same options. A str body is sent as it is."""

    def _serialize_response_with_validation(
        self, *, field: Any, response_content: Any, **options: Any
    ) -> Any:
        if not hasattr(field, "_type_adapter"):  # a Powertools without it: its own way
            return super()._serialize_response_with_validation(
                field=field, response_content=response_content, **options
            )
        as_json: Any = _JsonField(field)  # a ModelField to Powertools: every other attribute
        return super()._serialize_response_with_validation(
            field=as_json, response_content=response_content, **options
        )


def create_resolver() -> MessengerResolver:
    """A resolver for HTTP API payload 2.0 with validation and the project's error map."""
    app = MessengerResolver(enable_validation=True, json_body_deserializer=parse_json)
    app._response_validation_middleware = OnePassJsonValidation(
        validation_serializer=app._serializer,
        has_response_validation_error=app._has_response_validation_error,
    )

    @app.exception_handler(RequestValidationError)
    def _invalid_request(exc: RequestValidationError) -> Response[Any]:
        raw = exc.errors()
        if any(e.get("type") == "json_invalid" for e in raw):
            return _malformed_json()
        return problem(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            "validation_failed",
            "The request breaks the schema or a field rule",
            title="Validation failed",
            errors=_field_errors(raw),
        )

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_media(exc: RequestUnsupportedContentType) -> Response[Any]:
        return problem(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the body as application/json",
        )

    @app.exception_handler(NotFoundError)
    def _no_route(exc: NotFoundError) -> Response[Any]:
        # API Gateway routed the request here, so its path matched one of our routes, but a path
        # parameter holds characters none of the function's routes take (NUL, '/', ...): no
        # resource has such an id.
        return problem(HTTPStatus.NOT_FOUND, "not_found", "Nothing exists at this path")

    @app.exception_handler(errors.DomainError)
    def _domain_error(exc: errors.DomainError) -> Response[Any]:
        status = next(
            (s for cls, s in STATUS_BY_ERROR.items() if isinstance(exc, cls)),
            HTTPStatus.BAD_REQUEST,
        )
        headers = None
        if isinstance(exc, errors.RateLimited):
            headers = {"Retry-After": str(exc.retry_after_seconds)}
        elif isinstance(exc, errors.Unavailable):
            logger.warning("A backing service is unavailable", extra={"error": repr(exc)})
            headers = {"Retry-After": "1"}
        return problem(status, exc.code, exc.detail, title=exc.title, headers=headers, **exc.extra)

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[Any]:
        if errors.is_unavailable(exc):
            logger.warning("A backing service is unavailable", extra={"error": repr(exc)})
            return unavailable_problem()
        logger.exception("Unhandled error")
        return problem(
            HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "Something went wrong on our side"
        )

    return app


def respond(body: ModelT, status: HTTPStatus = HTTPStatus.OK) -> Response[ModelT]:
    """A JSON response whose body is validated and serialized against the route's declared model."""
    return Response(status_code=int(status), content_type="application/json", body=body)


def no_content() -> Response[str]:
    return Response(status_code=int(HTTPStatus.NO_CONTENT), body="")


def caller_id(app: APIGatewayHttpResolver) -> uuid.UUID:
    """The authenticated user, from the Lambda authorizer's context (never from the request)."""
    return request_context(app).caller


def request_context(app: APIGatewayHttpResolver) -> RequestContext:
    """What the route's use-case needs of this request: the authorizer's user (None on an open
    route, or when it named none: a use-case that needs a caller answers 401), the correlation
    id the entrypoint's logger took from the request, and the invocation's deadline."""
    authorizer = app.current_event.request_context.authorizer.get_lambda or {}
    if authorizer.get("unavailable"):  # refused by the resolver already; never a caller
        raise errors.Unavailable()
    try:
        user_id: uuid.UUID | None = uuid.UUID(str(authorizer["user_id"]))
    except (KeyError, ValueError):
        user_id = None
    session = authorizer.get("session_id")
    return RequestContext(
        user_id,
        logger.get_correlation_id(),
        deadline.current(),
        session_id=str(session) if session and user_id is not None else None,
    )


def entrypoint(
    app: APIGatewayHttpResolver,
    *,
    flush_metrics: bool = False,
    prepare: Callable[[dict[str, Any]], Mapping[str, Any]] | None = None,
) -> Handler:
    """The function's `lambda_handler`: the logger takes the request's id as correlation id (and
    the Lambda context), the resolver answers; with `flush_metrics`, the metrics the request
    added leave as EMF (only functions that add some ask: an empty flush warns). `prepare`
    rewrites the event before routing (messenger.web.paths.with_encoded_path). The function's
    module ends here, and with it the init (`messenger.platform.collector.end_init`)."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(prepare(event) if prepare else event, context)

    end_init()
    if flush_metrics:
        return metrics.log_metrics(lambda_handler)
    return lambda_handler
