"""WebSocket `$connect`: the token (`?token=` or a bearer header) decides; the connection is kept.

A non-2xx answer makes API Gateway refuse the connection, so a bad token never connects. The
user's first connection announces them online to their online friends.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.bearer import bearer_token
from messenger.clock import utcnow
from messenger.observability import logger
from messenger.realtime.wiring import connection_service

realtime = connection_service()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    token = (event.get("queryStringParameters") or {}).get("token") or bearer_token(
        event.get("headers") or {}
    )
    connection_id = event["requestContext"]["connectionId"]
    user = realtime.connect(connection_id, token, utcnow())
    if user is None:
        return {"statusCode": 401, "body": "Unauthorized"}
    logger.info("Connected", extra={"connection_id": connection_id, "user_id": str(user)})
    return {"statusCode": 200}
