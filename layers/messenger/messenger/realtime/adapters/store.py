"""Live connections in DynamoDB (pynamodb), in two tables declared in template.yaml.

- `Connections` (hash key connection_id): who holds a connection; what $disconnect, `typing` and
  the 410 cleanup look up by id. Strongly consistent GetItem, no index to lag behind.
- `UserConnections` (hash key user_id): the user's connections as a string set of
  "<connection_id> <expires_at> <session_id>" (records written before sessions were kept have no
  session part). ADD/DELETE on the set are atomic and return what is left, so the
  first connection and the last disconnection are decided exactly, even for concurrent devices;
  and the connections of up to 100 users come back in one BatchGetItem.

Both carry `expires_at` (epoch seconds) as their TTL attribute: API Gateway closes every
connection after 2 hours, so no record outlives it; readers ignore expired entries until TTL
removes them.

DynamoDB unreachable, throttling or failing (timeouts, 5xx) is `unavailable` (503, a refused
`$connect` the client may retry); a refusal of the request itself (validation, a failed
condition) stays an error. Calls are bounded (1 s connect, 1 s read, no retry: at most 2 s) and
none starts unless the invocation has that much time left.
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

from messenger.platform.dynamodb import configure_model, is_condition_failure, require_call
from messenger.platform.observability import logger
from messenger.platform.settings import get_settings
from messenger.realtime.service import Connection

BATCH_GET_LIMIT = 100
MAX_CONCURRENT_BATCHES = 5  # a friends page of 500


class ConnectionRecord(Model):
    class Meta:
        table_name = "Connections"  # replaced from settings by `configure()`

    connection_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    connected_at = NumberAttribute()
    expires_at = NumberAttribute()
    session_id = UnicodeAttribute(null=True)


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
        configure_model(meta, name)


def _member(connection: Connection) -> str:
    member = f"{connection.connection_id} {connection.expires_at}"
    return f"{member} {connection.session}" if connection.session else member


def _parse(user: uuid.UUID, members: Iterable[str] | None, now: int) -> list[Connection]:
    found = []
    for member in members or ():
        connection_id, expires, *session = member.split(" ")
        if int(expires) > now:
            found.append(
                Connection(connection_id, user, int(expires), session[0] if session else None)
            )
    return sorted(found, key=lambda c: c.connection_id)


class DynamoConnections:
    def __init__(self) -> None:
        configure()

    def add(self, connection: Connection, now: int) -> list[Connection]:
        require_call()
        record = ConnectionRecord(
            connection.connection_id,
            user_id=str(connection.user_id),
            connected_at=now,
            expires_at=connection.expires_at,
            session_id=connection.session,
        )
        record.save()
        item = UserConnectionsRecord(str(connection.user_id))
        try:
            require_call()
            item.update(
                actions=[
                    UserConnectionsRecord.connections.add({_member(connection)}),
                    # The newest connection expires last: the item's TTL follows it.
                    UserConnectionsRecord.expires_at.set(connection.expires_at),
                ]
            )
        except Exception:
            # The connection is refused: take back its first half (if DynamoDB lets us; else the
            # record is an orphan no user lists, which its TTL removes).
            try:
                record.delete()
            except Exception as undo:
                logger.warning("Could not undo a half-registered connection", exc_info=undo)
            raise
        return _parse(connection.user_id, item.connections, now)

    def get(self, connection_id: str) -> Connection | None:
        require_call()
        try:
            record = ConnectionRecord.get(connection_id, consistent_read=True)
        except DoesNotExist:
            return None
        return Connection(
            record.connection_id,
            uuid.UUID(record.user_id),
            int(record.expires_at),
            record.session_id,
        )

    def remove(self, connection_id: str, now: int) -> tuple[Connection | None, list[Connection]]:
        connection = self.get(connection_id)
        if connection is None:
            return None, []
        require_call()
        ConnectionRecord(connection_id).delete()
        item = UserConnectionsRecord(str(connection.user_id))
        try:
            require_call()
            item.update(
                actions=[UserConnectionsRecord.connections.delete({_member(connection)})],
                condition=UserConnectionsRecord.user_id.exists(),
            )
        except UpdateError as exc:
            if not is_condition_failure(exc):
                raise
            return connection, []
        return connection, _parse(connection.user_id, item.connections, now)

    def purge_user(self, user: uuid.UUID) -> list[str]:
        """Account deletion: forget every connection of the user, expired ones included (the
        table's TTL may not have run yet), and the user's item; the connection ids."""
        require_call()
        try:
            item = UserConnectionsRecord.get(str(user), consistent_read=True)
        except DoesNotExist:
            return []
        ids = sorted({member.split(" ")[0] for member in item.connections or ()})
        for connection_id in ids:
            require_call()
            ConnectionRecord(connection_id).delete()
        require_call()
        item.delete()
        return ids

    def of_users(self, user_ids: Iterable[uuid.UUID], now: int) -> list[Connection]:
        """One BatchGetItem per 100 users, the batches concurrent: one round trip's latency."""
        keys = sorted({str(u) for u in user_ids})
        chunks = [keys[i : i + BATCH_GET_LIMIT] for i in range(0, len(keys), BATCH_GET_LIMIT)]

        def batch(chunk: list[str]) -> list[Connection]:
            require_call()
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
