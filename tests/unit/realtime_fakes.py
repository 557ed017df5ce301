"""In-memory fakes of the realtime context's ports (and the other contexts' queries it makes)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from messenger.platform.events import EventEnvelope
from messenger.realtime.service import Connection, Outcome

NOW = datetime(2026, 11, 26, 16, 30, tzinfo=UTC)
AT = "2026-11-26T16:30:00.000Z"  # NOW on the wire
ANN, BOB, CAT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


class FakeConnections:
    def __init__(self) -> None:
        self.by_id: dict[str, Connection] = {}

    def add(self, connection: Connection, now: int) -> list[Connection]:
        self.by_id[connection.connection_id] = connection
        return self.of_users([connection.user_id], now)

    def remove(self, connection_id: str, now: int) -> tuple[Connection | None, list[Connection]]:
        gone = self.by_id.pop(connection_id, None)
        return gone, self.of_users([gone.user_id], now) if gone else []

    def get(self, connection_id: str) -> Connection | None:
        return self.by_id.get(connection_id)

    def of_users(self, user_ids: Iterable[uuid.UUID], now: int) -> list[Connection]:
        wanted = set(user_ids)
        return sorted(
            (c for c in self.by_id.values() if c.user_id in wanted and c.expires_at > now),
            key=lambda c: c.connection_id,
        )


class FakePusher:
    def __init__(self) -> None:
        self.outcomes: dict[str, Outcome] = {}
        self.frames: list[tuple[str, dict[str, Any]]] = []
        self.closed: list[str] = []

    def close_many(self, connection_ids: Sequence[str]) -> dict[str, Outcome]:
        self.closed.extend(connection_ids)
        return dict.fromkeys(connection_ids, Outcome.DELIVERED)

    def post_many(self, posts: Sequence[tuple[str, bytes]]) -> dict[str, Outcome]:
        result = {}
        for connection_id, payload in posts:
            outcome = self.outcomes.get(connection_id, Outcome.DELIVERED)
            if outcome is Outcome.DELIVERED:
                self.frames.append((connection_id, json.loads(payload)))
            result[connection_id] = outcome
        return result

    def to(self, connection_id: str) -> list[dict[str, Any]]:
        return [f for cid, f in self.frames if cid == connection_id]


class FakeDeliveries:
    def __init__(self) -> None:
        self.log: dict[str, set[str]] = {}

    def served(self, event_id: str) -> set[str]:
        return set(self.log.get(event_id, set()))

    def remember(self, event_id: str, connection_ids: Iterable[str]) -> None:
        self.log.setdefault(event_id, set()).update(connection_ids)


class Directory:
    """Friends, chats and sessions: the other contexts' public queries, in memory."""

    def __init__(self) -> None:
        self.friends: dict[uuid.UUID, set[uuid.UUID]] = {ANN: {BOB}, BOB: {ANN}, CAT: set()}
        self.chats: dict[uuid.UUID, list[uuid.UUID]] = {}
        self.direct: set[uuid.UUID] = set()  # chats that are direct (friends only)
        self.tokens = {"ann": ANN, "bob": BOB, "cat": CAT, "ann-2": ANN}
        self.revoked: set[str] = set()  # session ids
        self.revoke_on_identify: dict[str, int] = {}  # token -> revoke after that many checks
        self.blocks: set[tuple[uuid.UUID, uuid.UUID]] = set()  # (blocker, blocked)

    def friends_of(self, user: uuid.UUID) -> set[uuid.UUID]:
        return self.friends.get(user, set())

    def who_blocked(self, author: uuid.UUID, among: Collection[uuid.UUID]) -> set[uuid.UUID]:
        return {u for u in among if (u, author) in self.blocks}

    def participants_of(self, chat_id: uuid.UUID) -> list[uuid.UUID] | None:
        return self.chats.get(chat_id)

    def participants_if_may_send(
        self, chat_id: uuid.UUID, user: uuid.UUID
    ) -> list[uuid.UUID] | None:
        participants = self.chats.get(chat_id)
        if not participants or user not in participants:
            return None
        others = [p for p in participants if p != user]
        if chat_id in self.direct and others[0] not in self.friends_of(user):
            return None
        return participants

    def identify(self, token: str) -> tuple[uuid.UUID, str] | None:
        if token in self.revoke_on_identify:
            self.revoke_on_identify[token] -= 1
            if self.revoke_on_identify[token] < 0:
                self.revoked.add(f"s-{token}")
        user = self.tokens.get(token)
        if user is None or f"s-{token}" in self.revoked:
            return None
        return user, f"s-{token}"

    def known_revoked(self, session_ids: Iterable[str]) -> set[str]:
        return set(session_ids) & self.revoked


def envelope(kind: str, **data: Any) -> EventEnvelope:
    return EventEnvelope(id=uuid.uuid4(), type=kind, occurred_at=NOW, data=data)


def message(chat: uuid.UUID, *participants: uuid.UUID) -> EventEnvelope:
    return envelope(
        "message.sent",
        message_id=str(uuid.uuid4()),
        chat_id=str(chat),
        author_id=str(participants[0]),
        content="hi",
        created_at=AT,
        client_message_id=None,
        participants=[str(p) for p in participants],
    )
