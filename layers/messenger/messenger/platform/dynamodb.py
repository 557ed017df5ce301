"""How every DynamoDB call is bounded and when its failure means "unavailable" (503).

One policy for every context's pynamodb models (the realtime connections and stream, the push
devices): 1 s to connect, 1 s to read (DYNAMODB_READ_TIMEOUT_SECONDS; the local stack raises it,
decision 55), no botocore retry (it would double the worst case; the caller retries: a 503, a
redelivered record), and no call started with less than its worst case left
(messenger.platform.deadline).
"""

from __future__ import annotations

from typing import Any

import pynamodb.connection.base
from botocore.exceptions import BotoCoreError
from pynamodb.exceptions import DoesNotExist, PynamoDBException

from messenger.kernel.errors import register_unavailable_check
from messenger.platform import aws, deadline
from messenger.platform.settings import get_settings

CONNECT_TIMEOUT_SECONDS = 1
RETRIES = 0
# Connections kept open per model: at least as many as threads of one invocation call at once
# (16 stream appends, each fan-out thread also posting). pynamodb's default, 10, made every call
# beyond the tenth open a TCP connection and close it after (urllib3 discards what does not fit
# the pool). Idle ones cost nothing: the pool only grows to what is used.
POOL_CONNECTIONS = 32

# pynamodb starts a botocore session per connection and thread (its module's `get_session`, no
# setting for it): every model here uses the process's one instead (decision 59).
pynamodb.connection.base.get_session = aws.session  # type: ignore[attr-defined]


def call_seconds() -> float:
    """The longest one call can take; none starts unless that much time is left."""
    return (CONNECT_TIMEOUT_SECONDS + get_settings().dynamodb_read_timeout_seconds) * (1 + RETRIES)


def require_call() -> None:
    """Before each DynamoDB call: refuse it (DeadlineExceeded, a 503) if it could outlive the
    invocation."""
    deadline.require(call_seconds())


def configure_model(meta: Any, table_name: str) -> None:
    """Point a pynamodb model's Meta at its table (and the local endpoint) with the policy."""
    settings = get_settings()
    meta.table_name = table_name
    meta.region = settings.aws_region
    meta.host = settings.dynamodb_endpoint or None
    meta.connect_timeout_seconds = CONNECT_TIMEOUT_SECONDS
    meta.read_timeout_seconds = settings.dynamodb_read_timeout_seconds
    meta.max_retry_attempts = RETRIES
    meta.max_pool_connections = POOL_CONNECTIONS


# DynamoDB error codes that mean "not now" rather than "not this request".
RETRYABLE_CODES = frozenset(
    {
        "InternalServerError",
        "ServiceUnavailable",
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TransactionInProgressException",
    }
)


def error_code(exc: PynamoDBException) -> str | None:
    """DynamoDB's error code (`ConditionalCheckFailedException`, ...), None when no answer came.
    pynamodb's own `cause_response_code` raises AttributeError on a timeout (botocore's error
    then has `response = None`): a refused write must not be told from a hung one that way."""
    response = getattr(exc.cause, "response", None)
    if not isinstance(response, dict):
        return None
    code = (response.get("Error") or {}).get("Code")
    return str(code) if code is not None else None


def is_condition_failure(exc: PynamoDBException) -> bool:
    return error_code(exc) == "ConditionalCheckFailedException"


def dynamodb_unavailable(exc: BaseException) -> bool:
    """DynamoDB could not be reached or could not serve (not: the request was refused)."""
    if isinstance(exc, BotoCoreError):  # endpoint unreachable, connect/read timeout
        return True
    if not isinstance(exc, PynamoDBException) or isinstance(exc, DoesNotExist):
        return False
    if isinstance(exc.cause, BotoCoreError):
        return True
    return error_code(exc) in RETRYABLE_CODES


register_unavailable_check(dynamodb_unavailable)
