"""MSK event source mappings: a consumer group per mapping, `aws:kafka` batches, at-least-once.

Like Lambda's poller: offsets are committed only after the function succeeded; a function error
retries the whole batch; with ReportBatchItemFailures the batch is checkpointed at the lowest
failed offset per partition and redelivered from there. After the last attempt the still-failing
records go to the on-failure destination - locally a JSONL file per function - and are skipped.

Quiet when idle: Lambda polls continuously, but a poller here fetching every 50 ms costs a few
percent of a core in this process and in the broker, times five mappings. tansu's long-poll does
not answer when data arrives (it re-reads its storage at halving intervals: a fetch with a 2 s
wait delivers after ~0.75 s), so long fetch waits would cost latency. Instead a poller goes idle
after IDLE_AFTER_SECONDS without records and then fetches only when woken: after any local
invocation (every producer here is a function, and its publish is acknowledged before it
returns), or every `idle_poll_seconds` for records produced from outside (tests, a console
producer). Awake, it fetches back to back with a short wait, as before.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka import errors as kafka_errors
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import CommitFailedError, TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata

from messenger_local.runtime import InvokeResult, LambdaRuntime
from messenger_local.template import MskMapping

log = logging.getLogger("messenger_local.kafka")

DEFAULT_ATTEMPTS = 3
DEFAULT_PARTITIONS = 3
MAX_BACKOFF_SECONDS = 2.0
POLL_TIMEOUT_MS = 200
FETCH_MAX_WAIT_MS = 50  # tansu answers after this wait when it has nothing (or at once with data)
IDLE_AFTER_SECONDS = 1.0  # awake this long after the last wake-up or record, then idle
IDLE_POLL_SECONDS = 5.0  # idle: one fetch this often (records produced outside the runtime;
# at 2 s, the idle checks of the mappings alone were 6% of a core: decision 34)
IDLE_POLL_TIMEOUT_MS = 2 * FETCH_MAX_WAIT_MS  # an idle check: about one fetch round trip


def ensure_topics(bootstrap_servers: str, topics: list[str], partitions: int) -> None:
    """Create missing topics (MSK topics exist before the mapping does; locally we make them)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="messenger-local")
    try:
        missing = [t for t in dict.fromkeys(topics) if t not in set(admin.list_topics())]
        if not missing:
            return
        # Another client (a producer's metadata request, a second runtime) may create one
        # between the listing and this request: "already exists" is what we wanted.
        response = admin.create_topics(
            [NewTopic(t, partitions, 1) for t in missing], raise_errors=False
        )
        for topic in response["topics"]:
            error = kafka_errors.for_code(topic["error_code"])
            if error not in (kafka_errors.NoError, TopicAlreadyExistsError):
                raise error(f"creating topic {topic['name']}: {topic.get('error_message')}")
    finally:
        admin.close()


def record_to_event(record: ConsumerRecord) -> dict[str, Any]:
    """One record as Lambda shapes it: base64 key/value, headers as lists of byte values."""
    item: dict[str, Any] = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": record.timestamp,
        "timestampType": "LOG_APPEND_TIME" if record.timestamp_type == 1 else "CREATE_TIME",
    }
    if record.key is not None:
        item["key"] = base64.b64encode(record.key).decode()
    item["value"] = base64.b64encode(record.value or b"").decode()
    item["headers"] = [{name: list(value or b"")} for name, value in record.headers or []]
    return item


def build_event(
    mapping: MskMapping, bootstrap_servers: str, batch: dict[TopicPartition, list[ConsumerRecord]]
) -> dict[str, Any]:
    return {
        "eventSource": "aws:kafka",
        "eventSourceArn": mapping.stream,
        "bootstrapServers": bootstrap_servers,
        "records": {
            f"{tp.topic}-{tp.partition}": [record_to_event(r) for r in records]
            for tp, records in batch.items()
        },
    }


def failed_offsets(
    payload: Any, batch: dict[TopicPartition, list[ConsumerRecord]]
) -> dict[TopicPartition, set[int]] | None:
    """batchItemFailures per partition; None when malformed (= the whole batch failed)."""
    failures = payload.get("batchItemFailures") if isinstance(payload, dict) else None
    if not failures:
        return {}
    by_name = {f"{tp.topic}-{tp.partition}": tp for tp in batch}
    result: dict[TopicPartition, set[int]] = {}
    for failure in failures:
        ident = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(ident, dict) or ident.get("partition") not in by_name:
            return None
        try:
            offset = int(ident["offset"])
        except (KeyError, TypeError, ValueError):
            return None
        result.setdefault(by_name[ident["partition"]], set()).add(offset)
    return result


