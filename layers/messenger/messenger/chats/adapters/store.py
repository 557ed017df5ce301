"""Chats and messages in MongoDB; chat membership cached in Redis.

Documents: `chats` {_id, type, title, participants, created_by, created_at, direct_key?,
last_message, last_message_id ("" until the first message; absent in documents written before
it existed, which the first send upgrades), last_activity_at, unread: {user: n}, read_up_to:
{user: message_id}, delivered_up_to?: {user: message_id}} and `messages` {_id (UUIDv7), chat_id,
author_id, content, created_at, client_message_id, dedupe_key, kind?, reply_to?, edited_at?,
deleted?, reactions?: [{emoji, users: [user...]}] (first reaction first), hidden_for?: [user...],
attachments? (messenger.media's stored form: keys, no URLs)}.
The fields marked `?` are absent from documents written before they existed and read as their
defaults, so no migration has to run first. Every write that carries an event runs in a Mongo
transaction with its outbox rows (mongo_outbox.transact: the unit of work's events); concurrent
writes to one document conflict and pymongo's `with_transaction` retries them, so unread
counters, reaction counts and the last message stay exact under concurrency. Ids are stored as
canonical strings: UUIDv7 strings sort like the ids themselves.

Filters are `{_id}` (plus equalities the send path already uses) and checks are made in Python
on the document read inside the transaction: the local stand-in plans a `$ne`/`$exists`/dotted
predicate as a collection scan, and runs `findAndModify` in hundreds of milliseconds.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeGuard

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from messenger.chats.groups import GroupState
from messenger.chats.models import MAX_DISTINCT_REACTIONS, Chat, Message
from messenger.chats.service import ChatMembership, Markers, new_message_id
from messenger.kernel.errors import NotFound, Unavailable
from messenger.media import api as media
from messenger.platform import mongo, mongo_outbox
from messenger.platform.observability import logger
from messenger.platform.redis import REDIS_DOWN

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from messenger.chats.groups import GroupChange, Role
    from messenger.chats.service import (
        ChatStore,
        DeletionRecorder,
        PreparedAttachments,
        ReactionOutcome,
        ReactionRecorder,
    )
    from messenger.platform.redis import RedisClient
    from messenger.platform.unit_of_work import UnitOfWork

MEMBERSHIP_TTL = 24 * 3600


def ensure_indexes(db: Any) -> None:
    """Idempotent; run by the migrations (PreTraffic hook in AWS, `make dev`, the tests)."""
    db.chats.create_index("direct_key", unique=True, sparse=True)
    db.chats.create_index(
        [("participants", ASCENDING), ("last_activity_at", DESCENDING), ("_id", DESCENDING)]
    )
    db.messages.create_index([("chat_id", ASCENDING), ("_id", DESCENDING)])
    db.messages.create_index(
        [("chat_id", ASCENDING), ("author_id", ASCENDING), ("dedupe_key", ASCENDING)], unique=True
    )
    mongo_outbox.ensure_indexes(db)


def _message_doc(message: Message) -> dict[str, Any]:
    doc = {
        "_id": str(message.message_id),
        "chat_id": str(message.chat_id),
        "author_id": str(message.author_id),
        "content": message.content,
        "created_at": message.created_at,
        "client_message_id": message.client_message_id,
    }
    if message.reply_to is not None:
        doc["reply_to"] = str(message.reply_to)
    return doc


def _reactions(stored: Any, reader: str | None) -> list[dict[str, Any]]:
    return [
        {"emoji": r["emoji"], "count": len(r["users"]), "me": reader in r["users"]}
        for r in stored or ()
        if r.get("users")
    ]


def _message(doc: dict[str, Any], reader: uuid.UUID | None = None) -> Message:
    """The message as `reader` sees it; fields a document predates read as their defaults.
    Attachments are the media context's to fill (API.md), so they read as none here. Ids go in
    as the stored strings: pydantic parses them (in Rust) faster than uuid.UUID() would, which
    counts on a page of 50."""
    return Message(
        message_id=doc["_id"],
        chat_id=doc["chat_id"],
        author_id=doc["author_id"],
        content=doc.get("content"),
        created_at=doc["created_at"],
        client_message_id=doc.get("client_message_id"),
        kind=doc.get("kind") or "text",
        edited_at=doc.get("edited_at"),
        deleted=bool(doc.get("deleted")),
        reply_to=doc.get("reply_to"),
        reactions=_reactions(doc.get("reactions"), str(reader) if reader else None),
        # Stored as keys; the URLs are signed now, on every read (local work, no I/O).
        attachments=media.signed(doc.get("attachments")),
        system=doc.get("system"),
    )


def _markers(doc: dict[str, Any]) -> Markers:
    def by_user(field: str) -> dict[uuid.UUID, str]:
        return {uuid.UUID(u): m for u, m in (doc.get(field) or {}).items() if m}

    muted = {uuid.UUID(u): (m or {}).get("until") for u, m in (doc.get("muted") or {}).items()}
    roles: dict[uuid.UUID, Role] = {}
    joined: dict[uuid.UUID, datetime] = {}
    if "participants" in doc:
        state = _group_state(doc)
        roles = {p: state.role(p) for p in state.participants}
        joined = dict(state.joined)
    return Markers(
        read=by_user("read_up_to"),
        delivered=by_user("delivered_up_to"),
        muted=muted,
        roles=roles,
        joined=joined,
    )


def _group_state(doc: dict[str, Any]) -> GroupState:
    """The chat's members and roles as stored; a chat stored before roles reads with the
    defaults (its creator the owner, everyone joined at its creation)."""
    participants = tuple(uuid.UUID(p) for p in doc["participants"])
    joined_at = doc.get("joined_at") or {}
    return GroupState(
        chat_id=uuid.UUID(doc["_id"]),
        type=doc["type"],
        title=doc.get("title"),
        participants=participants,
        owner=uuid.UUID(doc.get("owner") or doc["created_by"]),
        admins=frozenset(uuid.UUID(a) for a in doc.get("admins") or ()),
        joined={p: joined_at.get(str(p)) or doc["created_at"] for p in participants},
    )


class _Stale(Exception):
    """The chat changed between the read and the write of a group change: decide again."""


GROUP_CHANGE_ATTEMPTS = 50


def _chat(doc: dict[str, Any], user: uuid.UUID | None = None) -> Chat:
    last = doc.get("last_message")
    participants = [uuid.UUID(p) for p in doc["participants"]]
    last_message = _message(last, user) if last else None
    if last_message is not None and user is not None and last_message.author_id == user:
        last_message.status = _markers(doc).status_for(user, participants)(last_message)
    return Chat(
        chat_id=uuid.UUID(doc["_id"]),
        type=doc["type"],
        title=doc.get("title"),
        participants=participants,
        created_by=uuid.UUID(doc["created_by"]),
        created_at=doc["created_at"],
        last_message=last_message,
        unread_count=int((doc.get("unread") or {}).get(str(user), 0)) if user else 0,
    )


def _counters_only(
    db: Any, chat_id: str, counters: dict[str, Any], last: dict[str, Any], session: Any
) -> None:
    """A newer message is already the chat's last (a concurrent send committed first), or the
    chat document predates `last_message_id`: count the message, and upgrade such a document
    lazily (its last message kept if newer), so no migration has to run first."""
    before = db.chats.find_one_and_update(
        {"_id": chat_id}, counters, {"last_message_id": 1, "last_message._id": 1}, session=session
    )
    if before is None or "last_message_id" in before:
        return
    previous = (before.get("last_message") or {}).get("_id")
    if previous is None or previous < last["_id"]:
        upgrade = {"last_message_id": last["_id"], "last_message": last}
    else:
        upgrade = {"last_message_id": previous}
    db.chats.update_one({"_id": chat_id}, {"$set": upgrade}, session=session)


class MongoErasure:
    """Account deletion's reads and writes on the chats and messages (MongoChats' mixin)."""

    def chats_of_member(self, user: uuid.UUID) -> list[ChatMembership]:
        docs = mongo.database().chats.find(
            {"participants": str(user)}, {"type": 1, "participants": 1}
        )
        return [
            ChatMembership(
                uuid.UUID(d["_id"]), d["type"], tuple(uuid.UUID(p) for p in d["participants"])
            )
            for d in docs
        ]

    def authored_live(self, chat_id: uuid.UUID, user: uuid.UUID) -> list[uuid.UUID]:
        """The user's messages of the chat not yet tombstones (through the (chat, author) index;
        the `deleted` check in Python, see the module's docstring)."""
        docs = mongo.database().messages.find(
            {"chat_id": str(chat_id), "author_id": str(user)}, {"deleted": 1}
        )
        return [uuid.UUID(d["_id"]) for d in docs if not d.get("deleted")]

    def authored(self, chat_id: uuid.UUID, user: uuid.UUID) -> list[Message]:
        """The user's messages of the chat, oldest first (a data export)."""
        docs = mongo.database().messages.find({"chat_id": str(chat_id), "author_id": str(user)})
        return sorted((_message(d) for d in docs), key=lambda m: str(m.message_id))

    def leave(self, chat_id: uuid.UUID, user: uuid.UUID) -> bool:
        """Take the user out of the chat with their counters and markers; False if not in it."""
        me = str(user)
        result = mongo.database().chats.update_one(
            {"_id": str(chat_id), "participants": me},
            {
                "$pull": {"participants": me},
                "$unset": {f"unread.{me}": "", f"read_up_to.{me}": "", f"delivered_up_to.{me}": ""},
            },
        )
        return bool(result.modified_count)

    def forget_published_events(self, user: uuid.UUID) -> int:
        """The relayed copies the Mongo outbox keeps of the user's message events (they carry
        the content): gone. Pending ones are left for the relay."""
        result = mongo.database()[mongo_outbox.COLLECTION].delete_many(
            {"payload.data.author_id": str(user), "published_at": {"$exists": True}}
        )
        return int(result.deleted_count)


