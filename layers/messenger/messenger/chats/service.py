"""Chats use-cases: create, list, send, history, mark read; edit, delete, react, mark
delivered, read one chat. Authorization happens here.

Only participants read or write a chat (403 not_participant); a direct chat needs its two users
to still be friends; creating a chat needs friendship with every other participant. Those checks
read the chat's cached membership and the friends context's cached friend sets: on a warm
execution environment, SendMessage's checks touch Redis only.

Only the author edits a message; the author (and, once groups have roles, a group admin or owner:
`may_delete_for_everyone`) deletes it for everyone, as a tombstone that keeps its place in
history. The `status` of the reader's own messages comes from the chat's read and delivered
markers (`Markers`), read once per page.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from uuid6 import uuid7

from messenger.chats.events import (
    ChatCreated,
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
from messenger.chats.models import (
    MAX_DISTINCT_REACTIONS,
    Chat,
    ChatDetails,
    CreateChatRequest,
    DeleteScope,
    Member,
    Message,
    MessageStatus,
    SendMessageRequest,
)
from messenger.kernel.clock import utcnow
from messenger.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from messenger.kernel.pagination import ACTIVITY_KEY, UUID_KEY, Page, decode_cursor, encode_cursor
from messenger.platform.ratelimit import CREATE_CHAT, SEND_MESSAGE, RateLimiter
from messenger.platform.unit_of_work import EventOutbox as EventOutbox  # for the wiring
from messenger.platform.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from messenger.chats.groups import GroupChange, GroupState
    from messenger.kernel.context import RequestContext
    from messenger.media.api import Attachment

# Events decided inside the store's transaction (recorded into the use-case's unit of work there):
# a reaction's, given that emoji's count once the change is made; a deletion's, given the ids of
# the attachments the message held.
ReactionRecorder = Callable[[int], None]
DeletionRecorder = Callable[[list[str]], None]
# What a reaction change came to (the store's answer; the service turns refusals into errors).
ReactionOutcome = Literal["changed", "unchanged", "no_message", "deleted", "full"]


@dataclass(frozen=True)
class ChatMembership:
    """What every authorization check needs, cached (and dropped on every group change)."""

    chat_id: uuid.UUID
    type: Literal["direct", "group"]
    participants: tuple[uuid.UUID, ...]
    owner: uuid.UUID | None = None
    admins: frozenset[uuid.UUID] = frozenset()


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
        uncounted: Collection[uuid.UUID] = (),
    ) -> tuple[Message, bool]:
        """Store the message and update the chat (last message, unread counts but those of
        `uncounted`: who blocked the author), atomically; if (chat, author, dedupe_key) exists,
        return the original (False). The message embeds `attachments.documents` and claims
        their uploads in that transaction."""

    def history(
        self,
        chat_id: uuid.UUID,
        limit: int,
        before: str | None,
        reader: uuid.UUID | None = None,
        hidden_authors: Collection[uuid.UUID] = (),
    ) -> list[Message]:
        """Newest first below `before`, as `reader` sees them (reactions' `me`; the messages
        they deleted for themselves and those of `hidden_authors`, whom they blocked, left
        out: the latter inside the same range query)."""

    def mark_read(
        self,
        chat_id: uuid.UUID,
        user: uuid.UUID,
        message_id: uuid.UUID,
        uow: UnitOfWork,
        hidden_authors: Collection[uuid.UUID] = (),
    ) -> bool:
        """Move the user's read marker forward to message_id and recount unread; False if the
        marker was already there or later. Raises NotFound if the message is not in the chat."""

    # -- edit, delete, reactions, receipts, one chat --------------------------------------------
    def message(
        self, chat_id: uuid.UUID, message_id: uuid.UUID, reader: uuid.UUID
    ) -> Message | None:
        """The message if it is in the chat (whoever it is hidden for)."""

    def markers(self, chat_id: uuid.UUID) -> Markers:
        """Every member's read and delivered markers (one read of the chat)."""

    def edit(
        self,
        chat_id: uuid.UUID,
        message_id: uuid.UUID,
        content: str,
        edited_at: datetime,
        reader: uuid.UUID,
        uow: UnitOfWork,
    ) -> Message | None:
        """Replace the content of a text message that is not deleted (the chat's last message
        copy too) with its events, atomically; None if it is no longer editable."""

    def delete_for_everyone(
        self, chat_id: uuid.UUID, message_id: uuid.UUID, uow: UnitOfWork, record: DeletionRecorder
    ) -> bool:
        """Turn it into a tombstone (content, reactions and attachments cleared), calling
        `record` with the attachments it held inside the transaction; False if it already was
        one."""

    def hide_for(self, chat_id: uuid.UUID, message_id: uuid.UUID, user: uuid.UUID) -> bool:
        """Leave it out of the user's history (and unread count, if it was unread); False if it
        already was."""

    def add_reaction(
        self,
        chat_id: uuid.UUID,
        message_id: uuid.UUID,
        user: uuid.UUID,
        emoji: str,
        uow: UnitOfWork,
        record: ReactionRecorder,
    ) -> ReactionOutcome:
        """Add the user's emoji, atomically, calling `record` with the emoji's count when it
        changed something: at most MAX_DISTINCT_REACTIONS distinct emoji ("full"), none on a
        tombstone ("deleted")."""

    def remove_reaction(
        self,
        chat_id: uuid.UUID,
        message_id: uuid.UUID,
        user: uuid.UUID,
        emoji: str,
        uow: UnitOfWork,
        record: ReactionRecorder,
    ) -> ReactionOutcome: ...

    def mark_delivered(
        self, chat_id: uuid.UUID, user: uuid.UUID, message_id: uuid.UUID, uow: UnitOfWork
    ) -> bool:
        """Move the user's delivered marker forward (never behind the read marker); False if
        it (or the read marker) was already there. Raises NotFound if the message is not in
        the chat."""

    def chat_with_markers(
        self, chat_id: uuid.UUID, reader: uuid.UUID
    ) -> tuple[Chat, Markers] | None:
        """The chat as `reader` sees it and its members' markers (and mutes), in one read."""

    def set_mute(
        self, chat_id: uuid.UUID, user: uuid.UUID, until: datetime | None, *, muted: bool
    ) -> None:
        """Mute the chat for the user until then (None: until unmuted), or (muted=False) lift
        the mute."""

    def mutes(self, chat_id: uuid.UUID) -> Markers:
        """The members' mutes (the markers left empty), one read."""

    def change_group(
        self,
        chat_id: uuid.UUID,
        decide: Callable[[GroupState], GroupChange],
        by: uuid.UUID,
        now: datetime,
        uow: UnitOfWork,
        record: Callable[[GroupChange], None],
    ) -> GroupChange:
        """Under the chat's version: read the group, decide, write the decision (members,
        roles, title, its system messages by `by` at `now`; the chat deleted if it ends),
        calling `record` with it inside the transaction; decide again if the chat changed in
        between. Raises NotFound for an unknown chat and what `decide` raises."""

    # -- account deletion ----------------------------------------------------------------------
    def chats_of_member(self, user: uuid.UUID) -> list[ChatMembership]:
        """Every chat the user is a participant of (with its participants)."""

    def authored_live(self, chat_id: uuid.UUID, user: uuid.UUID) -> list[uuid.UUID]:
        """The ids of the user's messages in the chat that are not tombstones yet."""

    def authored(self, chat_id: uuid.UUID, user: uuid.UUID) -> list[Message]:
        """The user's messages in the chat, oldest first (a data export)."""

    def leave(self, chat_id: uuid.UUID, user: uuid.UUID) -> bool:
        """Take the user out of the chat (counters, markers, cached membership)."""

    def forget_published_events(self, user: uuid.UUID) -> int:
        """Drop the already relayed outbox copies of the user's message events."""


