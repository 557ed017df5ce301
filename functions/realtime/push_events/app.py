"""MSK consumer of chat and friendship events: pushes them to the recipients' live connections.

message.sent, .edited, .deleted, .reaction_added and .reaction_removed to every participant,
chat.read and chat.delivered to the other participants, friendship.requested and .accepted to
the other user (API.md, Realtime). Gone connections are forgotten; a record whose
pushes partly failed is reported and retried, reaching only the connections not yet served.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.kernel.clock import utcnow
from messenger.platform.events import EventEnvelope
from messenger.platform.observability import logger
from messenger.realtime.wiring import push_service
from messenger.web.consumers import process_kafka_batch

realtime = push_service()


def push(event: EventEnvelope) -> None:
    delivered = realtime.push_event(event, utcnow())
    logger.debug("Pushed", extra={"connections": delivered})


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_kafka_batch(event, context, push)
