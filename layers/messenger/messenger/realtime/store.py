"""Live connections in DynamoDB (pynamodb), in two tables declared in template.yaml.

- `Connections` (hash key connection_id): who holds a connection; what $disconnect, `typing` and
  the 410 cleanup look up by id. Strongly consistent GetItem, no index to lag behind.
- `UserConnections` (hash key user_id): the user's connections as a string set of
  "<connection_id> <expires_at>". ADD/DELETE on the set are atomic and return what is left, so the
  first connection and the last disconnection are decided exactly, even for concurrent devices;
  and the connections of up to 100 users come back in one BatchGetItem.

Both carry `expires_at` (epoch seconds) as their TTL attribute: API Gateway closes every
connection after 2 hours, so no record outlives it; readers ignore expired entries until TTL
removes them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.models import Model

from messenger.realtime.service import Connection
from messenger.settings import get_settings

BATCH_GET_LIMIT = 100
MAX_CONCURRENT_BATCHES = 5  # a friends page of 500


class ConnectionRecord(Model):
    class Meta:
        table_name = "Connections"  # replaced from settings by `configure()`

    connection_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    connected_at = NumberAttribute()
    expires_at = NumberAttribute()


class UserConnectionsRecord(Model):
    class Meta:
        table_name = "UserConnections"  # replaced from settings by `configure()`

    user_id = UnicodeAttribute(hash_key=True)
    connections = UnicodeSetAttribute(null=True)
    expires_at = NumberAttribute(null=True)


@cache
def configure() -> None:
    """Point the models at this environment's tables (and DynamoDB endpoint, locally)."""
    settings = get_settings()
    metas: list[tuple[Any, str]] = [
        (ConnectionRecord.Meta, settings.require("connections_table")),
        (UserConnectionsRecord.Meta, settings.require("user_connections_table")),
    ]
    for meta, name in metas:
        meta.table_name = name
        meta.region = settings.aws_region
        meta.host = settings.dynamodb_endpoint or None
        meta.connect_timeout_seconds = 2
        meta.read_timeout_seconds = 2
        meta.max_retry_attempts = 2


def _member(connection: Connection) -> str:
    return f"{connection.connection_id} {connection.expires_at}"


def _parse(user: uuid.UUID, members: Iterable[str] | None, now: int) -> list[Connection]:
    found = []
    for member in members or ():
        connection_id, _, expires = member.rpartition(" ")
        if int(expires) > now:
            found.append(Connection(connection_id, user, int(expires)))
    return sorted(found, key=lambda c: c.connection_id)


class DynamoConnections:
    def __init__(self) -> None:
        configure()

    def add(self, connection: Connection, now: int) -> list[Connection]:
        ConnectionRecord(
            connection.connection_id,
            user_id=str(connection.user_id),
            connected_at=now,
            expires_at=connection.expires_at,
        ).save()
        item = UserConnectionsRecord(str(connection.user_id))
        item.update(
            actions=[
                UserConnectionsRecord.connections.add({_member(connection)}),
                # The newest connection expires last: the item's TTL follows it.
                UserConnectionsRecord.expires_at.set(connection.expires_at),
            ]
        )
        return _parse(connection.user_id, item.connections, now)

    def get(self, connection_id: str) -> Connection | None:
        try:
            record = ConnectionRecord.get(connection_id, consistent_read=True)
        except DoesNotExist:
            return None
        return Connection(record.connection_id, uuid.UUID(record.user_id), int(record.expires_at))

    def remove(self, connection_id: str, now: int) -> tuple[Connection | None, list[Connection]]:
        connection = self.get(connection_id)
        if connection is None:
            return None, []
        ConnectionRecord(connection_id).delete()
        item = UserConnectionsRecord(str(connection.user_id))
        try:
            item.update(
                actions=[UserConnectionsRecord.connections.delete({_member(connection)})],
                condition=UserConnectionsRecord.user_id.exists(),
            )
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            return connection, []
        return connection, _parse(connection.user_id, item.connections, now)

    def of_users(self, user_ids: Iterable[uuid.UUID], now: int) -> list[Connection]:
        """One BatchGetItem per 100 users, the batches concurrent: one round trip's latency."""
        keys = sorted({str(u) for u in user_ids})
        chunks = [keys[i : i + BATCH_GET_LIMIT] for i in range(0, len(keys), BATCH_GET_LIMIT)]

        def batch(chunk: list[str]) -> list[Connection]:
            found: list[Connection] = []
            for item in UserConnectionsRecord.batch_get(
                chunk, attributes_to_get=["user_id", "connections"]
            ):
                found.extend(_parse(uuid.UUID(item.user_id), item.connections, now))
            return found

        if len(chunks) <= 1:
            return batch(chunks[0]) if chunks else []
        # botocore clients are thread-safe once created; create it here, not in a race.
        _ = UserConnectionsRecord._get_connection().connection.client
        with ThreadPoolExecutor(min(len(chunks), MAX_CONCURRENT_BATCHES)) as pool:
            return [c for found in pool.map(batch, chunks) for c in found]
