"""MSK consumer of chat events: a `message.sent` notifies the recipients' phones (SNS mobile
push), except the author, who muted the chat, who blocked the author. A redelivered record sends
nothing twice per device; a record whose publishes partly failed is retried (then dead-lettered
like every consumer). Every other event type is skipped (in AWS the event source mapping's filter
passes only `message.sent`).
"""

from __future__ import annotations

# First, before pydantic: Powertools' batch types load its parser models (~20 modules,
# 100+ ms) when pydantic is already imported (tests/unit/test_cold_start_imports.py).
from messenger.web.consumers import kafka_entrypoint

# isort: split
from messenger.bootstrap import notifier_service
from messenger.chats.events import MessageSent
from messenger.kernel.clock import utcnow
from messenger.kernel.events import EventEnvelope
from messenger.platform.observability import logger

notifier = notifier_service()


def notify(event: EventEnvelope) -> None:
    message = event.parse(MessageSent)
    if message is None:
        return
    sent = notifier.notify(message, utcnow())
    logger.debug("Notified", extra={"devices": sent})


lambda_handler = kafka_entrypoint(notify)
