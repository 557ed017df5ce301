"""An in-memory ChatStore (and friend directory) for the chats use-cases' unit tests.

It keeps the store's contract (API of messenger.chats.service.ChatStore), not its documents:
messages per chat, markers and unread counts per member, reactions in first-reaction order, the
events each write carried (what the Mongo store enqueues in the write's transaction).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from messenger.chats.models import MAX_DISTINCT_REACTIONS, Chat, Message, Reaction
from messenger.chats.service import (
    ChatMembership,
    DeletionRecorder,
    Markers,
    ReactionOutcome,
    ReactionRecorder,
)
from messenger.kernel.errors import NotFound
from messenger.platform.events import OutboundEvent
from messenger.platform.unit_of_work import UnitOfWork
from tests.unit.fakes import in_memory


@dataclass
class StoredMessage:
    message: Message
    reactions: list[tuple[str, list[uuid.UUID]]] = field(default_factory=list)
    hidden_for: set[uuid.UUID] = field(default_factory=set)
    attachment_ids: list[str] = field(default_factory=list)

    def seen_by(self, reader: uuid.UUID | None) -> Message:
        reactions = [
            Reaction(emoji=emoji, count=len(users), me=reader in users)
            for emoji, users in self.reactions
        ]
        return self.message.model_copy(update={"reactions": reactions})


@dataclass
class FakeChatStore:
    chats: dict[uuid.UUID, Chat] = field(default_factory=dict)
    messages: dict[uuid.UUID, dict[uuid.UUID, StoredMessage]] = field(default_factory=dict)
    read: dict[uuid.UUID, dict[uuid.UUID, str]] = field(default_factory=dict)
    delivered: dict[uuid.UUID, dict[uuid.UUID, str]] = field(default_factory=dict)
    unread: dict[uuid.UUID, dict[uuid.UUID, int]] = field(default_factory=dict)
    muted: dict[uuid.UUID, dict[uuid.UUID, datetime | None]] = field(default_factory=dict)
    enqueued: list[OutboundEvent] = field(default_factory=list)

    # -- what the service tests set up -----------------------------------------------------------
    def add_chat(self, chat: Chat) -> None:
        self.chats[chat.chat_id] = chat
        self.messages[chat.chat_id] = {}
        self.read[chat.chat_id], self.delivered[chat.chat_id] = {}, {}
        self.unread[chat.chat_id] = {}
        self.muted[chat.chat_id] = {}

    def stored(self, chat_id: uuid.UUID, message_id: uuid.UUID) -> StoredMessage:
        return self.messages[chat_id][message_id]

    # -- ChatStore -------------------------------------------------------------------------------
    def create(self, chat: Chat, direct_key: str | None, uow: UnitOfWork) -> tuple[Chat, bool]:
        def work(_: None) -> tuple[Chat, bool]:
            self.add_chat(chat)
            return chat, True

        return in_memory(uow, self.enqueued, work)

    def membership(self, chat_id: uuid.UUID) -> ChatMembership | None:
        chat = self.chats.get(chat_id)
        return ChatMembership(chat_id, chat.type, tuple(chat.participants)) if chat else None

    def chats_of(
        self, user: uuid.UUID, limit: int, after: tuple[datetime, str] | None
    ) -> list[tuple[Chat, datetime]]:
        return [(c, c.created_at) for c in self.chats.values() if user in c.participants][:limit]

    def send(
        self,
        message: Message,
        membership: ChatMembership,
        dedupe_key: str,
        uow: UnitOfWork,
        attachments: object = None,  # messages with files: tests/unit/test_media_service.py
        uncounted: Collection[uuid.UUID] = (),
    ) -> tuple[Message, bool]:
        def work(_: None) -> tuple[Message, bool]:
            self.messages[message.chat_id][message.message_id] = StoredMessage(message)
            for other in membership.participants:
                if other != message.author_id and other not in uncounted:
                    counts = self.unread[message.chat_id]
                    counts[other] = counts.get(other, 0) + 1
            return message, True

        return in_memory(uow, self.enqueued, work)

    def history(
        self,
        chat_id: uuid.UUID,
        limit: int,
        before: str | None,
        reader: uuid.UUID | None = None,
        hidden_authors: Collection[uuid.UUID] = (),
    ) -> list[Message]:
        ordered = sorted(self.messages[chat_id].values(), key=lambda s: s.message.message_id)
        found = [
            s.seen_by(reader)
            for s in reversed(ordered)
            if (before is None or str(s.message.message_id) < before)
            and reader not in s.hidden_for
            and s.message.author_id not in hidden_authors
        ]
        return found[:limit]

    def mark_read(
        self,
        chat_id: uuid.UUID,
        user: uuid.UUID,
        message_id: uuid.UUID,
        uow: UnitOfWork,
        hidden_authors: Collection[uuid.UUID] = (),
    ) -> bool:
        if message_id not in self.messages[chat_id]:
            raise NotFound("message_not_found", "no such message")
        marker = str(message_id)

        def work(_: None) -> bool:
            if self.read[chat_id].get(user, "") >= marker:
                return False
            self.read[chat_id][user] = marker
            self.delivered[chat_id][user] = max(self.delivered[chat_id].get(user, ""), marker)
            self.unread[chat_id][user] = sum(
                1
                for s in self.messages[chat_id].values()
                if str(s.message.message_id) > marker
                and s.message.author_id != user
                and s.message.author_id not in hidden_authors
                and user not in s.hidden_for
            )
            return True

        return in_memory(uow, self.enqueued, work, bool)

    def message(
        self, chat_id: uuid.UUID, message_id: uuid.UUID, reader: uuid.UUID
    ) -> Message | None:
        stored = self.messages.get(chat_id, {}).get(message_id)
        return stored.seen_by(reader) if stored else None

    def markers(self, chat_id: uuid.UUID) -> Markers:
        return Markers(
            read=dict(self.read[chat_id]),
            delivered=dict(self.delivered[chat_id]),
            muted=dict(self.muted[chat_id]),
        )

    def set_mute(
        self, chat_id: uuid.UUID, user: uuid.UUID, until: datetime | None, *, muted: bool
    ) -> None:
        if muted:
            self.muted[chat_id][user] = until
        else:
            self.muted[chat_id].pop(user, None)

    def mutes(self, chat_id: uuid.UUID) -> Markers:
        return Markers(muted=dict(self.muted[chat_id]))

    def edit(
        self,
        chat_id: uuid.UUID,
        message_id: uuid.UUID,
        content: str,
        edited_at: datetime,
        reader: uuid.UUID,
        uow: UnitOfWork,
    ) -> Message | None:
        stored = self.messages[chat_id][message_id]

        def work(_: None) -> Message | None:
            if stored.message.deleted or stored.message.kind != "text":
                return None
            stored.message = stored.message.model_copy(
                update={"content": content, "edited_at": edited_at}
            )
            return stored.seen_by(reader)

        return in_memory(uow, self.enqueued, work, lambda edited: edited is not None)

    def delete_for_everyone(
        self, chat_id: uuid.UUID, message_id: uuid.UUID, uow: UnitOfWork, record: DeletionRecorder
    ) -> bool:
        stored = self.messages[chat_id][message_id]

        def work(_: None) -> bool:
            if stored.message.deleted:
                return False
            stored.message = stored.message.model_copy(update={"deleted": True, "content": None})
            held, stored.attachment_ids, stored.reactions = stored.attachment_ids, [], []
            record(held)
            return True

        return in_memory(uow, self.enqueued, work, bool)

    # -- account deletion ------------------------------------------------------------------------
    def chats_of_member(self, user: uuid.UUID) -> list[ChatMembership]:
        return [
            ChatMembership(c.chat_id, c.type, tuple(c.participants))
            for c in self.chats.values()
            if user in c.participants
        ]

    def authored_live(self, chat_id: uuid.UUID, user: uuid.UUID) -> list[uuid.UUID]:
        return [
            mid
            for mid, stored in self.messages[chat_id].items()
            if stored.message.author_id == user and not stored.message.deleted
        ]

    def authored(self, chat_id: uuid.UUID, user: uuid.UUID) -> list[Message]:
        return [s.message for s in self.messages[chat_id].values() if s.message.author_id == user]

    def leave(self, chat_id: uuid.UUID, user: uuid.UUID) -> bool:
        chat = self.chats[chat_id]
        if user not in chat.participants:
            return False
        chat.participants = [p for p in chat.participants if p != user]
        for markers in (self.read, self.delivered, self.unread):
            markers[chat_id].pop(user, None)
        return True

    def forget_published_events(self, user: uuid.UUID) -> int:
        return 0

    def hide_for(self, chat_id: uuid.UUID, message_id: uuid.UUID, user: uuid.UUID) -> bool:
        stored = self.messages[chat_id][message_id]
        if user in stored.hidden_for:
            return False
        stored.hidden_for.add(user)
        unread = str(message_id) > self.read[chat_id].get(user, "")
        if stored.message.author_id != user and unread:
            self.unread[chat_id][user] = max(0, self.unread[chat_id].get(user, 0) - 1)
        return True

    def add_reaction(
        self,
        chat_id: uuid.UUID,
        message_id: uuid.UUID,
        user: uuid.UUID,
        emoji: str,
        uow: UnitOfWork,
        record: ReactionRecorder,
    ) -> ReactionOutcome:
        def work(_: None) -> ReactionOutcome:
            stored = self.messages.get(chat_id, {}).get(message_id)
            if stored is None:
                return "no_message"
            if stored.message.deleted:
                return "deleted"
            users = next((u for e, u in stored.reactions if e == emoji), None)
            if users is not None and user in users:
                return "unchanged"
            if users is None:
                if len(stored.reactions) >= MAX_DISTINCT_REACTIONS:
                    return "full"
                users = []
                stored.reactions.append((emoji, users))
            users.append(user)
            record(len(users))
            return "changed"

        return in_memory(uow, self.enqueued, work, lambda outcome: outcome == "changed")

    def remove_reaction(
        self,
        chat_id: uuid.UUID,
        message_id: uuid.UUID,
        user: uuid.UUID,
        emoji: str,
        uow: UnitOfWork,
        record: ReactionRecorder,
    ) -> ReactionOutcome:
        def work(_: None) -> ReactionOutcome:
            stored = self.messages.get(chat_id, {}).get(message_id)
            if stored is None:
                return "no_message"
            users = next((u for e, u in stored.reactions if e == emoji), None)
            if users is None or user not in users:
                return "unchanged"
            users.remove(user)
            if not users:
                stored.reactions = [(e, u) for e, u in stored.reactions if e != emoji]
            record(len(users))
            return "changed"

        return in_memory(uow, self.enqueued, work, lambda outcome: outcome == "changed")

    def mark_delivered(
        self, chat_id: uuid.UUID, user: uuid.UUID, message_id: uuid.UUID, uow: UnitOfWork
    ) -> bool:
        if message_id not in self.messages[chat_id]:
            raise NotFound("message_not_found", "no such message")

        def work(_: None) -> bool:
            if (self.markers(chat_id).delivered_up_to(user) or "") >= str(message_id):
                return False
            self.delivered[chat_id][user] = str(message_id)
            return True

        return in_memory(uow, self.enqueued, work, bool)

    def chat_with_markers(
        self, chat_id: uuid.UUID, reader: uuid.UUID
    ) -> tuple[Chat, Markers] | None:
        chat = self.chats.get(chat_id)
        if chat is None:
            return None
        seen = chat.model_copy(update={"unread_count": self.unread[chat_id].get(reader, 0)})
        return seen, self.markers(chat_id)


@dataclass
class FakeFriends:
    """Everyone is everyone's friend, except the pairs listed."""

    strangers: set[frozenset[uuid.UUID]] = field(default_factory=set)
    blocks: set[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=set)  # (blocker, blocked)

    def block(self, blocker: uuid.UUID, blocked: uuid.UUID) -> None:
        """As the friends context does: the block ends the friendship."""
        self.blocks.add((blocker, blocked))
        self.strangers.add(frozenset((blocker, blocked)))

    def are_friends(self, a: uuid.UUID, b: uuid.UUID) -> bool:
        return frozenset((a, b)) not in self.strangers

    def either_blocked(self, a: uuid.UUID, b: uuid.UUID) -> bool:
        return (a, b) in self.blocks or (b, a) in self.blocks

    def who_blocked(self, author: uuid.UUID, among: Collection[uuid.UUID]) -> set[uuid.UUID]:
        return {u for u in among if (u, author) in self.blocks}

    def blocked_by(self, user: uuid.UUID) -> set[uuid.UUID]:
        return {blocked for blocker, blocked in self.blocks if blocker == user}

    def non_friends_of(self, user: uuid.UUID, candidates: Sequence[uuid.UUID]) -> list[uuid.UUID]:
        return [c for c in candidates if not self.are_friends(user, c)]
