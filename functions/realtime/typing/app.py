"""WebSocket route `typing` ({"action": "typing", "chat_id"}): tell the other participants."""

from __future__ import annotations

import base64
import uuid
from typing import Any, Literal

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from messenger.bootstrap import typing_service
from messenger.kernel.clock import utcnow
from messenger.kernel.errors import is_unavailable
from messenger.platform import deadline
from messenger.platform.collector import end_init
from messenger.platform.observability import logger

realtime = typing_service()


class TypingMessage(BaseModel):
    action: Literal["typing"]
    chat_id: uuid.UUID


def parse(event: dict[str, Any]) -> TypingMessage | None:
    """The frame as a TypingMessage, or None when it is not one (binary frames arrive base64)."""
    body = event.get("body") or ""
    try:
        raw = base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else body
        return TypingMessage.model_validate_json(raw)
    except (TypeError, ValueError):  # ValidationError and binascii.Error are ValueErrors
        return None


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    message = parse(event)
    if message is None:
        return {"statusCode": 400, "body": 'Send {"action": "typing", "chat_id": "<uuid>"}'}
    try:
        with deadline.invocation(context):
            allowed = realtime.typing(
                event["requestContext"]["connectionId"], message.chat_id, utcnow()
            )
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        logger.warning("typing not delivered: a backing service is unavailable", exc_info=exc)
        return {"statusCode": 503, "body": "Service unavailable; retry shortly"}
    if not allowed:
        return {"statusCode": 403, "body": "Not a participant of this chat"}
    return {"statusCode": 200}


end_init()  # the module is the init: what it built is frozen, the collector back on