class FriendDirectory(Protocol):
    def are_friends(self, a: uuid.UUID, b: uuid.UUID) -> bool: ...

    def either_blocked(self, a: uuid.UUID, b: uuid.UUID) -> bool: ...

    def who_blocked(self, author: uuid.UUID, among: Collection[uuid.UUID]) -> set[uuid.UUID]: ...

    def blocked_by(self, user: uuid.UUID) -> set[uuid.UUID]: ...

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
            if friends.either_blocked(user, other):  # asked only off the hot path
                raise Forbidden("blocked", "One of you blocked the other")
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
        if request.reply_to is not None:
            self._ensure_reply_target(chat_id, request.reply_to, caller)
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
            reply_to=request.reply_to,
            attachments=prepared.attachments if prepared else [],
        )
        # In a group, whoever blocked the author does not count it unread (a direct chat with a
        # block refuses the send above). One cached read of the author's blocks.
        uncounted = (
            self.friends.who_blocked(caller, membership.participants)
            if membership.type == "group"
            else set()
        )
        with UnitOfWork(self.outbox, ctx.correlation_id) as uow:
            uow.record(
                MessageSent(**message.model_dump(), participants=list(membership.participants))
            )
            try:
                result, created = self.store.send(
                    message, membership, dedupe_key, uow, prepared, uncounted=uncounted
                )
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
        caller = ctx.caller
        membership = self._member_of(chat_id, caller)
        before = str(decode_cursor(cursor, UUID_KEY)) if cursor else None
        # Whom the reader blocked: left out of a group's history (a direct chat's messages
        # predate the block, and stay).
        hidden = self.friends.blocked_by(caller) if membership.type == "group" else set()
        found = self.store.history(chat_id, limit + 1, before, caller, hidden_authors=hidden)
        items = found[:limit]
        more = len(found) > limit
        if any(m.author_id == caller for m in items):  # their status: one read of the markers
            markers = self.store.markers(chat_id)
            items = markers.with_status(items, caller, membership.participants)
        return Page[Message](
            items=items, next_cursor=encode_cursor(str(items[-1].message_id)) if more else None
        )

    def mark_read(self, ctx: RequestContext, chat_id: uuid.UUID, message_id: uuid.UUID) -> None:
        """A marker that does not move (already there or later) publishes nothing. The recount
        leaves out, in a group, the messages of whom the reader blocked (they never count)."""
        membership = self._member_of(chat_id, ctx.caller)
        hidden = self.friends.blocked_by(ctx.caller) if membership.type == "group" else set()

        def move(chat: uuid.UUID, user: uuid.UUID, message: uuid.UUID, uow: UnitOfWork) -> bool:
            return self.store.mark_read(chat, user, message, uow, hidden_authors=hidden)

        self._move_marker(ctx, chat_id, message_id, ChatRead, move, membership)

    def _move_marker(
        self,
        ctx: RequestContext,
        chat_id: uuid.UUID,
        message_id: uuid.UUID,
        event: type[ChatRead] | type[ChatDelivered],
        move: Callable[[uuid.UUID, uuid.UUID, uuid.UUID, UnitOfWork], bool],
        membership: ChatMembership | None = None,
    ) -> None:
        """Read and delivered markers: the event is committed only if `move` moved the marker."""
        caller = ctx.caller
        membership = membership or self._member_of(chat_id, caller)
        with UnitOfWork(self.outbox, ctx.correlation_id) as uow:
            uow.record(
                event(
                    chat_id=chat_id,
                    user_id=caller,
                    message_id=message_id,
                    at=utcnow(),
                    participants=list(membership.participants),
                )
            )
            move(chat_id, caller, message_id, uow)

    # -- edit, delete, reactions, receipts, one chat ----------------------------------------------
    def _ensure_reply_target(
        self, chat_id: uuid.UUID, reply_to: uuid.UUID, caller: uuid.UUID
    ) -> None:
        if self.store.message(chat_id, reply_to, caller) is None:
            raise InvalidInput(
                "invalid_reply",
                "reply_to must name a message of this chat",
                errors=[{"field": "reply_to", "message": "not a message of this chat"}],
            )

    def _message_of(
        self, chat_id: uuid.UUID, message_id: uuid.UUID, caller: uuid.UUID
    ) -> tuple[ChatMembership, Message]:
        membership = self._member_of(chat_id, caller)
        message = self.store.message(chat_id, message_id, caller)
        if message is None:
            raise NotFound("message_not_found", "This chat has no message with this id")
        return membership, message

    def edit(
        self, ctx: RequestContext, chat_id: uuid.UUID, message_id: uuid.UUID, content: str
    ) -> Message:
        caller = ctx.caller
        membership, message = self._message_of(chat_id, message_id, caller)
        if message.author_id != caller:
            raise Forbidden("not_author", "Only the author may edit this message")
        if message.deleted or message.kind != "text":
            raise _not_editable()
        edited_at = utcnow()
        with UnitOfWork(self.outbox, ctx.correlation_id) as uow:
            uow.record(
                MessageEdited(
                    chat_id=chat_id,
                    message_id=message_id,
                    author_id=caller,
                    content=content,
                    edited_at=edited_at,
                    participants=list(membership.participants),
                )
            )
            edited = self.store.edit(chat_id, message_id, content, edited_at, caller, uow)
        if edited is None:  # deleted meanwhile
            raise _not_editable()
        markers = self.store.markers(chat_id)
        return markers.with_status([edited], caller, membership.participants)[0]

    def delete(
        self, ctx: RequestContext, chat_id: uuid.UUID, message_id: uuid.UUID, scope: DeleteScope
    ) -> None:
        caller = ctx.caller
        membership, message = self._message_of(chat_id, message_id, caller)
        if scope == "me":
            self.store.hide_for(chat_id, message_id, caller)  # no event: nobody else sees it
            return
        if not may_delete_for_everyone(membership, caller, message):
            raise Forbidden("not_author", "Only the author may delete this message for everyone")
        with UnitOfWork(self.outbox, ctx.correlation_id) as uow:

            def record(attachment_ids: list[str]) -> None:
                uow.record(
                    MessageDeleted(
                        chat_id=chat_id,
                        message_id=message_id,
                        author_id=message.author_id,
                        deleted_by=caller,
                        at=utcnow(),
                        attachment_ids=attachment_ids,
                        participants=list(membership.participants),
                    )
                )

            self.store.delete_for_everyone(chat_id, message_id, uow, record)

    def react(
        self,
        ctx: RequestContext,
        chat_id: uuid.UUID,
        message_id: uuid.UUID,
        emoji: str,
        add: bool,
    ) -> None:
        """Add (or remove) the caller's emoji; idempotent, and only a change publishes."""
        caller = ctx.caller
        membership = self._member_of(chat_id, caller)
        kind = ReactionAdded if add else ReactionRemoved
        with UnitOfWork(self.outbox, ctx.correlation_id) as uow:

            def record(count: int) -> None:
                uow.record(
                    kind(
                        chat_id=chat_id,
                        message_id=message_id,
                        user_id=caller,
                        emoji=emoji,
                        count=count,
                        at=utcnow(),
                        participants=list(membership.participants),
                    )
                )

            change = self.store.add_reaction if add else self.store.remove_reaction
            outcome = change(chat_id, message_id, caller, emoji, uow, record)
        if outcome == "no_message":
            raise NotFound("message_not_found", "This chat has no message with this id")
        if outcome == "deleted":
            raise _not_editable("A deleted message takes no reactions")
        if outcome == "full":
            raise Conflict(
                "too_many_reactions",
                f"A message has at most {MAX_DISTINCT_REACTIONS} distinct reactions",
            )

    def mark_delivered(
        self, ctx: RequestContext, chat_id: uuid.UUID, message_id: uuid.UUID
    ) -> None:
        """A marker that does not move (already there, or read up to there) publishes nothing."""
        self._move_marker(ctx, chat_id, message_id, ChatDelivered, self.store.mark_delivered)

    def chat(self, ctx: RequestContext, chat_id: uuid.UUID) -> ChatDetails:
        """One chat with its members and their markers: one read of the chat document (its
        membership check included)."""
        return self._details(ctx, chat_id, member_check=True)

    def _chat_after_change(self, ctx: RequestContext, chat_id: uuid.UUID) -> ChatDetails:
        """The chat as it stands after the caller's committed change. No membership check: a
        concurrent removal or leave may have taken the caller out since, and the change still
        happened, so its answer is the 200 with the chat, not a 403 that says it did not."""
        return self._details(ctx, chat_id, member_check=False)

    def _details(self, ctx: RequestContext, chat_id: uuid.UUID, member_check: bool) -> ChatDetails:
        caller = ctx.caller
        found = self.store.chat_with_markers(chat_id, caller)
        if found is None:
            raise NotFound("chat_not_found", "No chat has this id")
        chat, markers = found
        if member_check and caller not in chat.participants:
            raise Forbidden("not_participant", "You are not a participant of this chat")
        last = chat.last_message
        if last is not None:
            last = markers.with_status([last], caller, chat.participants)[0]
        members = [
            Member(
                user_id=user,
                role=markers.roles.get(user) or role_of(chat, user),
                joined_at=markers.joined.get(user) or chat.created_at,
                read_up_to=_as_id(markers.read_up_to(user)),
                delivered_up_to=_as_id(markers.delivered_up_to(user)),
            )
            for user in chat.participants
        ]
        muted, until = markers.mute_of(caller, utcnow())
        return ChatDetails.model_validate(
            {
                **dict(chat),
                "last_message": last,
                "members": members,
                "muted_until": until,
                "muted": muted,
            }
        )

    # -- mute ------------------------------------------------------------------------------------
    def mute(self, ctx: RequestContext, chat_id: uuid.UUID, until: datetime | None) -> None:
        """Idempotent; a later PUT replaces the mute. No event: only the caller's devices care,
        and the notifier reads mutes when it notifies (ChatsApi.muted_members)."""
        self._member_of(chat_id, ctx.caller)
        if until is not None and until <= utcnow():
            raise InvalidInput(
                "validation_failed",
                "A mute ends in the future",
                errors=[{"field": "until", "message": "must be in the future (or null)"}],
            )
        self.store.set_mute(chat_id, ctx.caller, until, muted=True)

    def unmute(self, ctx: RequestContext, chat_id: uuid.UUID) -> None:
        self._member_of(chat_id, ctx.caller)
        self.store.set_mute(chat_id, ctx.caller, None, muted=False)

    # -- groups: members, roles, title (messenger.chats.groups decides) --------------------------
    def _change_group(
        self, ctx: RequestContext, chat_id: uuid.UUID, decide: Callable[[GroupState], GroupChange]
    ) -> GroupChange:
        """One group change with its events and system messages, in one transaction."""
        caller, now = ctx.caller, utcnow()
        with UnitOfWork(self.outbox, ctx.correlation_id) as uow:

            def record(change: GroupChange) -> None:
                members = list(change.after.participants) if change.after else []
                if change.added:
                    uow.record(
                        ChatMemberAdded(
                            chat_id=chat_id,
                            user_ids=list(change.added),
                            by=caller,
                            at=now,
                            participants=members,
                        )
                    )
                if change.removed:
                    uow.record(
                        ChatMemberRemoved(
                            chat_id=chat_id,
                            user_ids=list(change.removed),
                            by=caller,
                            at=now,
                            participants=members,
                        )
                    )
                if (change.title_changed or change.roles_changed) and change.after:
                    uow.record(
                        ChatUpdated(
                            chat_id=chat_id,
                            title=change.after.title,
                            by=caller,
                            at=now,
                            participants=members,
                        )
                    )

            return self.store.change_group(chat_id, decide, caller, now, uow, record)

    def rename(self, ctx: RequestContext, chat_id: uuid.UUID, title: str) -> ChatDetails:
        from messenger.chats.groups import decide_title

        self._change_group(ctx, chat_id, lambda state: decide_title(state, ctx.caller, title))
        return self._chat_after_change(ctx, chat_id)

    def add_members(
        self, ctx: RequestContext, chat_id: uuid.UUID, user_ids: Sequence[uuid.UUID]
    ) -> ChatDetails:
        """Each new member is an accepted friend of the caller who has not blocked them (both
        from cached sets, checked before the transaction: friendship is the friends context's)."""
        from messenger.chats.groups import decide_add

        caller = ctx.caller
        membership = self._member_of(chat_id, caller)
        new = [u for u in user_ids if u not in membership.participants]
        refused = set(self.friends.non_friends_of(caller, new)) | self.friends.who_blocked(
            caller, new
        )
        if refused:
            raise Forbidden(
                "not_friends",
                "Every added user must be your friend",
                non_friends=[str(u) for u in new if u in refused],
            )
        now = utcnow()
        self._change_group(ctx, chat_id, lambda state: decide_add(state, caller, new, now))
        return self._chat_after_change(ctx, chat_id)

    def remove_member(self, ctx: RequestContext, chat_id: uuid.UUID, user: uuid.UUID) -> None:
        from messenger.chats.groups import decide_remove

        self._change_group(ctx, chat_id, lambda state: decide_remove(state, ctx.caller, user))

    def set_role(
        self,
        ctx: RequestContext,
        chat_id: uuid.UUID,
        user: uuid.UUID,
        role: Literal["admin", "member"],
    ) -> ChatDetails:
        from messenger.chats.groups import decide_role

        self._change_group(ctx, chat_id, lambda state: decide_role(state, ctx.caller, user, role))
        return self._chat_after_change(ctx, chat_id)

    def hand_over(self, ctx: RequestContext, chat_id: uuid.UUID, user: uuid.UUID) -> ChatDetails:
        from messenger.chats.groups import decide_owner

        self._change_group(ctx, chat_id, lambda state: decide_owner(state, ctx.caller, user))
        return self._chat_after_change(ctx, chat_id)