class KafkaTrigger:
    """One MSK event source mapping, polled by its own thread."""

    def __init__(
        self,
        mapping: MskMapping,
        runtime: LambdaRuntime,
        bootstrap_servers: str,
        dead_letter_dir: Path,
        attempts: int | None = None,
        partitions: int = DEFAULT_PARTITIONS,
        consumer_options: dict[str, Any] | None = None,
        idle_poll_seconds: float = IDLE_POLL_SECONDS,
    ) -> None:
        self.mapping = mapping
        self.runtime = runtime
        self.bootstrap_servers = bootstrap_servers
        self.dead_letter_path = dead_letter_dir / f"{mapping.function}.jsonl"
        retries = mapping.maximum_retry_attempts
        self.max_attempts = attempts or (retries + 1 if retries is not None else DEFAULT_ATTEMPTS)
        self.partitions = partitions
        self.consumer_options = consumer_options or {}
        self.report_item_failures = "ReportBatchItemFailures" in mapping.function_response_types
        self.idle_poll_seconds = idle_poll_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._awake_until = 0.0
        self._assigned = threading.Event()
        self._thread: threading.Thread | None = None
        self._attempts: dict[tuple[TopicPartition, int], int] = {}
        self._warned_item_failures = False
        self._pending_commit: dict[TopicPartition, OffsetAndMetadata] = {}
        self._pause_wanted = threading.Event()
        self._paused = threading.Event()
        self.batches = 0  # invocations made, for observers and tests

    @property
    def name(self) -> str:
        return f"{self.mapping.function}.{self.mapping.event_name}"

    def start(self) -> None:
        ensure_topics(self.bootstrap_servers, list(self.mapping.topics), self.partitions)
        consumer = KafkaConsumer(
            *self.mapping.topics,
            bootstrap_servers=self.bootstrap_servers,
            group_id=self.mapping.consumer_group_id,
            client_id=f"lambda-{self.mapping.function}",
            enable_auto_commit=False,
            auto_offset_reset="earliest"
            if self.mapping.starting_position == "TRIM_HORIZON"
            else "latest",
            session_timeout_ms=6000,
            heartbeat_interval_ms=2000,  # a third of the session timeout, as Kafka advises
            max_poll_records=self.mapping.batch_size,
            # tansu does not answer a fetch as soon as data arrives (see the module docstring):
            # keep the wait short so an awake poller sees a record within tens of milliseconds.
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
            metadata_max_age_ms=5000,  # notice (re)created topics quickly
            **self.consumer_options,
        )
        self._thread = threading.Thread(
            target=self._run, args=(consumer,), name=self.name, daemon=True
        )
        self._thread.start()

    def wait_assigned(self, timeout: float) -> bool:
        """True once the group gave this consumer its partitions (it then sees new records)."""
        return self._assigned.wait(timeout)

    @property
    def idle(self) -> bool:
        """Fetching only when woken (or every idle_poll_seconds), not back to back."""
        return self._assigned.is_set() and time.monotonic() >= self._awake_until

    def wake(self) -> None:
        """Fetch now: something may have been produced (called after every local invocation)."""
        self._wake.set()

    def pause(self, timeout: float = 30.0) -> bool:
        """Stop fetching (the consumer keeps its partitions and its place); True once the poller
        has finished any batch it was processing. Records produced meanwhile wait for resume()."""
        self._pause_wanted.set()
        self._wake.set()
        return self._paused.wait(timeout)

    def resume(self) -> None:
        self._pause_wanted.clear()
        self._wake.set()

    def signal_stop(self) -> None:
        """Ask the poller to finish (an invocation cut short by shutdown is not an attempt)."""
        self._stop.set()
        self._wake.set()

    def stop(self, timeout: float = 15.0) -> None:
        self.signal_stop()
        if self._thread is not None:
            self._thread.join(timeout)

    # -- the poller --------------------------------------------------------------------------
    def _run(self, consumer: KafkaConsumer) -> None:
        """Poll, invoke, commit; broker errors (an outage) are logged and retried, never fatal."""
        try:
            while not self._stop.is_set():
                try:
                    if self._pending_commit:
                        self._commit(consumer, self._pending_commit)
                    self._apply_pause(consumer)
                    idle = self.idle
                    if idle and self._wake.wait(self.idle_poll_seconds):
                        self._awake_until = time.monotonic() + IDLE_AFTER_SECONDS
                        idle = False
                    # Cleared before fetching: a wake-up during this fetch makes another one.
                    self._wake.clear()
                    batch = self._poll_batch(consumer, IDLE_POLL_TIMEOUT_MS if idle else None)
                    if batch:
                        self._process(consumer, batch)
                        self._awake_until = time.monotonic() + IDLE_AFTER_SECONDS
                except Exception as exc:
                    log.warning("%s: %s; retrying in 1 s", self.name, exc)
                    self._stop.wait(1.0)
        finally:
            consumer.close(autocommit=False)

    def _apply_pause(self, consumer: KafkaConsumer) -> None:
        """Between batches, in the poller's thread (the consumer is not thread-safe): paused
        partitions are not fetched, but polling goes on, so the group keeps this member."""
        if self._pause_wanted.is_set():
            consumer.pause(*consumer.assignment())  # again after a rebalance: idempotent
            self._paused.set()
        elif self._paused.is_set():
            consumer.resume(*consumer.paused())
            self._paused.clear()

    def _commit(
        self, consumer: KafkaConsumer, offsets: dict[TopicPartition, OffsetAndMetadata]
    ) -> None:
        """Commit, or keep the offsets to commit once the broker answers again."""
        self._pending_commit = offsets
        try:
            consumer.commit(offsets)
        except CommitFailedError:
            # The group rebalanced: the new owner starts from the last commit (at-least-once).
            log.warning(
                "%s: commit rejected after a rebalance; records will be redelivered", self.name
            )
        self._pending_commit = {}

    def _poll_batch(
        self, consumer: KafkaConsumer, first_timeout_ms: int | None = None
    ) -> dict[TopicPartition, list[ConsumerRecord]]:
        """Up to BatchSize records, waiting at most MaximumBatchingWindowInSeconds to fill up."""
        batch: dict[TopicPartition, list[ConsumerRecord]] = {}
        count, deadline = 0, None
        timeout_ms = first_timeout_ms or POLL_TIMEOUT_MS
        while not self._stop.is_set():
            room = self.mapping.batch_size - count
            polled = consumer.poll(timeout_ms=timeout_ms, max_records=room)
            timeout_ms = POLL_TIMEOUT_MS
            if consumer.assignment():
                self._assigned.set()
            for tp, records in polled.items():
                batch.setdefault(tp, []).extend(records)
                count += len(records)
            if count and deadline is None:
                deadline = time.monotonic() + self.mapping.batching_window_seconds
            if count >= self.mapping.batch_size or (deadline and time.monotonic() >= deadline):
                break
            if not count:
                break  # nothing yet: go round again (checks the stop flag)
        return batch

    def _process(
        self, consumer: KafkaConsumer, batch: dict[TopicPartition, list[ConsumerRecord]]
    ) -> None:
        result = self.runtime.invoke(
            self.mapping.function, build_event(self.mapping, self.bootstrap_servers, batch)
        )
        self.batches += 1
        if not result.ok and self._stop.is_set():
            return  # interrupted by shutdown: not an attempt, nothing committed
        everything = {tp: {r.offset for r in records} for tp, records in batch.items()}
        failed: dict[TopicPartition, set[int]] | None
        error: dict[str, Any] = {"errorType": "BatchItemFailure", "errorMessage": "reported"}
        if not result.ok:
            failed = everything
            error = {"errorType": result.error_type, "errorMessage": result.error_message}
        else:
            failed = failed_offsets(result.payload, batch)
            if failed != {} and not self.report_item_failures:
                self._warn_item_failures_ignored()
                failed = {}
            if failed is None:
                failed = everything
                error = {
                    "errorType": "InvalidBatchItemFailures",
                    "errorMessage": repr(result.payload),
                }

        commits: dict[TopicPartition, OffsetAndMetadata] = {}
        backoff = 0.0
        for tp, records in batch.items():
            offsets = failed.get(tp)
            if not offsets:
                commits[tp] = OffsetAndMetadata(records[-1].offset + 1, "", -1)
                continue
            lowest = min(offsets)
            key = (tp, lowest)
            attempt = self._attempts.get(key, 0) + 1
            if attempt >= self.max_attempts:
                self._attempts.pop(key, None)
                dead = [r for r in records if r.offset in offsets]
                self._dead_letter(dead, error, attempt, result)
                commits[tp] = OffsetAndMetadata(records[-1].offset + 1, "", -1)
            else:
                self._attempts[key] = attempt
                commits[tp] = OffsetAndMetadata(lowest, "", -1)
                consumer.seek(tp, lowest)
                backoff = max(backoff, min(0.1 * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS))
                log.warning(
                    "%s: %s at %s offset %s, attempt %s/%s: %s",
                    self.name,
                    error["errorType"],
                    f"{tp.topic}-{tp.partition}",
                    lowest,
                    attempt,
                    self.max_attempts,
                    error["errorMessage"],
                )
        self._commit(consumer, commits)
        if backoff:
            self._stop.wait(backoff)

    def _warn_item_failures_ignored(self) -> None:
        if not self._warned_item_failures:
            self._warned_item_failures = True
            log.error(
                "%s returned batchItemFailures but its MSK event has no FunctionResponseTypes: "
                "[ReportBatchItemFailures]; AWS ignores them and commits the batch (so do we)",
                self.mapping.function,
            )

    def _dead_letter(
        self,
        records: list[ConsumerRecord],
        error: dict[str, Any],
        attempts: int,
        result: InvokeResult,
    ) -> None:
        self.dead_letter_path.parent.mkdir(parents=True, exist_ok=True)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with self.dead_letter_path.open("a", encoding="utf-8") as fh:
            for record in records:
                entry = {
                    "time": now,
                    "function": self.mapping.function,
                    "eventSourceArn": self.mapping.stream,
                    "consumerGroupId": self.mapping.consumer_group_id,
                    "attempts": attempts,
                    "error": error,
                    "requestId": result.request_id,
                    "record": record_to_event(record),
                }
                fh.write(json.dumps(entry) + "\n")
        log.error(
            "%s: %d record(s) failed %d times, sent to %s and skipped: %s",
            self.name,
            len(records),
            attempts,
            self.dead_letter_path,
            error["errorMessage"],
        )


