"""Kafka (MSK) consumer plumbing: envelope decoding and partial batch failures.

A record that fails is reported by topic-partition and offset (Powertools' Kafka batch
processor); the event source mapping retries it and, when retries run out, sends it to the
function's on-failure destination with the error. Nothing is dropped silently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)

from messenger.platform.events import CORRELATION_HEADER, EventEnvelope
from messenger.platform.observability import logger

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEventRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext


def envelope_of(record: KafkaEventRecord) -> EventEnvelope:
    return EventEnvelope.model_validate_json(record.decoded_value)


def correlation_id_of(record: KafkaEventRecord) -> str | None:
    for name, value in record.decoded_headers.items():
        if name == CORRELATION_HEADER:
            return value.decode() if isinstance(value, bytes) else str(value)
    return None


def process_kafka_batch(
    event: dict[str, Any],
    context: LambdaContext,
    handle: Callable[[EventEnvelope], None],
) -> dict[str, Any]:
    """Decode each record's envelope and pass it to `handle`; report the ones that failed."""

    def handle_record(record: KafkaEventRecord) -> None:
        logger.set_correlation_id(correlation_id_of(record))
        envelope = envelope_of(record)
        logger.append_keys(event_id=str(envelope.id), event_type=envelope.type)
        handle(envelope)

    processor = BatchProcessor(event_type=EventType.Kafka)
    return dict(
        process_partial_response(
            event=event, record_handler=handle_record, processor=processor, context=context
        )
    )