@dataclass(frozen=True)
class Markers:
    """Each member's read and delivered markers (message ids; ids sort by time). Reading implies
    delivery: a member's delivered marker is never behind their read marker."""

    read: Mapping[uuid.UUID, str] = field(default_factory=dict)
    delivered: Mapping[uuid.UUID, str] = field(default_factory=dict)
    # Members' roles and when each joined (read with the markers: GET chat stays one read).
    roles: Mapping[uuid.UUID, Literal["owner", "admin", "member"]] = field(default_factory=dict)
    joined: Mapping[uuid.UUID, datetime] = field(default_factory=dict)
    # Members' mutes (read with the markers: GET chat stays one read): when each ends, None
    # for "until unmuted".
    muted: Mapping[uuid.UUID, datetime | None] = field(default_factory=dict)

    def mute_of(self, user: uuid.UUID, now: datetime) -> tuple[bool, datetime | None]:
        """Whether the user's mute is in force at `now`, and when it ends."""
        if user not in self.muted:
            return False, None
        until = self.muted[user]
        if until is not None and until <= now:
            return False, None
        return True, until

    def muted_members(self, now: datetime) -> set[uuid.UUID]:
        return {user for user in self.muted if self.mute_of(user, now)[0]}

    def read_up_to(self, user: uuid.UUID) -> str | None:
        return self.read.get(user)

    def delivered_up_to(self, user: uuid.UUID) -> str | None:
        found = [m for m in (self.read.get(user), self.delivered.get(user)) if m]
        return max(found) if found else None

    def status_for(
        self, reader: uuid.UUID, participants: Sequence[uuid.UUID]
    ) -> Callable[[Message], MessageStatus | None]:
        """The status of each of the reader's messages: one pass over the members, then a
        comparison per message (a page costs nothing more)."""
        others = [p for p in participants if p != reader]
        read = min((self.read.get(p) or "" for p in others), default="")
        delivered = min((self.delivered_up_to(p) or "" for p in others), default="")

        def status(message: Message) -> MessageStatus | None:
            if message.author_id != reader or message.kind != "text":
                return None
            if not others:
                return "sent"
            message_id = str(message.message_id)
            if read >= message_id:
                return "read"
            return "delivered" if delivered >= message_id else "sent"

        return status

    def with_status(
        self, messages: list[Message], reader: uuid.UUID, participants: Sequence[uuid.UUID]
    ) -> list[Message]:
        """The messages with the status of the reader's own set (in place: they are the
        page's, made for this request; a copy each cost more than the page's queries)."""
        status = self.status_for(reader, participants)
        for message in messages:
            if message.author_id == reader:
                message.status = status(message)
        return messages


