"""The per-user event stream in DynamoDB (table `UserStreams`, decision 46), with pynamodb.

One partition per user (hash key `stream`), ordered by `position` (range key):
- position 0, stream "<user>": the head, `head` = the user's last position (never expires: a
  position is never reused);
- position n >= 1, stream "<user>": the frame at n (`frame`: {"type", "data"} as JSON);
- position 0, stream "<user>#<event id>": the marker that this event was appended, at `head`.

An append is ONE transaction per user: the head moves from n to n+1 (conditioned on n), the frame
is put at n+1 and the marker is put (conditioned on its absence). So the frames visible are always
1..head with no hole (a reader can never see n+2 before n+1), and a redelivered event finds its
marker and gets its old position back. A lost race (another event moved the head) is retried with
the head read again. Frames and markers carry `expires_at` (the table's TTL attribute, retention);
expired frames are treated as gone before DynamoDB removes them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection as DynamoConnection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from messenger.platform import deadline
from messenger.platform.settings import get_settings
from messenger.realtime.adapters.store import (
    BATCH_GET_LIMIT,
    CALL_SECONDS,
    CONNECT_TIMEOUT_SECONDS,
    READ_TIMEOUT_SECONDS,
    RETRIES,
)
from messenger.realtime.service import StreamedFrame

MAX_RACES = 8  # lost head races before an append gives up (the record is then retried)
MAX_CONCURRENT_APPENDS = 16


class StreamRecord(Model):
    class Meta:
        table_name = "UserStreams"  # replaced from settings by `configure()`

    stream = UnicodeAttribute(hash_key=True)
    position = NumberAttribute(range_key=True)
    head = NumberAttribute(null=True)
    frame = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)


@cache
def configure() -> DynamoConnection:
    settings = get_settings()
    meta: Any = StreamRecord.Meta
    meta.table_name = settings.require("user_streams_table")
    meta.region = settings.aws_region
    meta.host = settings.dynamodb_endpoint or None
    meta.connect_timeout_seconds = CONNECT_TIMEOUT_SECONDS
    meta.read_timeout_seconds = READ_TIMEOUT_SECONDS
    meta.max_retry_attempts = RETRIES
    return DynamoConnection(
        region=settings.aws_region,
        host=settings.dynamodb_endpoint or None,
        connect_timeout_seconds=CONNECT_TIMEOUT_SECONDS,
        read_timeout_seconds=READ_TIMEOUT_SECONDS,
        max_retry_attempts=RETRIES,
    )


def _marker(user: str, event_id: str) -> str:
    return f"{user}#{event_id}"


class DynamoStream:
    def __init__(self, retention_seconds: int) -> None:
        self.connection = configure()
        self.retention_seconds = retention_seconds

    # -- writing --------------------------------------------------------------------------------
    def _known(self, users: list[str], event_id: str) -> tuple[dict[str, int], dict[str, int]]:
        """Each user's head, and the positions this event already has (one consistent batch)."""
        keys = [(u, 0) for u in users] + [(_marker(u, event_id), 0) for u in users]
        heads: dict[str, int] = {}
        appended: dict[str, int] = {}
        for start in range(0, len(keys), BATCH_GET_LIMIT):
            deadline.require(CALL_SECONDS)
            for item in StreamRecord.batch_get(
                keys[start : start + BATCH_GET_LIMIT], consistent_read=True
            ):
                if "#" in item.stream:
                    appended[item.stream.split("#", 1)[0]] = int(item.head or 0)
                else:
                    heads[item.stream] = int(item.head or 0)
        return heads, appended

    def _append_one(self, user: str, event_id: str, body: str, head: int, now: int) -> int:
        expires = now + self.retention_seconds
        for _ in range(MAX_RACES):
            position = head + 1
            deadline.require(CALL_SECONDS)
            try:
                with TransactWrite(connection=self.connection) as transaction:
                    transaction.update(
                        StreamRecord(user, 0),
                        actions=[StreamRecord.head.set(position)],
                        condition=(StreamRecord.head == head)
                        if head
                        else StreamRecord.head.does_not_exist(),
                    )
                    transaction.save(
                        StreamRecord(user, position, frame=body, expires_at=expires),
                        condition=StreamRecord.position.does_not_exist(),
                    )
                    transaction.save(
                        StreamRecord(_marker(user, event_id), 0, head=position, expires_at=expires),
                        condition=StreamRecord.stream.does_not_exist(),
                    )
                return position
            except TransactWriteError as exc:
                if exc.cause_response_code != "TransactionCanceledException":
                    raise
            heads, appended = self._known([user], event_id)
            if user in appended:  # a concurrent delivery of the same event got there first
                return appended[user]
            head = heads.get(user, 0)
        raise RuntimeError(f"stream append lost {MAX_RACES} races in a row")

    def append(
        self, event_id: str, frames: Mapping[uuid.UUID, StreamedFrame], now: int
    ) -> dict[uuid.UUID, int]:
        if not frames:
            return {}
        users = {str(u): u for u in frames}
        heads, appended = self._known(sorted(users), event_id)
        todo = [u for u in sorted(users) if u not in appended]
        positions = {users[u]: p for u, p in appended.items() if u in users}

        def one(user: str) -> tuple[str, int]:
            body = json.dumps(frames[users[user]].body(), separators=(",", ":"))
            return user, self._append_one(user, event_id, body, heads.get(user, 0), now)

        if len(todo) <= 1:
            done = [one(u) for u in todo]
        else:
            _ = StreamRecord._get_connection().connection.client  # created once, not in a race
            _ = self.connection.client
            with ThreadPoolExecutor(min(len(todo), MAX_CONCURRENT_APPENDS)) as pool:
                done = list(pool.map(one, todo))
        positions.update({users[u]: p for u, p in done})
        return positions

    # -- reading --------------------------------------------------------------------------------
    def head(self, user: uuid.UUID) -> int:
        deadline.require(CALL_SECONDS)
        try:
            return int(StreamRecord.get(str(user), 0, consistent_read=True).head or 0)
        except DoesNotExist:
            return 0

    def after(
        self, user: uuid.UUID, since: int, limit: int, now: int
    ) -> list[tuple[int, dict[str, Any] | None]]:
        """Up to `limit` positions after `since`, in order; the frame None once expired."""
        deadline.require(CALL_SECONDS)
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
