"""MSK consumer of chat events: a message deleted for everyone loses its files.

A message's files are the objects under `attachments/<chat_id>/<message_id>/`, so the event
alone says what to delete; deleting them again on a redelivery is harmless (no dedupe needed).
Every other event type is skipped (in AWS the event source mapping's filter passes only
`message.deleted`).
"""

from __future__ import annotations

import uuid
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.media.wiring import media_service
from messenger.platform.events import EventEnvelope
from messenger.platform.observability import logger
from messenger.web.consumers import process_kafka_batch

media = media_service()


def remove_files(event: EventEnvelope) -> None:
    if event.type != "message.deleted":
        return
    chat_id = uuid.UUID(str(event.data["chat_id"]))
    message_id = uuid.UUID(str(event.data["message_id"]))
    removed = media.remove_message_attachments(chat_id, message_id)
    if removed:
        logger.info("Removed a deleted message's files", extra={"files": removed})


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_kafka_batch(event, context, remove_files)
