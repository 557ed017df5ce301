"""WebSocket `$connect`: the token (`?token=` or a bearer header) decides; the connection is kept.

A non-2xx answer makes API Gateway refuse the connection, so a bad token never connects. The
user's first connection announces them online to their online friends. A backing service that
cannot be reached (sessions, DynamoDB) refuses with 503 and Retry-After (retry the handshake),
never with an error (which API Gateway would turn into a 500).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.bootstrap import connection_service
from messenger.kernel.clock import utcnow
from messenger.kernel.errors import is_unavailable
from messenger.platform import deadline
from messenger.platform.collector import end_init
from messenger.platform.observability import logger
from messenger.web.bearer import bearer_token

realtime = connection_service()

UNAVAILABLE = {
    "statusCode": 503,
    "headers": {"Retry-After": "1"},
    "body": "Service Unavailable: retry shortly",
}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    token = (event.get("queryStringParameters") or {}).get("token") or bearer_token(
        event.get("headers") or {}
    )
    connection_id = event["requestContext"]["connectionId"]
    try:
        with deadline.invocation(context):
            user = realtime.connect(connection_id, token, utcnow())
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        logger.warning("Connection refused: a backing service is unavailable", exc_info=exc)
        return UNAVAILABLE
    if user is None:
        return {"statusCode": 401, "body": "Unauthorized"}
    logger.info("Connected", extra={"connection_id": connection_id, "user_id": str(user)})
    return {"statusCode": 200}


end_init()  # the module is the init: what it built is frozen, the collector back on