class MongoChats(MongoErasure):
    def create(self, chat: Chat, direct_key: str | None, uow: UnitOfWork) -> tuple[Chat, bool]:
        doc: dict[str, Any] = {
            "_id": str(chat.chat_id),
            "type": chat.type,
            "title": chat.title,
            "participants": [str(p) for p in chat.participants],
            "created_by": str(chat.created_by),
            "created_at": chat.created_at,
            "last_message": None,
            # Top-level and always present (a string below every UUID): a send updates the
            # chat by `_id` and `$lt` on it, never an `$or` that the database cannot index.
            "last_message_id": "",
            "last_activity_at": chat.created_at,
            "unread": {},
            "read_up_to": {},
            "owner": str(chat.created_by),
            "admins": [],
        }
        if chat.type == "group":  # a change then writes only whom it adds
            doc["joined_at"] = dict.fromkeys(doc["participants"], chat.created_at)
        if direct_key:
            doc["direct_key"] = direct_key
            existing = mongo.database().chats.find_one({"direct_key": direct_key})
            if existing:
                return _chat(existing, chat.created_by), False

        def work(session: Any) -> None:
            mongo.database().chats.insert_one(doc, session=session)

        try:
            mongo_outbox.transact(uow, work)
        except DuplicateKeyError:  # the pair's chat was created concurrently: that one wins
            existing = mongo.database().chats.find_one({"direct_key": direct_key})
            if existing is None:
                raise
            return _chat(existing, chat.created_by), False
        return chat, True

    def membership(self, chat_id: uuid.UUID) -> ChatMembership | None:
        doc = mongo.database().chats.find_one(
            {"_id": str(chat_id)},
            {"type": 1, "participants": 1, "owner": 1, "admins": 1, "created_by": 1},
        )
        if doc is None:
            return None
        return ChatMembership(
            chat_id,
            doc["type"],
            tuple(uuid.UUID(p) for p in doc["participants"]),
            owner=uuid.UUID(doc.get("owner") or doc["created_by"]),
            admins=frozenset(uuid.UUID(a) for a in doc.get("admins") or ()),
        )

    def change_group(
        self,
        chat_id: uuid.UUID,
        decide: Callable[[GroupState], GroupChange],
        by: uuid.UUID,
        now: datetime,
        uow: UnitOfWork,
        record: Callable[[GroupChange], None],
    ) -> GroupChange:
        db = mongo.database()
        chat = str(chat_id)

        def work(session: Any) -> GroupChange:
            doc = db.chats.find_one({"_id": chat}, session=session)
            if doc is None:
                raise NotFound("chat_not_found", "No chat has this id")
            change = decide(_group_state(doc))
            if not change.changed:
                return change
            version = doc.get("version")
            guard = {"_id": chat, "version": version}
            if change.after is None:  # the last member left: the chat ends
                if db.chats.delete_one(guard, session=session).deleted_count == 0:
                    raise _Stale
                db.messages.delete_many({"chat_id": chat}, session=session)
                record(change)
                return change
            after = change.after
            update: dict[str, Any] = {
                "$set": {
                    "participants": [str(p) for p in after.participants],
                    "owner": str(after.owner),
                    "admins": sorted(str(a) for a in after.admins),
                    "title": after.title,
                    "version": (version or 0) + 1,
                    # Only who joined: the others' stored (or defaulted) times stay as they are.
                    **{f"joined_at.{p}": after.joined[p] for p in change.added},
                },
                "$max": {"last_activity_at": now},
            }
            gone = [
                f"{part}.{user}"
                for user in change.removed
                for part in ("unread", "read_up_to", "delivered_up_to", "muted", "joined_at")
            ]
            if gone:
                update["$unset"] = dict.fromkeys(gone, "")
            if db.chats.update_one(guard, update, session=session).matched_count == 0:
                raise _Stale
            notes = [_system_doc(chat, by, now, note) for note in change.notes]
            if notes:
                db.messages.insert_many(notes, session=session)
            record(change)
            return change

        for _ in range(GROUP_CHANGE_ATTEMPTS):
            try:
                return mongo_outbox.transact(uow, work, changed=lambda c: c.changed)
            except _Stale:
                continue
        raise Unavailable("The group is changing too fast; retry shortly")

    def chats_of(
        self, user: uuid.UUID, limit: int, after: tuple[datetime, str] | None
    ) -> list[tuple[Chat, datetime]]:
        query: dict[str, Any] = {"participants": str(user)}
        if after:
            activity, chat_id = after
            query["$or"] = [
                {"last_activity_at": {"$lt": activity}},
                {"last_activity_at": activity, "_id": {"$lt": chat_id}},
            ]
        docs = (
            mongo.database()
            .chats.find(query)
            .sort([("last_activity_at", DESCENDING), ("_id", DESCENDING)])
            .limit(limit)
        )
        return [(_chat(doc, user), doc["last_activity_at"]) for doc in docs]

    def send(
        self,
        message: Message,
        membership: ChatMembership,
        dedupe_key: str,
        uow: UnitOfWork,
        attachments: PreparedAttachments | None = None,
        uncounted: Collection[uuid.UUID] = (),
    ) -> tuple[Message, bool]:
        doc = {**_message_doc(message), "dedupe_key": dedupe_key}
        if attachments is not None:
            doc["attachments"] = attachments.documents
        chat_id = str(message.chat_id)
        others = [
            str(p) for p in membership.participants if p != message.author_id and p not in uncounted
        ]

        last = {k: v for k, v in doc.items() if k != "dedupe_key"}
        counters: dict[str, Any] = {"$max": {"last_activity_at": message.created_at}}
        if others:
            counters["$inc"] = {f"unread.{p}": 1 for p in others}

        def work(session: Any) -> None:
            db = mongo.database()
            db.messages.insert_one(doc, session=session)
            # One update through the _id index: counters, activity and (this being the newest
            # message, the usual case) the last message, in one document write.
            newest = db.chats.update_one(
                {"_id": chat_id, "last_message_id": {"$lt": doc["_id"]}},
                {**counters, "$set": {"last_message": last, "last_message_id": doc["_id"]}},
                session=session,
            )
            if newest.matched_count == 0:
                _counters_only(db, chat_id, counters, last, session)
            if attachments is not None:
                attachments.claim(session)  # the uploads are used by this message, atomically

        try:
            mongo_outbox.transact(uow, work)
        except DuplicateKeyError:
            original = mongo.database().messages.find_one(
                {"chat_id": chat_id, "author_id": str(message.author_id), "dedupe_key": dedupe_key}
            )
            if original is None:
                raise
            return _message(original), False
        return message, True

    def history(
        self,
        chat_id: uuid.UUID,
        limit: int,
        before: str | None,
        reader: uuid.UUID | None = None,
        hidden_authors: Collection[uuid.UUID] = (),
    ) -> list[Message]:
        """One range of the (chat_id, _id) index. Messages the reader deleted for themselves
        are dropped here rather than by a `$ne` in the query (which the local stand-in plans
        as a collection scan); should they leave the page short, the range goes on below.
        Authors the reader blocked are left out by an `author_id $nin` in that same range
        query (decision 44): a filter on the index range's documents, not another query."""
        me = str(reader) if reader else None
        found: list[Message] = []
        while True:
            query: dict[str, Any] = {"chat_id": str(chat_id)}
            if hidden_authors:
                query["author_id"] = {"$nin": sorted(str(a) for a in hidden_authors)}
            if before:
                query["_id"] = {"$lt": before}
            docs = list(mongo.database().messages.find(query).sort("_id", DESCENDING).limit(limit))
            found += [
                _message(doc, reader) for doc in docs if me not in (doc.get("hidden_for") or ())
            ]
            if len(docs) < limit or len(found) >= limit:
                return found[:limit]
            before = docs[-1]["_id"]

    def mark_read(
        self,
        chat_id: uuid.UUID,
        user: uuid.UUID,
        message_id: uuid.UUID,
        uow: UnitOfWork,
        hidden_authors: Collection[uuid.UUID] = (),
    ) -> bool:
        db = mongo.database()
        chat, me, marker = str(chat_id), str(user), str(message_id)
        if db.messages.find_one({"_id": marker, "chat_id": chat}, {"_id": 1}) is None:
            raise NotFound("message_not_found", "This chat has no message with this id")

        def work(session: Any) -> bool:
            doc = db.chats.find_one({"_id": chat}, {f"read_up_to.{me}": 1}, session=session)
            current = ((doc or {}).get("read_up_to") or {}).get(me)
            if current is not None and current >= marker:
                return False
            unread = db.messages.count_documents(
                {
                    "chat_id": chat,
                    "_id": {"$gt": marker},
                    # Neither the reader's own messages nor those of whom they blocked.
                    "author_id": {"$nin": [me, *sorted(str(a) for a in hidden_authors)]},
                    "hidden_for": {"$ne": me},
                },
                session=session,
            )
            db.chats.update_one(
                {"_id": chat},
                {
                    "$set": {f"read_up_to.{me}": marker, f"unread.{me}": unread},
                    "$max": {f"delivered_up_to.{me}": marker},  # read implies delivered
                },
                session=session,
            )
            return True

        # An unmoved marker changed nothing: its transaction writes no event.
        return mongo_outbox.transact(uow, work, changed=bool)

    # -- edit, delete, reactions, receipts, one chat --------------------------------------------
    def message(
        self, chat_id: uuid.UUID, message_id: uuid.UUID, reader: uuid.UUID
    ) -> Message | None:
        doc = mongo.database().messages.find_one({"_id": str(message_id), "chat_id": str(chat_id)})
        return _message(doc, reader) if doc else None

    def markers(self, chat_id: uuid.UUID) -> Markers:
        doc = mongo.database().chats.find_one(
            {"_id": str(chat_id)}, {"read_up_to": 1, "delivered_up_to": 1}
        )
        return _markers(doc or {})

    def edit(
        self,
        chat_id: uuid.UUID,
        message_id: uuid.UUID,
        content: str,
        edited_at: datetime,
        reader: uuid.UUID,
        uow: UnitOfWork,
    ) -> Message | None:
        db = mongo.database()
        chat, mid = str(chat_id), str(message_id)
        change = {"content": content, "edited_at": edited_at}

        def work(session: Any) -> dict[str, Any] | None:
            doc = db.messages.find_one({"_id": mid}, session=session)
            if not _in_chat(doc, chat) or doc.get("deleted") or doc.get("kind", "text") != "text":
                return None
            db.messages.update_one({"_id": mid}, {"$set": change}, session=session)
            _update_last_message(db, chat, mid, change, session)
            return {**doc, **change}

        edited = mongo_outbox.transact(uow, work, changed=lambda doc: doc is not None)
        return _message(edited, reader) if edited else None

    def delete_for_everyone(
        self, chat_id: uuid.UUID, message_id: uuid.UUID, uow: UnitOfWork, record: DeletionRecorder
    ) -> bool:
        db = mongo.database()
        chat, mid = str(chat_id), str(message_id)
        tombstone: dict[str, Any] = {
            "deleted": True,
            "content": None,
            "reactions": [],
            "attachments": [],
        }

        def work(session: Any) -> bool:
            doc = db.messages.find_one({"_id": mid}, session=session)
            if not _in_chat(doc, chat) or doc.get("deleted"):
                return False
            db.messages.update_one({"_id": mid}, {"$set": tombstone}, session=session)
            _update_last_message(db, chat, mid, tombstone, session)
            # The media context removes the attachments' objects (it consumes the event).
            held = [
                str(a.get("attachment_id") if isinstance(a, dict) else a)
                for a in doc.get("attachments") or ()
            ]
            record(held)
            return True

        return mongo_outbox.transact(uow, work, changed=bool)

    def hide_for(self, chat_id: uuid.UUID, message_id: uuid.UUID, user: uuid.UUID) -> bool:
        db = mongo.database()
        chat, mid, me = str(chat_id), str(message_id), str(user)

        def work(session: Any) -> bool:
            doc = db.messages.find_one(
                {"_id": mid}, {"chat_id": 1, "author_id": 1, "hidden_for": 1}, session=session
            )
            if not _in_chat(doc, chat) or me in (doc.get("hidden_for") or ()):
                return False
            db.messages.update_one({"_id": mid}, {"$addToSet": {"hidden_for": me}}, session=session)
            if doc["author_id"] == me:
                return True
            counts = db.chats.find_one(
                {"_id": chat}, {f"read_up_to.{me}": 1, f"unread.{me}": 1}, session=session
            )
            read = ((counts or {}).get("read_up_to") or {}).get(me)
            unread = int(((counts or {}).get("unread") or {}).get(me, 0))
            if (read is None or read < mid) and unread > 0:  # it was unread: one less
                db.chats.update_one(
                    {"_id": chat}, {"$set": {f"unread.{me}": unread - 1}}, session=session
                )
            return True

        with mongo.client().start_session() as session:  # no event: a transaction of its own
            return bool(session.with_transaction(work))

    def add_reaction(
        self,
        chat_id: uuid.UUID,
        message_id: uuid.UUID,
        user: uuid.UUID,
        emoji: str,
        uow: UnitOfWork,
        record: ReactionRecorder,
    ) -> ReactionOutcome:
        return self._react(chat_id, message_id, str(user), emoji, True, uow, record)

    def remove_reaction(
        self,
        chat_id: uuid.UUID,
        message_id: uuid.UUID,
        user: uuid.UUID,
        emoji: str,
        uow: UnitOfWork,
        record: ReactionRecorder,
    ) -> ReactionOutcome:
        return self._react(chat_id, message_id, str(user), emoji, False, uow, record)

    def _react(
        self,
        chat_id: uuid.UUID,
        message_id: uuid.UUID,
        me: str,
        emoji: str,
        add: bool,
        uow: UnitOfWork,
        record: ReactionRecorder,
    ) -> ReactionOutcome:
        """One transaction: read the message's reactions, change them with `$addToSet`/`$push`/
        `$pull` by `_id`, copy them to the chat's last message when it is that one, and the
        event. Two users adding concurrently conflict on the message and one is retried, so
        no count is lost and the distinct-emoji cap holds."""
        db = mongo.database()
        chat, mid = str(chat_id), str(message_id)

        def work(session: Any) -> ReactionOutcome:
            doc = db.messages.find_one(
                {"_id": mid}, {"chat_id": 1, "deleted": 1, "reactions": 1}, session=session
            )
            if not _in_chat(doc, chat):
                return "no_message"
            if doc.get("deleted"):
                return "unchanged" if not add else "deleted"
            reactions: list[dict[str, Any]] = list(doc.get("reactions") or ())
            at = next((i for i, r in enumerate(reactions) if r["emoji"] == emoji), None)
            users: list[str] = list(reactions[at]["users"]) if at is not None else []
            if (me in users) == add:
                return "unchanged"
            if add and at is None:
                if len(reactions) >= MAX_DISTINCT_REACTIONS:
                    return "full"
                change: dict[str, Any] = {"$push": {"reactions": {"emoji": emoji, "users": [me]}}}
                reactions.append({"emoji": emoji, "users": [me]})
            elif add:
                assert at is not None
                change = {"$addToSet": {f"reactions.{at}.users": me}}
                reactions[at] = {"emoji": emoji, "users": [*users, me]}
            elif len(users) == 1:  # the last one: the emoji goes (it no longer counts)
                change = {"$pull": {"reactions": {"emoji": emoji}}}
                reactions = [r for r in reactions if r["emoji"] != emoji]
            else:
                assert at is not None
                change = {"$pull": {f"reactions.{at}.users": me}}
                reactions[at] = {"emoji": emoji, "users": [u for u in users if u != me]}
            db.messages.update_one({"_id": mid}, change, session=session)
            _update_last_message(db, chat, mid, {"reactions": reactions}, session)
            count = len(users) + (1 if add else -1)
            record(count)
            return "changed"

        outcome: ReactionOutcome = mongo_outbox.transact(
            uow, work, changed=lambda outcome: outcome == "changed"
        )
        return outcome

    def mark_delivered(
        self, chat_id: uuid.UUID, user: uuid.UUID, message_id: uuid.UUID, uow: UnitOfWork
    ) -> bool:
        db = mongo.database()
        chat, me, marker = str(chat_id), str(user), str(message_id)
        if db.messages.find_one({"_id": marker, "chat_id": chat}, {"_id": 1}) is None:
            raise NotFound("message_not_found", "This chat has no message with this id")

        def work(session: Any) -> bool:
            doc = db.chats.find_one(
                {"_id": chat}, {f"read_up_to.{me}": 1, f"delivered_up_to.{me}": 1}, session=session
            )
            if (_markers(doc or {}).delivered_up_to(user) or "") >= marker:
                return False
            db.chats.update_one(
                {"_id": chat}, {"$set": {f"delivered_up_to.{me}": marker}}, session=session
            )
            return True

        return mongo_outbox.transact(uow, work, changed=bool)

    def chat_with_markers(
        self, chat_id: uuid.UUID, reader: uuid.UUID
    ) -> tuple[Chat, Markers] | None:
        doc = mongo.database().chats.find_one({"_id": str(chat_id)})
        return (_chat(doc, reader), _markers(doc)) if doc else None

    def set_mute(
        self, chat_id: uuid.UUID, user: uuid.UUID, until: datetime | None, *, muted: bool
    ) -> None:
        """`muted.<user>: {until}` on the chat (a sub-document: null `until` is a mute)."""
        field = f"muted.{user}"
        change = {"$set": {field: {"until": until}}} if muted else {"$unset": {field: ""}}
        mongo.database().chats.update_one({"_id": str(chat_id)}, change)

    def mutes(self, chat_id: uuid.UUID) -> Markers:
        """The members' mutes alone (one read of the chat's `muted`)."""
        doc = mongo.database().chats.find_one({"_id": str(chat_id)}, {"muted": 1})
        return _markers(doc or {})


