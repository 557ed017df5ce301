"""MSK consumer of chat and friendship events: pushes them to the recipients' live connections.

message.sent to every participant, chat.read to the other participants, friendship.requested and
.accepted to the other user (API.md, Realtime). Gone connections are forgotten; a record whose
pushes partly failed is reported and retried, reaching only the connections not yet served.
"""

from __future__ import annotations

# First, before pydantic: Powertools' batch types load its parser models (~20 modules,
# 100+ ms) when pydantic is already imported (tests/unit/test_cold_start_imports.py).
from messenger.web.consumers import kafka_entrypoint

# isort: split
# The schemas every push parses its event into (the publishers'), loaded at init.
import messenger.chats.events
import messenger.friends.events  # noqa: F401
from messenger.bootstrap import push_service
from messenger.kernel.clock import utcnow
from messenger.kernel.events import EventEnvelope
from messenger.platform.observability import logger

realtime = push_service()


def push(event: EventEnvelope) -> None:
    delivered = realtime.push_event(event, utcnow())
    logger.debug("Pushed", extra={"connections": delivered})


lambda_handler = kafka_entrypoint(push)