@dataclass(frozen=True)
class Erasure:
    """What erasing a user came to in the chats context."""

    tombstoned: int
    left: int
    events_dropped: int


def erase_user(
    store: ChatStore,
    outbox: EventOutbox,
    user: uuid.UUID,
    correlation_id: str | None = None,
    leave_group: Callable[[uuid.UUID], bool] | None = None,
) -> Erasure:
    """`user.deleted`: every message the user authored becomes a tombstone (each with its
    `message.deleted`, so the media context removes its files and the other participants are
    told), then the user leaves every chat. In that order, and idempotent: a retry finds the
    chats it has not left yet and their messages not tombstoned yet."""
    tombstoned = 0
    chats = store.chats_of_member(user)
    for membership in chats:
        for message_id in store.authored_live(membership.chat_id, user):
            with UnitOfWork(outbox, correlation_id) as uow:

                def record(
                    attachment_ids: list[str],
                    uow: UnitOfWork = uow,
                    chat: ChatMembership = membership,
                    mid: uuid.UUID = message_id,
                ) -> None:
                    uow.record(
                        MessageDeleted(
                            chat_id=chat.chat_id,
                            message_id=mid,
                            author_id=user,
                            deleted_by=user,
                            at=utcnow(),
                            attachment_ids=attachment_ids,
                            participants=list(chat.participants),
                        )
                    )

                if store.delete_for_everyone(membership.chat_id, message_id, uow, record):
                    tombstoned += 1
    left = leave_all_chats(store, user, chats, leave_group)
    return Erasure(tombstoned, left, store.forget_published_events(user))


