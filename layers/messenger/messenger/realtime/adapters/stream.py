"""The per-user event stream in DynamoDB (table `UserStreams`, decision 46), with pynamodb.

One partition per user (hash key `stream` = the user id), ordered by `position` (range key):
- position n >= 1: the frame at n (`frame`: {"type", "data"} as JSON, `event_id`, `expires_at`);
- position 0: the head, `head` = the highest position written and `event_id` = its frame's
  event (never expires, so positions are never reused even once every frame has expired);
- hash key "<user>#<event id>", position 0: the marker that this event is at `head` (expires).
- a deleted user's partition holds only position 0 with `erased` (expires with the retention):
  appends to it are dropped, so events still addressed to the user after the purge (a
  tombstone's, a group leave's) leave nothing of theirs behind.

An append puts the frame at (highest position + 1) on the condition that the slot is empty: a
writer that lost a race re-reads and takes the next slot. A slot is only ever written by someone
who saw the one before it, so the frames are 1..n with no hole, and a reader never sees n+1
before n. Then the head is written (conditionally, never backwards), and once every recipient's
append is done, the markers, 25 to a BatchWriteItem.

The first try of an event's append takes its position from the head, read for every recipient
at once: one consistent BatchGetItem of the heads and the event's markers (up to 50 recipients a
call) instead of a Query each. The head is written only after its frame, so it may lag (a
writer between its frame and its head, or one that died there), never lead: a lagging head's
slot is taken, the put fails, and the retry asks the Query (newest first, limit 1) for the
highest position: the newest frame, or the head item once every frame has expired. A
redelivered event finds its marker (or, had the writer died between the frame and its marker,
finds itself at the head or as the newest frame) and gets its old position back. No
transaction: each write is one item (1 WCU), and moto's transactions copy whole tables (tests,
`make dev`).
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.models import Model

from messenger.platform.dynamodb import configure_model, is_condition_failure, require_call
from messenger.platform.settings import get_settings
from messenger.realtime.adapters.store import BATCH_GET_LIMIT
from messenger.realtime.service import StreamedFrame

MAX_RACES = 20  # lost head races before an append gives up (the record is then retried)
RACE_BACKOFF_SECONDS = 0.01  # times the attempt, jittered: contenders spread out
MAX_CONCURRENT_APPENDS = 16
BATCH_WRITE_LIMIT = 25  # items in one BatchWriteItem (DynamoDB's limit)


class StreamRecord(Model):
    class Meta:
        table_name = "UserStreams"  # replaced from settings by `configure()`

    stream = UnicodeAttribute(hash_key=True)
    position = NumberAttribute(range_key=True)
    head = NumberAttribute(null=True)
    frame = UnicodeAttribute(null=True)
    event_id = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)
    erased = BooleanAttribute(null=True)


@cache
def configure() -> None:
    configure_model(StreamRecord.Meta, get_settings().require("user_streams_table"))


@dataclass(frozen=True)
class _Head:
    position: int  # the highest position written (it may lag a writer in flight, never lead)
    erased: bool
    event_id: str | None  # the event of the frame at `position`


def _marker(user: str, event_id: str) -> str:
    return f"{user}#{event_id}"


class DynamoStream:
    def __init__(self, retention_seconds: int) -> None:
        configure()
        self.retention_seconds = retention_seconds

    # -- writing --------------------------------------------------------------------------------
    def _known(self, users: list[str], event_id: str) -> tuple[dict[str, int], dict[str, _Head]]:
        """The positions this event already has in these streams, and each stream's head (a
        user without a head item has none yet): consistent batches, two keys per user."""
        keys = [k for u in users for k in ((_marker(u, event_id), 0), (u, 0))]
        appended: dict[str, int] = {}
        heads: dict[str, _Head] = {u: _Head(0, False, None) for u in users}
        for start in range(0, len(keys), BATCH_GET_LIMIT):
            require_call()
            for item in StreamRecord.batch_get(
                keys[start : start + BATCH_GET_LIMIT], consistent_read=True
            ):
                user, marker, _ = item.stream.partition("#")
                if marker:
                    appended[user] = int(item.head or 0)
                else:
                    heads[user] = _Head(int(item.head or 0), bool(item.erased), item.event_id)
        return appended, heads

    def _newest(self, user: str) -> StreamRecord | None:
        """The highest position's item: the newest frame, or the head once all expired."""
        require_call()
        for item in StreamRecord.query(
            user, consistent_read=True, scan_index_forward=False, limit=1
        ):
            return item
        return None

    def _append_one(self, user: str, event_id: str, body: str, now: int, head: _Head) -> int:
        """The frame's position (0: dropped, the stream is erased). The first try takes the slot
        after `head` (read in the event's batch); once that one is taken, the Query answers, and
        only a race lost to the Query's answer backs off."""
        expires = now + self.retention_seconds
        for attempt in range(MAX_RACES):
            if attempt > 1:
                time.sleep(random.uniform(0, RACE_BACKOFF_SECONDS * attempt))  # noqa: S311
            if attempt == 0:
                if head.erased:
                    return 0
                if head.event_id == event_id:  # redelivered; the frame and head were written
                    position = head.position
                    break
                position = head.position + 1
            else:
                newest = self._newest(user)
                if newest is not None and newest.erased:
                    return 0  # a deleted user's stream takes nothing more
                if newest is not None and newest.event_id == event_id:
                    # written before a crash, its marker not (the head item: every frame gone)
                    position = int(newest.position or newest.head or 0)
                    break
                position = (0 if newest is None else int(newest.position or newest.head or 0)) + 1
            require_call()
            try:
                StreamRecord(
                    user, position, frame=body, event_id=event_id, expires_at=expires
                ).save(condition=StreamRecord.position.does_not_exist())
                break
            except PutError as exc:
                if not is_condition_failure(exc):
                    raise
        else:
            raise RuntimeError(f"stream append lost {MAX_RACES} races in a row")
        require_call()
        try:
            StreamRecord(user, 0).update(
                actions=[StreamRecord.head.set(position), StreamRecord.event_id.set(event_id)],
                condition=StreamRecord.head.does_not_exist() | (StreamRecord.head < position),
            )
        except UpdateError as exc:  # a later position got there first: the head is past us
            if not is_condition_failure(exc):
                raise
        return position

    def append(
        self,
        event_id: str,
        frames: Mapping[uuid.UUID, StreamedFrame],
        now: int,
        appended: Callable[[uuid.UUID, int], object] | None = None,
    ) -> dict[uuid.UUID, int]:
        if not frames:
            return {}
        users = {str(u): u for u in frames}
        earlier, heads = self._known(sorted(users), event_id)  # a retried event's appends

        def one(user: str) -> tuple[str, int]:
            if user in earlier:
                position = earlier[user]
            else:
                body = json.dumps(frames[users[user]].body(), separators=(",", ":"))
                position = self._append_one(user, event_id, body, now, heads[user])
            if position and appended is not None:
                appended(users[user], position)
            return user, position

        done: list[tuple[str, int]] = []
        failure: Exception | None = None
        if len(users) <= 1:
            try:
                done = [one(u) for u in users]
            except Exception as exc:
                failure = exc
        else:
            _ = StreamRecord._get_connection().connection.client  # created once, not in a race
            with ThreadPoolExecutor(min(len(users), MAX_CONCURRENT_APPENDS)) as pool:
                futures = [pool.submit(one, u) for u in sorted(users)]
                for future in futures:
                    try:
                        done.append(future.result())
                    except Exception as exc:
                        failure = failure or exc
        # The appends that made it get their markers even when another failed: the retried
        # record then appends only the missing ones.
        self._mark(event_id, [(u, p) for u, p in done if p and u not in earlier], now)
        if failure is not None:
            raise failure
        return {users[u]: p for u, p in done if p}

    def _mark(self, event_id: str, appended: list[tuple[str, int]], now: int) -> None:
        """The markers of this event's appends, BATCH_WRITE_LIMIT to a BatchWriteItem: one call
        per 25 recipients rather than one each (a quarter of a fan-out's calls)."""
        expires = now + self.retention_seconds
        for start in range(0, len(appended), BATCH_WRITE_LIMIT):
            require_call()
            with StreamRecord.batch_write() as batch:
                for user, position in appended[start : start + BATCH_WRITE_LIMIT]:
                    batch.save(
                        StreamRecord(_marker(user, event_id), 0, head=position, expires_at=expires)
                    )

    def purge(self, user: uuid.UUID) -> int:
        """Account deletion: the partition's head becomes the `erased` marker first (so appends
        from then on are dropped), then every frame goes, in batches of 25; how many. The
        per-event markers (`<user>#<event>`) hold a position and an event id only, and expire
        with the retention."""
        now = int(time.time())
        require_call()
        StreamRecord(str(user), 0, erased=True, expires_at=now + self.retention_seconds).save()
        require_call()
        frames = list(
            StreamRecord.query(str(user), StreamRecord.position > 0, consistent_read=True)
        )
        with StreamRecord.batch_write() as batch:
            for item in frames:
                batch.delete(item)
        return len(frames)

    # -- reading --------------------------------------------------------------------------------
    def head(self, user: uuid.UUID) -> int:
        newest = self._newest(str(user))
        return 0 if newest is None else int(newest.position or newest.head or 0)

    def after(
        self, user: uuid.UUID, since: int, limit: int, now: int
    ) -> list[tuple[int, dict[str, Any] | None]]:
        """Up to `limit` positions after `since`, in order; the frame None once expired."""
        require_call()
        found: list[tuple[int, dict[str, Any] | None]] = []
        for item in StreamRecord.query(
            str(user),
            StreamRecord.position > since,
            consistent_read=True,
            limit=limit,
        ):
            position = int(item.position)
            if item.expires_at is not None and int(item.expires_at) <= now:
                found.append((position, None))
            else:
                found.append((position, json.loads(item.frame or "{}")))
            if len(found) >= limit:
                break
        return found
