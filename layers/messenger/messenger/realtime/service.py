"""Realtime use-cases: connect, disconnect, typing, and pushing events to live connections.

A user is online while they hold at least one live connection (several devices: several
connections). The store answers "who else is still connected" atomically with each change, so
exactly the first connection and the last disconnection announce presence to online friends.

Fan-out: every recipient's connections are read in one batch and posted to concurrently. A gone
connection (410) is forgotten; any other failure never stops the remaining recipients, and when
the event has to be retried, the connections already served are remembered so they get it once.

Every frame but typing and presence is first appended to each recipient's event stream (the
`EventStream` port, decision 46): its position is the frame's `cursor`, what GET /v1/sync resumes
from. The append is idempotent by event id, so a retried event carries the same cursors. Each
recipient's frame is posted as soon as their own append is stored, not after every recipient's.

Every connection carries the session (login) it was opened with. Ending a session closes its
connections (`close_session`, what logout calls); and a push skips, and closes, connections whose
session the auth context knows revoked, so one registered in a race with a logout hears nothing.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

from messenger.kernel.errors import is_unavailable
from messenger.platform.observability import logger

if TYPE_CHECKING:
    from messenger.chats.events import (
        ChatDelivered,
        ChatRead,
        MessageDeleted,
        MessageEdited,
        MessageSent,
        ReactionChanged,
    )
    from messenger.kernel.events import EventEnvelope


@dataclass(frozen=True)
class Connection:
    connection_id: str
    user_id: uuid.UUID
    expires_at: int  # epoch seconds: API Gateway's 2-hour limit, also the DynamoDB TTL
    session: str | None = None  # the auth context's session id (None: opened before sessions)


class Outcome(Enum):
    DELIVERED = "delivered"
    GONE = "gone"  # 410: the client is gone; forget the connection
    FAILED = "failed"  # anything else (throttled, 5xx, timeout): worth another try


class ConnectionStore(Protocol):
    def add(self, connection: Connection, now: int) -> list[Connection]:
        """Register it; the user's live connections afterwards (this one included)."""

    def remove(self, connection_id: str, now: int) -> tuple[Connection | None, list[Connection]]:
        """Forget it; the connection (None if unknown) and its user's live connections left."""

    def get(self, connection_id: str) -> Connection | None: ...

    def of_users(self, user_ids: Iterable[uuid.UUID], now: int) -> list[Connection]:
        """Every live connection of these users, in one batch."""

    def purge_user(self, user: uuid.UUID) -> list[str]:
        """Forget every connection of the user and the user's own item; their ids."""


class Pusher(Protocol):
    def post_many(self, posts: Sequence[tuple[str, bytes]]) -> dict[str, Outcome]:
        """Post each payload to its connection (concurrently); the outcome per connection id."""

    def close_many(self, connection_ids: Sequence[str]) -> dict[str, Outcome]:
        """Close these connections from the server side (DELETE @connections/{id})."""


class DeliveryLog(Protocol):
    """Which connections already got an event (so a retried event reaches only the others)."""

    def served(self, event_id: str) -> set[str]: ...

    def remember(self, event_id: str, connection_ids: Iterable[str]) -> None: ...


