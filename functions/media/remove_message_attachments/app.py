"""MSK consumer of chat events: a message deleted for everyone loses its files.

A message's files are the objects under `attachments/<chat_id>/<message_id>/`, so the event
alone says what to delete; deleting them again on a redelivery is harmless (no dedupe needed).
Every other event type is skipped (in AWS the event source mapping's filter passes only
`message.deleted`).
"""

from __future__ import annotations

# First, before pydantic: Powertools' batch types load its parser models (~20 modules,
# 100+ ms) when pydantic is already imported (tests/unit/test_cold_start_imports.py).
from messenger.web.consumers import kafka_entrypoint

# isort: split
from messenger.bootstrap import media_service
from messenger.kernel.events import EventEnvelope
from messenger.media.models import DeletedMessage
from messenger.platform.observability import logger

media = media_service()


def remove_files(event: EventEnvelope) -> None:
    deleted = event.parse(DeletedMessage)
    if deleted is None:
        return
    removed = media.remove_message_attachments(deleted.chat_id, deleted.message_id)
    if removed:
        logger.info("Removed a deleted message's files", extra={"files": removed})


lambda_handler = kafka_entrypoint(remove_files)
