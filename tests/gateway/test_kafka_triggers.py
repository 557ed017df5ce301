"""MSK event source mapping against a real broker (tansu): event shape, commits, retries, DLQ."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaProducer, TopicPartition

from messenger_local.gateway import LocalGateway
from messenger_local.kafka_triggers import ensure_topics

from .conftest import FIXTURE_TEMPLATE, read_jsonl, reference, wait_for

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:8]
TOPIC = f"gw-events-{RUN}"
GROUP = f"gw-consumer-{RUN}"


@pytest.fixture(scope="module")
def kafka_gateway(kafka_bootstrap: str, out_dir: Path) -> Iterator[LocalGateway]:
    gateway = LocalGateway(
        FIXTURE_TEMPLATE,
        parameters={"EventsTopic": TOPIC, "ConsumerGroup": GROUP},
        env={"OUT_DIR": str(out_dir), "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap},
        port=0,
        state_dir=out_dir,
        enable_schedules=False,
    )
    with gateway:
        assert gateway.kafka is not None
        assert gateway.kafka.wait_assigned(20), "the consumer group never got its partitions"
        yield gateway


@pytest.fixture(scope="module")
def producer(kafka_bootstrap: str) -> Iterator[KafkaProducer]:
    p = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    yield p
    p.close()


def send(producer: KafkaProducer, value: str, partition: int = 0, **kw: Any) -> int:
    return int(producer.send(TOPIC, value.encode(), partition=partition, **kw).get(10).offset)


def delivered(out_dir: Path) -> list[tuple[int, int, str]]:
    """(partition, offset, value) of every record every invocation received, in order."""
    seen = []
    for event in read_jsonl(out_dir / "consumer.jsonl"):
        for records in event["records"].values():
            for r in records:
                seen.append((r["partition"], r["offset"], base64.b64decode(r["value"]).decode()))
    return seen


def times_seen(out_dir: Path, value: str) -> int:
    return sum(1 for _, _, v in delivered(out_dir) if v == value)


def committed(bootstrap: str, partition: int) -> int | None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        tp = TopicPartition(TOPIC, partition)
        offsets = admin.list_group_offsets({GROUP: [tp]})[GROUP]
    finally:
        admin.close()
    meta = offsets.get(tp)
    return None if meta is None or meta.offset < 0 else int(meta.offset)


def test_event_has_the_shape_of_the_powertools_reference(
    kafka_gateway: LocalGateway, producer: KafkaProducer, out_dir: Path
) -> None:
    keyed = f"ok-keyed-{RUN}"
    send(producer, keyed, key=b"recordKey", headers=[("headerKey", b"headerValue")])
    send(producer, f"ok-unkeyed-{RUN}", headers=[("headerKey", b"headerValue")])
    wait_for(lambda: times_seen(out_dir, f"ok-unkeyed-{RUN}"), what="both records delivered")

    ref = reference("powertools_kafkaEventMsk.json")
    events = read_jsonl(out_dir / "consumer.jsonl")
    assert all(set(e) == set(ref) for e in events)
    event = next(e for e in events if f"{TOPIC}-0" in e["records"])
    assert event["eventSource"] == "aws:kafka"
    assert event["eventSourceArn"] == kafka_gateway.template.msk_mappings[0].stream
    assert event["bootstrapServers"] == kafka_gateway.env["KAFKA_BOOTSTRAP_SERVERS"]
    records = [r for e in events for r in e["records"].get(f"{TOPIC}-0", [])]
    ref_with_key, ref_without_key = ref["records"]["mytopic-0"][:2]
    schema_keys = {"valueSchemaMetadata", "keySchemaMetadata"}  # schema registry only
    with_key = next(r for r in records if base64.b64decode(r["value"]).decode() == keyed)
    without_key = next(r for r in records if r is not with_key)
    assert set(with_key) == set(ref_with_key) - schema_keys
    assert set(without_key) == set(ref_without_key) - schema_keys
    for ours, theirs in ((with_key, ref_with_key), (without_key, ref_without_key)):
        assert {k: type(v) for k, v in ours.items()} == {
            k: type(v) for k, v in theirs.items() if k not in schema_keys
        }
    assert with_key["key"] == base64.b64encode(b"recordKey").decode()
    assert with_key["headers"] == [{"headerKey": list(b"headerValue")}]
    assert with_key["timestampType"] == "CREATE_TIME"
    assert with_key["topic"] == TOPIC
    assert with_key["partition"] == 0


def test_offsets_are_committed_only_after_success(
    kafka_gateway: LocalGateway, producer: KafkaProducer, out_dir: Path, kafka_bootstrap: str
) -> None:
    value = f"hold-{RUN}"
    offset = send(producer, value, partition=1)
    wait_for(lambda: times_seen(out_dir, value), what="the held record delivered")
    before = committed(kafka_bootstrap, 1)
    assert before is None or before <= offset  # the function is still running
    (out_dir / f"release-{value}").touch()
    wait_for(lambda: committed(kafka_bootstrap, 1) == offset + 1, what="the commit after success")


def test_batch_item_failures_are_redelivered_from_the_lowest_failed_offset(
    kafka_gateway: LocalGateway, producer: KafkaProducer, out_dir: Path, kafka_bootstrap: str
) -> None:
    ok1, bad, ok2 = f"ok-a-{RUN}", f"fail-once-{RUN}", f"ok-b-{RUN}"
    producer.send(TOPIC, ok1.encode(), partition=2)
    producer.send(TOPIC, bad.encode(), partition=2)
    last = send(producer, ok2, partition=2)
    wait_for(lambda: times_seen(out_dir, bad) == 2, what="the failed record redelivered")
    wait_for(lambda: committed(kafka_bootstrap, 2) == last + 1, what="the final commit")
    assert times_seen(out_dir, ok1) == 1  # below the failure: checkpointed, never redelivered
    assert times_seen(out_dir, ok2) == 2  # above it: redelivered with the failed one


def test_function_error_retries_the_whole_batch(
    kafka_gateway: LocalGateway, producer: KafkaProducer, out_dir: Path, kafka_bootstrap: str
) -> None:
    crash = f"crash-once-{RUN}"
    offset = send(producer, crash, partition=0)
    wait_for(lambda: times_seen(out_dir, crash) == 2, what="the batch retried after the error")
    wait_for(lambda: committed(kafka_bootstrap, 0) == offset + 1, what="the commit")


def test_records_that_keep_failing_are_dead_lettered_and_skipped(
    kafka_gateway: LocalGateway, producer: KafkaProducer, out_dir: Path, kafka_bootstrap: str
) -> None:
    poison, after = f"fail-always-{RUN}", f"ok-after-{RUN}"
    offset = send(producer, poison, partition=1)
    send(producer, after, partition=1)
    dead_letters = kafka_gateway.dead_letter_dir / "Consumer.jsonl"
    entries = wait_for(lambda: read_jsonl(dead_letters), what="the dead letter")
    (entry,) = entries
    assert entry["attempts"] == 3  # default when the template sets no MaximumRetryAttempts
    assert entry["record"]["offset"] == offset
    assert base64.b64decode(entry["record"]["value"]).decode() == poison
    assert entry["error"]["errorType"] == "BatchItemFailure"
    assert times_seen(out_dir, poison) == 3
    wait_for(lambda: committed(kafka_bootstrap, 1) == offset + 2, what="moving past the poison")
    assert times_seen(out_dir, after) >= 1


def test_an_idle_poller_fetches_right_after_any_invocation(
    kafka_bootstrap: str, producer: KafkaProducer, tmp_path: Path
) -> None:
    """Idle pollers do not fetch back to back; an invocation (a function may have produced)
    wakes them, so delivery does not wait for the idle poll (a minute here)."""
    run = uuid.uuid4().hex[:8]
    topic, group = f"gw-idle-{run}", f"gw-idle-consumer-{run}"
    gateway = LocalGateway(
        FIXTURE_TEMPLATE,
        parameters={"EventsTopic": topic, "ConsumerGroup": group},
        env={"OUT_DIR": str(tmp_path), "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap},
        port=0,
        state_dir=tmp_path,
        enable_schedules=False,
        kafka_options={"idle_poll_seconds": 60.0},
    )
    with gateway:
        assert gateway.kafka is not None
        assert gateway.kafka.wait_assigned(20), "the consumer group never got its partitions"
        trigger = gateway.kafka.get("Consumer")
        wait_for(lambda: trigger.idle, what="the poller going idle")
        value = f"ok-woken-{run}"
        producer.send(topic, value.encode(), partition=0).get(10)
        assert gateway.invoke("Echo", {}).ok  # any invocation, as if it had produced the record
        wait_for(lambda: times_seen(tmp_path, value), timeout=15, what="delivery after the wake-up")


def test_paused_mappings_fetch_nothing_and_their_lag_shows_it_until_resumed(
    kafka_gateway: LocalGateway, producer: KafkaProducer, out_dir: Path
) -> None:
    """What the bench relies on to measure a function alone: while paused, a record waits (and
    counts in the lag, even after a wake-up); after, it is delivered once and the lag is zero."""
    kafka = kafka_gateway.kafka
    assert kafka is not None
    name = kafka.get("Consumer").name
    wait_for(lambda: kafka.lag()[name] == 0, what="no backlog before")
    value = f"ok-paused-{RUN}"
    with kafka.paused():
        batches = kafka.get("Consumer").batches
        send(producer, value, partition=2)
        assert kafka_gateway.invoke("Echo", {}).ok  # wakes the poller: still nothing fetched
        wait_for(lambda: kafka.lag()[name] == 1, what="the record in the lag")
        assert kafka.get("Consumer").batches == batches
        assert times_seen(out_dir, value) == 0
    wait_for(lambda: times_seen(out_dir, value), what="delivery after resume")
    wait_for(lambda: kafka.lag()[name] == 0, what="the lag back to zero")
    assert times_seen(out_dir, value) == 1


def test_topics_created_by_someone_else_meanwhile_are_no_error(
    kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race stop 20's CI lost: a producer's metadata request created a topic between the
    listing and the CreateTopics request. The others are created; the one that exists is fine."""
    existing, fresh = f"gw-raced-{RUN}", f"gw-fresh-{RUN}"
    ensure_topics(kafka_bootstrap, [existing], 1)
    monkeypatch.setattr(KafkaAdminClient, "list_topics", lambda self: [])  # listed before
    ensure_topics(kafka_bootstrap, [existing, fresh], 1)
    monkeypatch.undo()
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        assert {existing, fresh} <= set(admin.list_topics())
    finally:
        admin.close()
