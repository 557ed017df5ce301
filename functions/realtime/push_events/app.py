"""MSK consumer of chat and friendship events: pushes them to the recipients' live connections.

message.sent to every participant, chat.read to the other participants, friendship.requested and
.accepted to the other user (API.md, Realtime). Gone connections are forgotten; a record whose
pushes partly failed is reported and retried, reaching only the connections not yet served.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

# First, before pydantic: Powertools' batch types load its parser models (~20 modules,
# 100+ ms) when pydantic is already imported (tests/unit/test_cold_start_imports.py).
from messenger.web.consumers import process_kafka_batch

# isort: split
from messenger.bootstrap import push_service
from messenger.kernel.clock import utcnow
from messenger.platform.events import EventEnvelope
from messenger.platform.observability import logger

realtime = push_service()


def push(event: EventEnvelope) -> None:
    delivered = realtime.push_event(event, utcnow())
    logger.debug("Pushed", extra={"connections": delivered})


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_kafka_batch(event, context, push)
