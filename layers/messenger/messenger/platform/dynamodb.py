"""How every DynamoDB call is bounded and when its failure means "unavailable" (503).

One policy for every context's pynamodb models (the realtime connections and stream, the push
devices): 1 s to connect, 1 s to read, no botocore retry (it would double the worst case; the
caller retries: a 503, a redelivered record), and no call started with less than its worst case
left (messenger.platform.deadline).
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError
from pynamodb.exceptions import DoesNotExist, PynamoDBException

from messenger.kernel.errors import register_unavailable_check

CONNECT_TIMEOUT_SECONDS = 1
READ_TIMEOUT_SECONDS = 1
RETRIES = 0
# The longest one call can take; none starts unless that much time is left (platform.deadline).
CALL_SECONDS = (CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS) * (1 + RETRIES)

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


def dynamodb_unavailable(exc: BaseException) -> bool:
    """DynamoDB could not be reached or could not serve (not: the request was refused)."""
    if isinstance(exc, BotoCoreError):  # endpoint unreachable, connect/read timeout
        return True
    if not isinstance(exc, PynamoDBException) or isinstance(exc, DoesNotExist):
        return False
    if isinstance(exc.cause, BotoCoreError):
        return True
    return exc.cause_response_code in RETRYABLE_CODES


register_unavailable_check(dynamodb_unavailable)