class FriendDirectory(Protocol):
    def friends_of(self, user: uuid.UUID) -> set[uuid.UUID]: ...

    def who_blocked(self, author: uuid.UUID, among: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Which of `among` blocked `author`: they get none of the author's new messages."""
        ...


class ChatDirectory(Protocol):
    def participants_of(self, chat_id: uuid.UUID) -> list[uuid.UUID] | None: ...

    def participants_if_may_send(
        self, chat_id: uuid.UUID, user: uuid.UUID
    ) -> list[uuid.UUID] | None:
        """The participants when `user` may send in the chat (the chats context's rule)."""


class Authenticator(Protocol):
    def identify(self, token: str) -> tuple[uuid.UUID, str] | None:
        """The live session behind the token: (user id, session id); None if refused."""


class Revocations(Protocol):
    def known_revoked(self, session_ids: Iterable[str]) -> set[str]:
        """Those of these sessions known to be revoked (one round trip; best effort)."""


@dataclass(frozen=True)
class StreamedFrame:
    """A frame as the stream keeps it; each recipient's copy adds its own cursor."""

    type: str
    data: Mapping[str, Any]

    def body(self) -> dict[str, Any]:
        return {"type": self.type, "data": dict(self.data)}

    def payload(self, cursor: str) -> bytes:
        return frame(self.type, self.data, cursor)


class EventStream(Protocol):
    """Each user's stream of the frames addressed to them, positions 1, 2, 3... (no holes)."""

    def append(
        self,
        event_id: str,
        frames: Mapping[uuid.UUID, StreamedFrame],
        now: int,
        appended: Callable[[uuid.UUID, int], object] | None = None,
    ) -> dict[uuid.UUID, int]:
        """Append each user's frame once per event id (a retry gets the same positions back).
        `appended(user, position)` is called as soon as that user's frame is stored (possibly
        from another thread, never twice for a user): its post need not wait for the others'."""

    def head(self, user: uuid.UUID) -> int:
        """The user's last position (0: nothing yet)."""

    def after(
        self, user: uuid.UUID, since: int, limit: int, now: int
    ) -> list[tuple[int, dict[str, Any] | None]]:
        """Up to `limit` positions after `since`, oldest first; the frame None once expired."""

    def purge(self, user: uuid.UUID) -> int:
        """Account deletion: every item of the user's stream (frames and head); how many."""


class PushIncompleteError(RuntimeError):
    """Some connections could not be served (not gone, just failing): retry the event."""


def frame(event_type: str, data: Mapping[str, Any], cursor: str | None = None) -> bytes:
    """The JSON frame every client receives: {"type": ..., "data": {...}, "cursor": ...} (no
    cursor on the frames the stream does not keep: typing, presence, session.revoked)."""
    body: dict[str, Any] = {"type": event_type, "data": data}
    if cursor is not None:
        body["cursor"] = cursor
    return json.dumps(body, separators=(",", ":")).encode()


def encode_position(position: int) -> str:
    """A stream position as the opaque cursor clients hold (messenger.kernel.pagination's)."""
    from messenger.kernel.pagination import encode_cursor

    return encode_cursor(position)


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


@dataclass(frozen=True)
class Push:
    """One frame for a set of users (minus some of their connections)."""

    users: frozenset[uuid.UUID]
    payload: bytes
    skip_connections: frozenset[str] = frozenset()
    streamed: StreamedFrame | None = None  # what the recipients' streams keep (None: nothing)


def _participants(
    data: MessageSent | MessageEdited | MessageDeleted | ReactionChanged | ChatRead | ChatDelivered,
    chats: ChatDirectory | None,
) -> list[uuid.UUID]:
    """The chat's participants as the event carries them, else (none carried) looked up."""
    if data.participants or chats is None:
        return data.participants
    return chats.participants_of(data.chat_id) or []


def push_for(
    event: EventEnvelope,
    chats: ChatDirectory | None = None,
    friends: FriendDirectory | None = None,
) -> Push | None:
    """What a chat or friendship event pushes, to whom (API.md, Realtime and its additions);
    None: nothing. What happened to a message goes to every participant (the actor's other
    devices too); a receipt goes to the others.

    Raises MalformedEvent (messenger.kernel.events) when a pushed type's data breaks its schema.
    """
    # The publishers' schemas, loaded by the push consumer only (connect, typing and logout
    # never push an event).
    from messenger.chats.events import (
        ChatDelivered,
        ChatMemberAdded,
        ChatMemberRemoved,
        ChatRead,
        ChatUpdated,
        MessageDeleted,
        MessageEdited,
        MessageSent,
        ReactionAdded,
        ReactionRemoved,
    )
    from messenger.friends.events import (
        FriendshipAccepted,
        FriendshipChanged,
        FriendshipRejected,
        FriendshipRemoved,
        FriendshipRequested,
    )

    to_every_participant = (
        MessageSent,
        MessageEdited,
        MessageDeleted,
        ReactionAdded,
        ReactionRemoved,
    )
    to_the_others = (ChatRead, ChatDelivered)
    # A group's changes go to its members after the change; the removed hear of it too.
    to_the_members = (ChatUpdated, ChatMemberAdded, ChatMemberRemoved)
    data = event.parse(
        *to_every_participant,
        *to_the_others,
        *to_the_members,
        FriendshipRequested,
        FriendshipAccepted,
        FriendshipRejected,
        FriendshipRemoved,
    )
    if data is None:
        return None
    # The frame is the event's data as published, less the recipients.
    streamed = StreamedFrame(event.type, data.model_dump(mode="json", exclude={"participants"}))
    payload = frame(streamed.type, streamed.data)
    if isinstance(data, (MessageSent, MessageEdited, ReactionAdded, ReactionRemoved)) and friends:
        # A group member who blocked the author (or the reacting user) hears nothing of them.
        users = _participants(data, chats)
        actor = (
            data.user_id if isinstance(data, (ReactionAdded, ReactionRemoved)) else data.author_id
        )
        recipients = frozenset(users) - friends.who_blocked(actor, users)
        return Push(recipients, payload, streamed=streamed)
    if isinstance(data, to_every_participant):
        return Push(frozenset(_participants(data, chats)), payload, streamed=streamed)
    if isinstance(data, ChatMemberRemoved):
        recipients = frozenset([*data.participants, *data.user_ids])
        return Push(recipients, payload, streamed=streamed)
    if isinstance(data, to_the_members):
        return Push(frozenset(data.participants), payload, streamed=streamed)
    if isinstance(data, to_the_others):
        users = _participants(data, chats)
        return Push(frozenset(u for u in users if u != data.user_id), payload, streamed=streamed)
    if isinstance(data, FriendshipChanged):
        # from_user_id is whoever acted (asked, accepted, rejected, removed): the other one hears.
        return Push(frozenset([data.to_user_id]), payload, streamed=streamed)
    return None


@dataclass
class FanOut:
    """Posts frames to users' live connections and forgets the gone ones."""

    connections: ConnectionStore
    pusher: Pusher
    revocations: Revocations | None = None

    def close(self, doomed: Iterable[Connection], now: int) -> list[Connection]:
        """Forget the connections, then close them; those whose user has none left.

        Forgotten first: from then on no push finds them, and the `$disconnect` the close causes
        finds nothing to announce (the user going offline is announced once, by the caller).
        """
        last: list[Connection] = []
        forgotten: list[str] = []
        for connection in doomed:
            known, left = self.connections.remove(connection.connection_id, now)
            forgotten.append(connection.connection_id)
            if known is not None and not left:
                last.append(known)
        if forgotten:
            self.pusher.close_many(forgotten)  # a failure leaves a socket nothing reaches
        return last

    def _revoked(self, targets: list[Connection]) -> set[str]:
        sessions = {c.session for c in targets if c.session}
        if self.revocations is None or not sessions:
            return set()
        return self.revocations.known_revoked(sessions)

    def targets(
        self, push: Push, now: int, already_served: set[str] | None = None
    ) -> tuple[list[Connection], list[Connection]]:
        """The connections to post to, and those found revoked (closed and forgotten here)."""
        if not push.users:
            return [], []
        targets = [
            c
            for c in self.connections.of_users(push.users, now)
            if c.connection_id not in push.skip_connections
            and c.connection_id not in (already_served or set())
        ]
        revoked = self._revoked(targets)
        if not revoked:
            return targets, []
        # Registered in a race with its session's end: it must hear nothing.
        doomed = [c for c in targets if c.session in revoked]
        self.close(doomed, now)
        return [c for c in targets if c.session not in revoked], doomed

    def settle(
        self, targets: list[Connection], outcomes: Mapping[str, Outcome], now: int
    ) -> tuple[set[str], set[str], list[Connection]]:
        """Delivered connection ids, failed ones, and the gone connections (forgotten here)."""
        delivered = {cid for cid, o in outcomes.items() if o is Outcome.DELIVERED}
        failed = {cid for cid, o in outcomes.items() if o is Outcome.FAILED}
        gone: list[Connection] = []
        for target in targets:
            if outcomes.get(target.connection_id) is Outcome.GONE:
                self.connections.remove(target.connection_id, now)
                gone.append(target)
        return delivered, failed, gone

    def deliver(
        self, push: Push, now: int, already_served: set[str] | None = None
    ) -> tuple[set[str], set[str], list[Connection]]:
        """Delivered connection ids, failed ones, and the gone connections (already forgotten)."""
        targets, revoked = self.targets(push, now, already_served)
        if not targets:
            return set(), set(), revoked
        outcomes = self.pusher.post_many([(c.connection_id, push.payload) for c in targets])
        delivered, failed, gone = self.settle(targets, outcomes, now)
        return delivered, failed, revoked + gone


@dataclass
class RealtimeService:
    connections: ConnectionStore
    pusher: Pusher
    friends: FriendDirectory
    connection_ttl: timedelta
    sessions: Authenticator | None = None
    chats: ChatDirectory | None = None
    deliveries: DeliveryLog | None = None
    revocations: Revocations | None = None
    stream: EventStream | None = None

    @property
    def _fan_out(self) -> FanOut:
        return FanOut(self.connections, self.pusher, self.revocations)

    # -- presence ------------------------------------------------------------------------------
    def _announce(self, user: uuid.UUID, online: bool, now: int) -> None:
        """presence.changed to the user's friends that are online (best effort)."""
        friends = self.friends.friends_of(user)
        if friends:
            payload = frame("presence.changed", {"user_id": str(user), "online": online})
            self._fan_out.deliver(Push(frozenset(friends), payload), now)

    def _forgotten(self, gone: list[Connection], now: int) -> None:
        """Connections a push found gone: a user left with none went offline."""
        for user in {c.user_id for c in gone}:
            if not self.connections.of_users([user], now):
                self._announce(user, False, now)

    # -- WebSocket routes ----------------------------------------------------------------------
    def connect(self, connection_id: str, token: str | None, now: datetime) -> uuid.UUID | None:
        """$connect: the user behind the token, registered; None refuses the connection."""
        if self.sessions is None:
            raise RuntimeError("connect needs the session authenticator")
        identity = self.sessions.identify(token) if token else None
        if identity is None:
            return None
        user, session = identity
        connection = Connection(connection_id, user, epoch(now + self.connection_ttl), session)
        live = self.connections.add(connection, epoch(now))
        # A logout that revoked the session and listed its connections just before the add above
        # could not see this one: look again now that it is stored (revoke happens before the
        # listing, so either the logout closes it or this check refuses it).
        if token is not None and self.sessions.identify(token) is None:
            self.connections.remove(connection_id, epoch(now))
            return None
        if [c.connection_id for c in live] == [connection_id]:  # first device: now online
            try:
                self._announce(user, True, epoch(now))
            except Exception as exc:
                # Presence is a hint: the connection is registered, so it is accepted.
                if not is_unavailable(exc):
                    raise
                logger.warning("Presence not announced", extra={"error": repr(exc)})
        return user

    def disconnect(self, connection_id: str, now: datetime) -> None:
        """$disconnect: forget the connection; the user's last one announces them offline."""
        connection, left = self.connections.remove(connection_id, epoch(now))
        if connection is not None and not left:
            self._announce(connection.user_id, False, epoch(now))

    def typing(self, connection_id: str, chat_id: uuid.UUID, now: datetime) -> bool:
        """`typing` to the chat's other participants; False when the caller may not."""
        if self.chats is None:
            raise RuntimeError("typing needs the chats directory")
        caller = self.connections.get(connection_id)
        if caller is None:
            return False
        # Whoever may not send a message there (not a participant; a direct chat with someone
        # no longer a friend) may not say they are typing one either.
        participants = self.chats.participants_if_may_send(chat_id, caller.user_id)
        if not participants:
            return False
        others = frozenset(p for p in participants if p != caller.user_id)
        payload = frame("typing", {"chat_id": str(chat_id), "user_id": str(caller.user_id)})
        _, _, gone = self._fan_out.deliver(Push(others, payload), epoch(now))
        self._forgotten(gone, epoch(now))
        return True

    # -- sessions ------------------------------------------------------------------------------
    def close_session(self, user: uuid.UUID, session_id: str, now: datetime) -> int:
        """Close every connection opened with this session (logout, revocation); how many."""
        doomed = [
            c for c in self.connections.of_users([user], epoch(now)) if c.session == session_id
        ]
        if doomed:
            # Told first, so the client knows why the socket closes (and not to reconnect with
            # it). Not in the stream: it is addressed to a session that ends here.
            revoked = frame("session.revoked", {"session_id": session_id})
            self.pusher.post_many([(c.connection_id, revoked) for c in doomed])
        for last in self._fan_out.close(doomed, epoch(now)):
            self._announce(last.user_id, False, epoch(now))
        return len(doomed)

    def close_user(self, user: uuid.UUID) -> int:
        """Account deletion (`user.deleted`): forget, then close, every connection of the user;
        how many. Idempotent: the second time there is nothing to forget. Devices (push
        notifications) went with the user's sessions (the session-ended hooks); the user's own
        event stream (the frames addressed to them) is purged here too."""
        ids = self.connections.purge_user(user)
        if ids:
            self.pusher.close_many(ids)  # a socket already gone answers 410: nothing to do
        if self.stream is not None:
            self.stream.purge(user)
        return len(ids)

    # -- events --------------------------------------------------------------------------------
    def _stream_and_deliver(
        self,
        stream: EventStream,
        streamed: StreamedFrame,
        event_id: str,
        push: Push,
        now: int,
        served: set[str],
    ) -> tuple[set[str], set[str], list[Connection]]:
        """Each recipient's frame is posted once it is in their stream, not after everyone's:
        a frame a client sees is always one sync can return, and the first recipients of a
        group message do not wait for the last one's append."""
        targets, revoked = self._fan_out.targets(push, now, served)
        by_user: dict[uuid.UUID, list[Connection]] = {}
        for target in targets:
            by_user.setdefault(target.user_id, []).append(target)
        outcomes: dict[str, Outcome] = {}
        lock = threading.Lock()

        def appended(user: uuid.UUID, position: int) -> None:
            connections = by_user.get(user)
            if not connections:
                return
            payload = streamed.payload(encode_position(position))
            posted = self._fan_out.pusher.post_many(
                [(c.connection_id, payload) for c in connections]
            )
            with lock:
                outcomes.update(posted)

        try:
            stream.append(event_id, dict.fromkeys(push.users, streamed), now, appended)
        except Exception:
            # Some appends failed and the record will be retried: the connections already
            # served are skipped then (the appends that made it keep their positions).
            if self.deliveries is not None:
                with lock:
                    served_now = {c for c, o in outcomes.items() if o is Outcome.DELIVERED}
                self.deliveries.remember(event_id, served_now)
            raise
        delivered, failed, gone = self._fan_out.settle(targets, outcomes, now)
        return delivered, failed, revoked + gone

    def push_event(self, event: EventEnvelope, now: datetime) -> int:
        """Push a chat/friendship event to its recipients' connections; how many got it.

        Raises PushIncompleteError when some connections failed (not gone): the event is retried,
        and the connections served this time are skipped then.
        """
        push = push_for(event, self.chats, self.friends)
        if push is None:
            return 0
        event_id = str(event.id)
        served = self.deliveries.served(event_id) if self.deliveries else set()
        if self.stream is not None and push.streamed is not None and push.users:
            delivered, failed, gone = self._stream_and_deliver(
                self.stream, push.streamed, event_id, push, epoch(now), served
            )
        else:
            delivered, failed, gone = self._fan_out.deliver(push, epoch(now), served)
        self._forgotten(gone, epoch(now))
        if failed:
            if self.deliveries is not None:
                self.deliveries.remember(event_id, delivered)
            raise PushIncompleteError(
                f"{len(failed)} of {len(delivered) + len(failed)} connections failed"
            )
        return len(delivered)