def _system_doc(chat: str, by: uuid.UUID, now: datetime, note: Any) -> dict[str, Any]:
    """A system message (kind system, no content): in history like any message, counted unread
    by nobody."""
    message_id = str(new_message_id())
    system: dict[str, Any] = {"event": note.event, "user_ids": [str(u) for u in note.user_ids]}
    if note.title is not None:
        system["title"] = note.title
    if note.role is not None:
        system["role"] = note.role
    return {
        "_id": message_id,
        "chat_id": chat,
        "author_id": str(by),
        "content": None,
        "created_at": now,
        "client_message_id": None,
        "kind": "system",
        "system": system,
        "dedupe_key": message_id,
    }


def _in_chat(doc: dict[str, Any] | None, chat: str) -> TypeGuard[dict[str, Any]]:
    """A message of this chat (ids are looked up by `_id` alone)."""
    return doc is not None and doc.get("chat_id") == chat


def _update_last_message(
    db: Any, chat: str, message_id: str, change: dict[str, Any], session: Any
) -> None:
    """Keep the chat's copy of its last message (what GET /v1/chats shows) in step; a no-op
    unless the message is that one."""
    db.chats.update_one(
        {"_id": chat, "last_message_id": message_id},
        {"$set": {f"last_message.{k}": v for k, v in change.items()}},
        session=session,
    )