@dataclass
class ChatsErasure:
    store: ChatStore
    outbox: EventOutbox
    groups: ChatsService | None = None  # a group is left through its own rule (ownership)

    def erase_user(self, user: uuid.UUID, correlation_id: str | None = None) -> Erasure:
        leave_group = None
        if self.groups is not None:
            groups = self.groups

            def leave_group(chat_id: uuid.UUID) -> bool:
                """As the user leaving by DELETE .../members/{self}: a leaving owner passes
                ownership on (longest-standing admin, else member), a `member_left` system
                message and `chat.member_removed` are written, the last member ends the chat."""
                from messenger.kernel.context import RequestContext

                ctx = RequestContext(user_id=user, correlation_id=correlation_id)
                try:
                    groups.remove_member(ctx, chat_id, user)
                except NotFound:  # already gone (a retry), or the chat ended
                    return False
                return True

        return erase_user(self.store, self.outbox, user, correlation_id, leave_group)


def leave_all_chats(
    store: ChatStore,
    user: uuid.UUID,
    chats: Sequence[ChatMembership] | None = None,
    leave_group: Callable[[uuid.UUID], bool] | None = None,
) -> int:
    """The user leaves every chat they are in; how many. A group through `leave_group` (its
    roles and system messages), a direct chat (and a group without it) by the bare leave."""
    memberships = store.chats_of_member(user) if chats is None else chats
    left = 0
    for m in memberships:
        if m.type == "group" and leave_group is not None:
            left += leave_group(m.chat_id)
        else:
            left += store.leave(m.chat_id, user)
    return left


def may_delete_for_everyone(
    membership: ChatMembership, caller: uuid.UUID, message: Message
) -> bool:
    """The author may; so may a group's owner and admins (from the cached membership)."""
    if message.author_id == caller:
        return True
    return membership.type == "group" and (
        caller == membership.owner or caller in membership.admins
    )


def role_of(chat: Chat, user: uuid.UUID) -> Literal["owner", "admin", "member"]:
    """The read default where no roles are stored: the creator owns the chat."""
    return "owner" if user == chat.created_by else "member"


def _not_editable(detail: str = "A deleted or system message cannot be edited") -> Conflict:
    return Conflict("message_not_editable", detail)


def _as_id(marker: str | None) -> uuid.UUID | None:
    return uuid.UUID(marker) if marker else None
