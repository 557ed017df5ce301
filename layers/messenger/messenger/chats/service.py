"""Chats use-cases: create, list, send, history, mark read. Authorization happens here.

Only participants read or write a chat (403 not_participant); a direct chat needs its two users
to still be friends; creating a chat needs friendship with every other participant. Those checks
read the chat's cached membership and the friends context's cached friend sets: on a warm
execution environment, SendMessage's checks touch Redis only.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from uuid6 import uuid7

from messenger.chats.events import ChatCreated, ChatRead, MessageSent
from messenger.chats.models import Chat, CreateChatRequest, Message, SendMessageRequest
from messenger.kernel.clock import utcnow
from messenger.kernel.errors import Forbidden, InvalidInput, NotFound
from messenger.kernel.pagination import ACTIVITY_KEY, UUID_KEY, Page, decode_cursor, encode_cursor
from messenger.platform.ratelimit import CREATE_CHAT, SEND_MESSAGE, RateLimiter
from messenger.platform.unit_of_work import EventOutbox as EventOutbox  # for the wiring
from messenger.platform.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from messenger.kernel.context import RequestContext
    from messenger.media.api import Attachment


@dataclass(frozen=True)
class ChatMembership:
    """What every authorization check needs; immutable once the chat exists, so cacheable."""

    chat_id: uuid.UUID
    type: Literal["direct", "group"]
    participants: tuple[uuid.UUID, ...]


class ChatStore(Protocol):
    """Each write commits the events recorded in `uow` with its change (transact), and only
    then: a change that does not happen (an existing pair, a duplicate, a marker already
    there) commits none."""

    def create(self, chat: Chat, direct_key: str | None, uow: UnitOfWork) -> tuple[Chat, bool]:
        """Insert the chat; for a direct pair that already has a chat, return that one instead
        (False: not created)."""

    def membership(self, chat_id: uuid.UUID) -> ChatMembership | None: ...

    def chats_of(
        self, user: uuid.UUID, limit: int, after: tuple[datetime, str] | None
    ) -> list[tuple[Chat, datetime]]:
        """The user's chats, most recent activity first, each with its activity time."""

    def send(
        self,
        message: Message,
        membership: ChatMembership,
        dedupe_key: str,
        uow: UnitOfWork,
        attachments: PreparedAttachments | None = None,
    ) -> tuple[Message, bool]:
        """Store the message and update the chat (last message, unread counts), atomically; if
        (chat, author, dedupe_key) exists, return the original (False). The message embeds
        `attachments.documents` and claims their uploads in that transaction."""

    def history(self, chat_id: uuid.UUID, limit: int, before: str | None) -> list[Message]: ...

    def mark_read(
        self, chat_id: uuid.UUID, user: uuid.UUID, message_id: uuid.UUID, uow: UnitOfWork
    ) -> bool:
        """Move the user's read marker forward to message_id and recount unread; False if the
        marker was already there or later. Raises NotFound if the message is not in the chat."""


class FriendDirectory(Protocol):
    def are_friends(self, a: uuid.UUID, b: uuid.UUID) -> bool: ...

    def non_friends_of(
        self, user: uuid.UUID, candidates: Sequence[uuid.UUID]
    ) -> list[uuid.UUID]: ...


class PreparedAttachments(Protocol):
    """A message's files, checked and copied into place by the media context."""

    @property
    def documents(self) -> list[dict[str, Any]]: ...

    @property
    def attachments(self) -> list[Attachment]: ...

    def claim(self, session: Any) -> None:
        """Inside the message's transaction: mark the uploads used (raises if one was)."""

    def release(self) -> None:
        """The message was not stored: drop what was copied for it."""


class AttachmentClaims(Protocol):
    """messenger.media.api: uploads become a message's attachments."""

    def prepare_attachments(
        self,
        owner: uuid.UUID,
        upload_ids: Sequence[uuid.UUID],
        chat_id: uuid.UUID,
        message_id: uuid.UUID,
        dedupe_key: str,
    ) -> PreparedAttachments: ...


def new_message_id() -> uuid.UUID:
    """UUIDv7: ids sort by creation time, so history pages by id (RFC 9562, via uuid6)."""
    return uuid.UUID(int=uuid7().int)


def direct_key(a: uuid.UUID, b: uuid.UUID) -> str:
    low, high = sorted((a, b))
    return f"{low}:{high}"


def ensure_may_send(membership: ChatMembership, user: uuid.UUID, friends: FriendDirectory) -> None:
    """Who may send in a chat (and so say they are typing): a participant, and in a direct chat
    only while the two are still friends. Raises Forbidden otherwise."""
    if user not in membership.participants:
        raise Forbidden("not_participant", "You are not a participant of this chat")
    if membership.type == "direct":
        other = next(p for p in membership.participants if p != user)
        if not friends.are_friends(user, other):
            raise Forbidden("not_friends", "You are no longer friends with this user")