def members_key(chat_id: uuid.UUID | str) -> str:
    """Where a chat's membership is cached (the bench's floors read the same key)."""
    return f"chat-members:v2:{chat_id}"  # v2: with the owner and admins


class CachedChats:
    """Membership from Redis when warm (it never changes once the chat exists), wrapping the
    store that holds the chats; everything else goes straight to that store."""

    def __init__(self, inner: ChatStore, redis: RedisClient) -> None:
        self.inner = inner
        self.redis = redis

    @staticmethod
    def _key(chat_id: uuid.UUID) -> str:
        return members_key(chat_id)

    def forget(self, chat_id: uuid.UUID) -> None:
        """Drop the cached membership (after a group change commits: removed members lose
        access at once)."""
        try:
            self.redis().delete(self._key(chat_id))
        except REDIS_DOWN as exc:
            logger.warning("Could not invalidate chat cache", extra={"error": repr(exc)})

    def change_group(
        self,
        chat_id: uuid.UUID,
        decide: Callable[[GroupState], GroupChange],
        by: uuid.UUID,
        now: datetime,
        uow: UnitOfWork,
        record: Callable[[GroupChange], None],
    ) -> GroupChange:
        try:
            return self.inner.change_group(chat_id, decide, by, now, uow, record)
        finally:
            self.forget(chat_id)

    def _remember(self, membership: ChatMembership) -> None:
        value = json.dumps(
            [
                membership.type,
                [str(p) for p in membership.participants],
                str(membership.owner) if membership.owner else None,
                sorted(str(a) for a in membership.admins),
            ]
        )
        try:
            self.redis().set(self._key(membership.chat_id), value, ex=MEMBERSHIP_TTL)
        except REDIS_DOWN as exc:
            logger.warning("Chat cache unavailable", extra={"error": repr(exc)})

    def membership(self, chat_id: uuid.UUID) -> ChatMembership | None:
        try:
            cached = self.redis().get(self._key(chat_id))
        except REDIS_DOWN:
            cached = None
        if cached:
            kind, participants, owner, admins = json.loads(cached)
            return ChatMembership(
                chat_id,
                kind,
                tuple(uuid.UUID(p) for p in participants),
                owner=uuid.UUID(owner) if owner else None,
                admins=frozenset(uuid.UUID(a) for a in admins),
            )
        found = self.inner.membership(chat_id)
        if found is not None:
            self._remember(found)
        return found

    def create(self, chat: Chat, direct_key: str | None, uow: UnitOfWork) -> tuple[Chat, bool]:
        result, created = self.inner.create(chat, direct_key, uow)
        self._remember(
            ChatMembership(
                result.chat_id, result.type, tuple(result.participants), owner=result.created_by
            )
        )
        return result, created

    def chats_of(
        self, user: uuid.UUID, limit: int, after: tuple[datetime, str] | None
    ) -> list[tuple[Chat, datetime]]:
        return self.inner.chats_of(user, limit, after)

    def send(
        self,
        message: Message,
        membership: ChatMembership,
        dedupe_key: str,
        uow: UnitOfWork,
        attachments: PreparedAttachments | None = None,
        uncounted: Collection[uuid.UUID] = (),
    ) -> tuple[Message, bool]:
        return self.inner.send(message, membership, dedupe_key, uow, attachments, uncounted)

    def history(
        self,
        chat_id: uuid.UUID,
        limit: int,
        before: str | None,
        reader: uuid.UUID | None = None,
        hidden_authors: Collection[uuid.UUID] = (),
    ) -> list[Message]:
        return self.inner.history(chat_id, limit, before, reader, hidden_authors)

    def mark_read(
        self,
        chat_id: uuid.UUID,
        user: uuid.UUID,
        message_id: uuid.UUID,
        uow: UnitOfWork,
        hidden_authors: Collection[uuid.UUID] = (),
    ) -> bool:
        return self.inner.mark_read(chat_id, user, message_id, uow, hidden_authors)

    # -- edit, delete, reactions, receipts, one chat: straight to the store ---------------------
    def message(
        self, chat_id: uuid.UUID, message_id: uuid.UUID, reader: uuid.UUID
    ) -> Message | None:
        return self.inner.message(chat_id, message_id, reader)

    def markers(self, chat_id: uuid.UUID) -> Markers:
        return self.inner.markers(chat_id)

    def edit(
        self,
        chat_id: uuid.UUID,
        message_id: uuid.UUID,
        content: str,
        edited_at: datetime,
        reader: uuid.UUID,
        uow: UnitOfWork,
    ) -> Message | None:
        return self.inner.edit(chat_id, message_id, content, edited_at, reader, uow)

    def delete_for_everyone(
        self, chat_id: uuid.UUID, message_id: uuid.UUID, uow: UnitOfWork, record: DeletionRecorder
    ) -> bool:
        return self.inner.delete_for_everyone(chat_id, message_id, uow, record)

    def hide_for(self, chat_id: uuid.UUID, message_id: uuid.UUID, user: uuid.UUID) -> bool:
        return self.inner.hide_for(chat_id, message_id, user)

    def add_reaction(
        self,
        chat_id: uuid.UUID,
        message_id: uuid.UUID,
        user: uuid.UUID,
        emoji: str,
        uow: UnitOfWork,
        record: ReactionRecorder,
    ) -> ReactionOutcome:
        return self.inner.add_reaction(chat_id, message_id, user, emoji, uow, record)

    def remove_reaction(
        self,
        chat_id: uuid.UUID,
        message_id: uuid.UUID,
        user: uuid.UUID,
        emoji: str,
        uow: UnitOfWork,
        record: ReactionRecorder,
    ) -> ReactionOutcome:
        return self.inner.remove_reaction(chat_id, message_id, user, emoji, uow, record)

    def mark_delivered(
        self, chat_id: uuid.UUID, user: uuid.UUID, message_id: uuid.UUID, uow: UnitOfWork
    ) -> bool:
        return self.inner.mark_delivered(chat_id, user, message_id, uow)

    def chat_with_markers(
        self, chat_id: uuid.UUID, reader: uuid.UUID
    ) -> tuple[Chat, Markers] | None:
        return self.inner.chat_with_markers(chat_id, reader)

    # -- account deletion (membership changes: the cached copy goes) -----------------------------
    def chats_of_member(self, user: uuid.UUID) -> list[ChatMembership]:
        return self.inner.chats_of_member(user)

    def authored_live(self, chat_id: uuid.UUID, user: uuid.UUID) -> list[uuid.UUID]:
        return self.inner.authored_live(chat_id, user)

    def authored(self, chat_id: uuid.UUID, user: uuid.UUID) -> list[Message]:
        return self.inner.authored(chat_id, user)

    def leave(self, chat_id: uuid.UUID, user: uuid.UUID) -> bool:
        left = self.inner.leave(chat_id, user)
        # Raises when Redis is down: the event is retried rather than a stale membership kept.
        self.redis().delete(self._key(chat_id))
        return left

    def forget_published_events(self, user: uuid.UUID) -> int:
        return self.inner.forget_published_events(user)

    def set_mute(
        self, chat_id: uuid.UUID, user: uuid.UUID, until: datetime | None, *, muted: bool
    ) -> None:
        self.inner.set_mute(chat_id, user, until, muted=muted)

    def mutes(self, chat_id: uuid.UUID) -> Markers:
        return self.inner.mutes(chat_id)
