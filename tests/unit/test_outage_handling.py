"""Outages leave as 503 with Retry-After: the invocation deadline and the unverified caller."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import Response
from botocore.exceptions import ClientError, EndpointConnectionError
from pymongo import errors as mongo_errors
from pynamodb.exceptions import DoesNotExist, PutError

from messenger.kernel import errors
from messenger.platform import deadline
from messenger.web.http import caller_id, create_resolver, no_content

pytestmark = pytest.mark.unit

app = create_resolver()
ran: list[str] = []


@app.get("/me")
def me() -> Response[str]:
    ran.append(str(caller_id(app)))
    return no_content()


@app.get("/slow")
def slow() -> Response[str]:
    ran.append("slow")
    deadline.seconds_left()  # what every adapter does before it calls a backing service
    return no_content()


class Context:
    function_name = "test"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:test"
    aws_request_id = "req"

    def __init__(self, remaining_ms: int = 10_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def call(path: str, authorizer: dict[str, Any], remaining_ms: int = 10_000) -> dict[str, Any]:
    event = {
        "version": "2.0",
        "routeKey": f"GET {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {},
        "requestContext": {
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4"},
            "requestId": "r",
            "routeKey": f"GET {path}",
            "stage": "$default",
            "authorizer": {"lambda": authorizer},
        },
        "isBase64Encoded": False,
    }
    ran.clear()
    return app.resolve(event, Context(remaining_ms))


def assert_unavailable(result: dict[str, Any]) -> None:
    assert result["statusCode"] == 503
    assert result["headers"]["Retry-After"] == "1"
    assert json.loads(result["body"])["code"] == "unavailable"


USER = "0b0c5a43-54a5-4d5b-9a2a-0d4a3c1e8e11"


def test_a_verified_caller_runs_the_route() -> None:
    assert call("/me", {"user_id": USER})["statusCode"] == 204
    assert ran == [USER]


@pytest.mark.parametrize("flag", [True, "true"])
def test_an_unverifiable_caller_gets_503_and_no_route_runs(flag: object) -> None:
    assert_unavailable(call("/me", {"unavailable": flag}))
    assert ran == []


def test_caller_id_refuses_an_unverified_caller_too() -> None:
    class Fake:
        class current_event:
            class request_context:
                class authorizer:
                    get_lambda = {"unavailable": True}

    with pytest.raises(errors.Unavailable):
        caller_id(Fake())  # type: ignore[arg-type]


def test_a_route_out_of_time_answers_503_before_lambda_times_out() -> None:
    # 1.05 s left: the margin keeps 1 s back, so nothing may start any more.
    assert_unavailable(call("/slow", {"user_id": USER}, remaining_ms=1_050))
    assert ran == ["slow"]
    assert call("/slow", {"user_id": USER}, remaining_ms=5_000)["statusCode"] == 204


def test_seconds_left_is_capped_by_the_deadline_and_unbounded_outside() -> None:
    assert deadline.seconds_left(3.0) == 3.0
    assert not deadline.active()
    with deadline.invocation(Context(2_500)):
        assert 1.0 <= deadline.seconds_left(10.0) <= 1.5
        assert deadline.seconds_left(0.5) == 0.5
        assert deadline.has_time(1.0)
        assert not deadline.has_time(2.0)
    assert not deadline.active()


def test_a_call_that_could_outlive_the_deadline_does_not_start() -> None:
    deadline.require(60.0)  # no invocation: no deadline
    with deadline.invocation(Context(4_000)):
        deadline.require(2.0)
        with pytest.raises(deadline.DeadlineExceeded):
            deadline.require(4.0)


def test_an_invocation_without_a_lambda_context_sets_no_deadline() -> None:
    with deadline.invocation(object()):
        assert not deadline.active()


def test_scopes_span_each_invocation_even_when_registered_during_one() -> None:
    entered: list[float] = []
    exited: list[bool] = []

    @contextmanager
    def scope(seconds: float) -> Iterator[None]:
        entered.append(seconds)
        try:
            yield
        finally:
            exited.append(True)

    with deadline.invocation(Context(4_000)):
        deadline.register_scope("test-scope", scope)  # a driver imported mid-invocation
        assert len(entered) == 1
        assert 2.5 < entered[0] <= 3.0
        assert exited == []
    assert exited == [True]
    try:
        with deadline.invocation(Context(6_000)):
            assert len(entered) == 2
            assert 4.5 < entered[1] <= 5.0
        assert exited == [True, True]
    finally:
        deadline._scopes.pop("test-scope")


def test_nested_invocations_keep_the_outer_deadline() -> None:
    with deadline.invocation(Context(3_000)):
        with deadline.invocation(Context(60_000)):
            assert deadline.seconds_left() <= 2.0
        assert deadline.active()


def test_the_deadline_is_unavailable() -> None:
    with deadline.invocation(Context(1_050)):
        time.sleep(0.01)
        with pytest.raises(deadline.DeadlineExceeded) as exceeded:
            deadline.seconds_left()
    assert errors.is_unavailable(exceeded.value)


def test_pymongo_client_side_timeouts_are_unavailable() -> None:
    import messenger.platform.mongo  # noqa: F401 - registers pymongo's errors

    assert errors.is_unavailable(mongo_errors.NetworkTimeout("timed out"))
    assert errors.is_unavailable(mongo_errors.ServerSelectionTimeoutError("no server"))
    assert errors.is_unavailable(mongo_errors.OperationFailure("maxTimeMS expired", code=50))
    assert not errors.is_unavailable(mongo_errors.DuplicateKeyError("taken", code=11000))


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "PutItem")


def test_dynamodb_unreachable_or_throttling_is_unavailable_a_refusal_is_not() -> None:
    from messenger.platform.dynamodb import dynamodb_unavailable

    unreachable = EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
    assert dynamodb_unavailable(PutError("put failed", cause=unreachable))
    assert dynamodb_unavailable(PutError("put failed", cause=_client_error("ThrottlingException")))
    assert errors.is_unavailable(PutError("put failed", cause=_client_error("InternalServerError")))
    assert not dynamodb_unavailable(
        PutError("put failed", cause=_client_error("ValidationException"))
    )
    assert not dynamodb_unavailable(DoesNotExist())


def test_a_timed_out_conditional_write_is_neither_a_condition_failure_nor_an_attribute_error() -> (
    None
):
    """pynamodb's `cause_response_code` raises AttributeError when botocore timed out (its
    error's `response` is None): the adapters ask `is_condition_failure`, which says no."""
    from botocore.exceptions import ReadTimeoutError
    from pynamodb.exceptions import UpdateError

    from messenger.platform.dynamodb import dynamodb_unavailable, error_code, is_condition_failure

    timed_out = UpdateError("update failed", cause=ReadTimeoutError(endpoint_url="http://x"))
    with pytest.raises(AttributeError):
        _ = timed_out.cause_response_code  # why the helper exists
    assert error_code(timed_out) is None
    assert not is_condition_failure(timed_out)
    assert dynamodb_unavailable(timed_out)
    refused = PutError("put failed", cause=_client_error("ConditionalCheckFailedException"))
    assert is_condition_failure(refused)
    assert not dynamodb_unavailable(refused)