@dataclass
class ChatsService:
    store: ChatStore
    friends: FriendDirectory
    outbox: EventOutbox
    limiter: RateLimiter
    attachments: AttachmentClaims | None = None

    def _member_of(self, chat_id: uuid.UUID, caller: uuid.UUID) -> ChatMembership:
        membership = self.store.membership(chat_id)
        if membership is None:
            raise NotFound("chat_not_found", "No chat has this id")
        if caller not in membership.participants:
            raise Forbidden("not_participant", "You are not a participant of this chat")
        return membership

    def create(self, ctx: RequestContext, request: CreateChatRequest) -> tuple[Chat, bool]:
        caller = ctx.caller
        self.limiter.acquire(CREATE_CHAT, str(caller))
        others = [p for p in request.participants if p != caller]
        if not others:
            raise InvalidInput(
                "validation_failed",
                "A chat needs someone besides you",
                errors=[{"field": "participants", "message": "must name another user"}],
            )
        strangers = self.friends.non_friends_of(caller, others)
        if strangers:
            raise Forbidden(
                "not_friends",
                "Every other participant must be your friend",
                non_friends=[str(s) for s in strangers],
            )
        kind: Literal["direct", "group"] = "direct" if len(others) == 1 else "group"
        chat = Chat(
            chat_id=uuid.uuid4(),
            type=kind,
            title=request.title if kind == "group" else None,
            participants=[caller, *others],
            created_by=caller,
            created_at=utcnow(),
            last_message=None,
            unread_count=0,
        )
        key = direct_key(caller, others[0]) if kind == "direct" else None
        with UnitOfWork(self.outbox, ctx.correlation_id) as uow:
            uow.record(
                ChatCreated(
                    chat_id=chat.chat_id,
                    type=chat.type,
                    participants=chat.participants,
                    created_by=caller,
                    created_at=chat.created_at,
                )
            )
            return self.store.create(chat, key, uow)

    def chats(self, ctx: RequestContext, limit: int, cursor: str | None) -> Page[Chat]:
        after = None
        if cursor:
            activity, chat_id = decode_cursor(cursor, ACTIVITY_KEY)
            after = (activity, str(chat_id))
        found = self.store.chats_of(ctx.caller, limit + 1, after)
        page = found[:limit]
        next_cursor = None
        if len(found) > limit:
            chat, activity = page[-1]
            next_cursor = encode_cursor([activity.isoformat(), str(chat.chat_id)])
        return Page[Chat](items=[chat for chat, _ in page], next_cursor=next_cursor)

    def send(
        self, ctx: RequestContext, chat_id: uuid.UUID, request: SendMessageRequest
    ) -> tuple[Message, bool]:
        """A retry with the same client_message_id answers the original (False) and, its
        transaction refused, publishes nothing."""
        caller = ctx.caller
        self.limiter.acquire(SEND_MESSAGE, str(caller))
        membership = self._member_of(chat_id, caller)
        ensure_may_send(membership, caller, self.friends)
        message_id = new_message_id()
        dedupe_key = request.client_message_id or str(message_id)
        prepared = self._prepare_attachments(caller, request, chat_id, message_id, dedupe_key)
        message = Message(
            message_id=message_id,
            chat_id=chat_id,
            author_id=caller,
            content=request.content,
            created_at=utcnow(),
            client_message_id=request.client_message_id,
            attachments=prepared.attachments if prepared else [],
        )
        with UnitOfWork(self.outbox, ctx.correlation_id) as uow:
            uow.record(
                MessageSent(**message.model_dump(), participants=list(membership.participants))
            )
            try:
                result, created = self.store.send(message, membership, dedupe_key, uow, prepared)
            except BaseException:
                if prepared:
                    prepared.release()
                raise
        if not created and prepared:
            prepared.release()  # a retry: the original message keeps its own files
        return result, created

    def _prepare_attachments(
        self,
        caller: uuid.UUID,
        request: SendMessageRequest,
        chat_id: uuid.UUID,
        message_id: uuid.UUID,
        dedupe_key: str,
    ) -> PreparedAttachments | None:
        if not request.attachment_ids:
            return None
        if self.attachments is None:
            raise RuntimeError("this chats service takes no attachments")
        return self.attachments.prepare_attachments(
            caller, request.attachment_ids, chat_id, message_id, dedupe_key
        )

    def history(
        self, ctx: RequestContext, chat_id: uuid.UUID, limit: int, cursor: str | None
    ) -> Page[Message]:
        self._member_of(chat_id, ctx.caller)
        before = str(decode_cursor(cursor, UUID_KEY)) if cursor else None
        found = self.store.history(chat_id, limit + 1, before)
        items = found[:limit]
        more = len(found) > limit
        return Page[Message](
            items=items, next_cursor=encode_cursor(str(items[-1].message_id)) if more else None
        )

    def mark_read(self, ctx: RequestContext, chat_id: uuid.UUID, message_id: uuid.UUID) -> None:
        """A marker that does not move (already there or later) publishes nothing."""
        caller = ctx.caller
        membership = self._member_of(chat_id, caller)
        with UnitOfWork(self.outbox, ctx.correlation_id) as uow:
            uow.record(
                ChatRead(
                    chat_id=chat_id,
                    user_id=caller,
                    message_id=message_id,
                    at=utcnow(),
                    participants=list(membership.participants),
                )
            )
            self.store.mark_read(chat_id, caller, message_id, uow)
