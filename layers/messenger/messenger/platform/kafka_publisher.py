"""Publishing to Kafka (MSK in AWS) with kafka-python: one producer per execution environment.

Every publish waits for the broker's acknowledgement (acks=all) within a bounded time (the
publish timeout, never past the invocation's deadline), so a caller knows whether its records are
durable before it marks them published.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from messenger.platform import deadline
from messenger.platform.events import CORRELATION_HEADER
from messenger.platform.settings import get_settings

if TYPE_CHECKING:
    from collections.abc import Sequence

    from messenger.platform.publishing import OutboxRecord


class PublishFailed(RuntimeError):
    """The broker did not acknowledge every record; none may be assumed published."""


_producer: KafkaProducer | None = None
# After a failure, requests stop trying Kafka for a while instead of each waiting out the timeout
# during an outage: the outbox relay publishes meanwhile.
BACKOFF_SECONDS = 10.0
_failed_at: float | None = None


def _producer_config() -> dict[str, Any]:
    settings = get_settings()
    timeout_ms = int(settings.kafka_publish_timeout_seconds * 1000)
    config: dict[str, Any] = {
        "bootstrap_servers": settings.require("kafka_bootstrap_servers").split(","),
        "acks": "all",
        "linger_ms": 0,
        "retries": 2,
        "max_block_ms": timeout_ms,
        "request_timeout_ms": max(timeout_ms, 1000),
        "bootstrap_timeout_ms": timeout_ms,
        "security_protocol": settings.kafka_security_protocol,
    }
    if settings.kafka_sasl_mechanism == "OAUTHBEARER":
        from messenger.platform.msk_iam import MskIamTokenProvider

        config["sasl_mechanism"] = "OAUTHBEARER"
        config["sasl_oauth_token_provider"] = MskIamTokenProvider(settings.aws_region)
    return config


def _get_producer() -> KafkaProducer:
    global _producer
    if _producer is None:
        _producer = KafkaProducer(**_producer_config())
    return _producer


def reset() -> None:
    """Drop the producer (after a broker failure) so the next publish reconnects cleanly."""
    global _producer
    if _producer is not None:
        with contextlib.suppress(Exception):  # closing a producer that failed may fail too
            _producer.close(timeout=0)
    _producer = None


class KafkaPublisher:
    """The outbox's EventPublisher, backed by Kafka."""

    def __init__(self, backoff: bool = True) -> None:
        self.backoff = backoff

    def publish(self, records: Sequence[OutboxRecord]) -> None:
        global _failed_at
        if self.backoff and _failed_at and time.monotonic() - _failed_at < BACKOFF_SECONDS:
            raise PublishFailed("Kafka failed moments ago; leaving the events to the relay")
        try:
            # Never past the invocation's deadline: an unpublished event stays for the relay.
            timeout = deadline.seconds_left(get_settings().kafka_publish_timeout_seconds)
        except deadline.DeadlineExceeded as exc:
            raise PublishFailed("no time left to publish; leaving the events to the relay") from exc
        try:
            producer = _get_producer()
            futures = [
                producer.send(
                    record.topic,
                    key=record.key.encode(),
                    value=record.payload,
                    headers=[(CORRELATION_HEADER, record.correlation_id.encode())]
                    if record.correlation_id
                    else None,
                )
                for record in records
            ]
            producer.flush(timeout=timeout)
            for future in futures:
                future.get(timeout=timeout)
        except (KafkaError, OSError) as exc:
            _failed_at = time.monotonic()
            reset()
            raise PublishFailed(str(exc)) from exc
        _failed_at = None
