"""Scheduled: publish every outbox event the request path could not (Kafka down, timeout)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger import outbox
from messenger.kafka_publisher import KafkaPublisher
from messenger.observability import logger

# The relay always tries the broker (no backoff): it is what recovers from an outage.
publisher = KafkaPublisher(backoff=False)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = asdict(outbox.relay(publisher))
    logger.info("Outbox relayed", extra=report)
    return report
