"""Kafka (MSK) consumer plumbing: envelope decoding, typed events and partial batch failures.

A record that fails is reported by topic-partition and offset (Powertools' Kafka batch
processor); the event source mapping retries it and, when retries run out, sends it to the
function's on-failure destination with the error. Nothing is dropped silently. A poison record
(not an envelope, or data that breaks its type's schema: messenger.kernel.events.MalformedEvent)
takes the same path, and its validation error is logged with the record's event id and type.
An event of a type the consumer does not handle is skipped (its handler's `parse` answers None).

A batch runs under the invocation's deadline (messenger.platform.deadline), as an HTTP request
does: no call to a backing service starts that could outlive it, and no record starts with less
than RECORD_START_SECONDS left. The records not reached are reported failed, so the mapping
redelivers from the first of them: a batch that cannot finish in one invocation (a burst into a
large group) makes progress each time instead of timing out whole and being retried from its
start until it is dead-lettered.

A consumer's file is its handler and one line:

    lambda_handler = kafka_entrypoint(handle)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from pydantic import ValidationError

from messenger.kernel.events import EventEnvelope, MalformedEvent
from messenger.platform import deadline
from messenger.platform.collector import end_init
from messenger.platform.events import CORRELATION_HEADER
from messenger.platform.observability import logger

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEventRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext


RECORD_START_SECONDS = 5.0
"""No record starts with less than this left of the invocation (the slowest records, a fan-out
to a large group, take seconds): it is redelivered rather than cut short."""


class NoTimeLeft(Exception):
    """The invocation's time ran out before this record was reached: redelivered, untouched."""


class MalformedRecord(ValueError):
    """The record's value is not an event envelope (not JSON, or not API.md's shape)."""


def envelope_of(record: KafkaEventRecord) -> EventEnvelope:
    try:
        return EventEnvelope.model_validate_json(record.decoded_value)
    except ValidationError as exc:
        raise MalformedRecord(
            "not an event envelope: "
            + "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}"
                for e in exc.errors(include_url=False, include_input=False)
            )
        ) from exc


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
        if not deadline.has_time(RECORD_START_SECONDS):
            raise NoTimeLeft(f"not reached before the invocation's deadline: {record.offset}")
        logger.set_correlation_id(correlation_id_of(record))
        logger.remove_keys(["event_id", "event_type"])  # the previous record's
        try:
            envelope = envelope_of(record)
            logger.append_keys(event_id=str(envelope.id), event_type=envelope.type)
            handle(envelope)
        except (MalformedRecord, MalformedEvent) as exc:
            # Retrying cannot fix it: it ends in the on-failure destination, and this says why.
            logger.error(
                "Malformed event: reported, retried, then dead-lettered",
                extra={
                    "error": str(exc),
                    "errors": getattr(exc, "errors", None),
                    "topic": record.topic,
                    "partition": record.partition,
                    "offset": record.offset,
                },
            )
            raise

    processor = BatchProcessor(event_type=EventType.Kafka)
    with deadline.invocation(context):
        answer = dict(
            process_partial_response(
                event=event, record_handler=handle_record, processor=processor, context=context
            )
        )
    _log_failures(processor)
    return answer


def _log_failures(processor: BatchProcessor) -> None:
    """Powertools logs failed records only when the whole batch failed; a partial failure
    (retried, then dead-lettered) should say why as well. Records not reached: one line."""
    not_reached = 0
    for _, error, _ in processor.exceptions:
        if isinstance(error, NoTimeLeft):
            not_reached += 1
        elif error is not None:
            logger.warning("Record failed: reported for redelivery", exc_info=error)
    if not_reached:
        logger.warning(
            "Records not reached before the deadline: reported for redelivery",
            extra={"records": not_reached},
        )


def kafka_entrypoint(
    handle: Callable[[EventEnvelope], None],
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """A consumer function's `lambda_handler`: each record's correlation id in the logs (no
    state carried over from the previous batch), the batch processed by `handle`. The function's
    module ends here, and with it the init (`messenger.platform.collector.end_init`)."""

    @logger.inject_lambda_context(clear_state=True)
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return process_kafka_batch(event, context, handle)

    end_init()
    return lambda_handler