def _next_to_read(found: OffsetAndMetadata | None, end: int, starts_at_latest: bool) -> int:
    """The group's next offset on a partition; with no commit yet, where the mapping starts:
    the end (what came before is never read) or the oldest record."""
    if found is not None and found.offset >= 0:
        return int(found.offset)
    return end if starts_at_latest else 0


class KafkaTriggers:
    """Every MSK mapping of the template."""

    def __init__(
        self,
        mappings: list[MskMapping],
        runtime: LambdaRuntime,
        bootstrap_servers: str,
        dead_letter_dir: Path,
        **options: Any,
    ) -> None:
        self.runtime = runtime
        self.triggers = [
            KafkaTrigger(m, runtime, bootstrap_servers, dead_letter_dir, **options)
            for m in mappings
            if m.enabled
        ]

    def start(self) -> None:
        for trigger in self.triggers:
            trigger.start()
        self.runtime.add_listener(lambda _function: self.wake())

    def wake(self) -> None:
        """Make every poller fetch now (e.g. after producing records from outside the runtime)."""
        for trigger in self.triggers:
            trigger.wake()

    def wait_assigned(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        return all(t.wait_assigned(max(0.0, deadline - time.monotonic())) for t in self.triggers)

    def signal_stop(self) -> None:
        for trigger in self.triggers:
            trigger.signal_stop()

    def stop(self) -> None:
        self.signal_stop()
        for trigger in self.triggers:
            trigger.stop()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """No mapping fetches inside the block (what is produced meanwhile waits): for measuring
        a function alone, as in AWS, where its consumers run on capacity of their own."""
        try:
            for trigger in self.triggers:
                if not trigger.pause():
                    raise TimeoutError(f"{trigger.name} did not pause")
            yield
        finally:
            for trigger in self.triggers:
                trigger.resume()

    def lag(self) -> dict[str, int]:
        """Records produced but not yet committed, per mapping: what is still to be consumed.

        Read as an outsider would (the broker's committed offsets of each group against each
        partition's end), so it never disturbs the pollers.
        """
        if not self.triggers:
            return {}
        servers = self.triggers[0].bootstrap_servers
        probe = KafkaConsumer(bootstrap_servers=servers, client_id="local-lag-probe")
        admin = KafkaAdminClient(bootstrap_servers=servers, client_id="local-lag-probe")
        try:
            behind: dict[str, int] = {}
            for trigger in self.triggers:
                partitions = [
                    TopicPartition(topic, p)
                    for topic in trigger.mapping.topics
                    for p in sorted(probe.partitions_for_topic(topic) or ())
                ]
                ends = probe.end_offsets(partitions)
                group = trigger.mapping.consumer_group_id
                committed = admin.list_group_offsets({group: partitions}).get(group, {})
                latest = trigger.mapping.starting_position == "LATEST"
                behind[trigger.name] = sum(
                    max(0, ends[tp] - _next_to_read(committed.get(tp), ends[tp], latest))
                    for tp in partitions
                )
            return behind
        finally:
            probe.close()
            admin.close()

    def __iter__(self) -> Iterator[KafkaTrigger]:
        return iter(self.triggers)

    def get(self, function: str) -> KafkaTrigger:
        return next(t for t in self.triggers if t.mapping.function == function)
