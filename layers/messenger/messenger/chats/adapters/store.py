"""Chats and messages in MongoDB; chat membership cached in Redis.

Documents: `chats` {_id, type, title, participants, created_by, created_at, direct_key?,
last_message, last_message_id ("" until the first message; absent in documents written before
it existed, which the first send upgrades), last_activity_at, unread: {user: n}, read_up_to:
{user: message_id}} and `messages` {_id (UUIDv7), chat_id, author_id, content, created_at,
client_message_id, dedupe_key, attachments? (messenger.media's stored form: keys, no URLs)}.
Every write that carries an event runs in a Mongo transaction
with its outbox rows (mongo_outbox.transact: the unit of work's events); concurrent writes to
one chat document conflict and pymongo's `with_transaction` retries them, so unread counters
and the last message stay exact under concurrency. Ids are stored as canonical strings: UUIDv7
strings sort like the ids themselves.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from messenger.chats.models import Chat, Message
from messenger.chats.service import ChatMembership
from messenger.kernel.errors import NotFound
from messenger.media import api as media
from messenger.platform import mongo, mongo_outbox
from messenger.platform.observability import logger
from messenger.platform.redis import REDIS_DOWN

if TYPE_CHECKING:
    from messenger.chats.service import ChatStore, PreparedAttachments
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
    return {
        "_id": str(message.message_id),
        "chat_id": str(message.chat_id),
        "author_id": str(message.author_id),
        "content": message.content,
        "created_at": message.created_at,
        "client_message_id": message.client_message_id,
    }


def _message(doc: dict[str, Any]) -> Message:
    return Message(
        message_id=uuid.UUID(doc["_id"]),
        chat_id=uuid.UUID(doc["chat_id"]),
        author_id=uuid.UUID(doc["author_id"]),
        content=doc["content"],
        created_at=doc["created_at"],
        client_message_id=doc.get("client_message_id"),
        # Stored as keys; the URLs are signed now, on every read (local work, no I/O).
        attachments=media.signed(doc.get("attachments")),
    )


def _chat(doc: dict[str, Any], user: uuid.UUID | None = None) -> Chat:
    last = doc.get("last_message")
    return Chat(
        chat_id=uuid.UUID(doc["_id"]),
        type=doc["type"],
        title=doc.get("title"),
        participants=[uuid.UUID(p) for p in doc["participants"]],
        created_by=uuid.UUID(doc["created_by"]),
        created_at=doc["created_at"],
        last_message=_message(last) if last else None,
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


class MongoChats:
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
        }
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
        doc = mongo.database().chats.find_one({"_id": str(chat_id)}, {"type": 1, "participants": 1})
        if doc is None:
            return None
        return ChatMembership(
            chat_id, doc["type"], tuple(uuid.UUID(p) for p in doc["participants"])
        )

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
    ) -> tuple[Message, bool]:
        doc = {**_message_doc(message), "dedupe_key": dedupe_key}
        if attachments is not None:
            doc["attachments"] = attachments.documents
        chat_id = str(message.chat_id)
        others = [str(p) for p in membership.participants if p != message.author_id]

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

    def history(self, chat_id: uuid.UUID, limit: int, before: str | None) -> list[Message]:
        query: dict[str, Any] = {"chat_id": str(chat_id)}
        if before:
            query["_id"] = {"$lt": before}
        docs = mongo.database().messages.find(query).sort("_id", DESCENDING).limit(limit)
        return [_message(doc) for doc in docs]

    def mark_read(
        self, chat_id: uuid.UUID, user: uuid.UUID, message_id: uuid.UUID, uow: UnitOfWork
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
                {"chat_id": chat, "_id": {"$gt": marker}, "author_id": {"$ne": me}},
                session=session,
            )
            db.chats.update_one(
                {"_id": chat},
                {"$set": {f"read_up_to.{me}": marker, f"unread.{me}": unread}},
                session=session,
            )
            return True

        # An unmoved marker changed nothing: its transaction writes no event.
        return mongo_outbox.transact(uow, work, changed=bool)


class CachedChats:
    """Membership from Redis when warm (it never changes once the chat exists), wrapping the
    store that holds the chats; everything else goes straight to that store."""

    def __init__(self, inner: ChatStore, redis: RedisClient) -> None:
        self.inner = inner
        self.redis = redis

    @staticmethod
    def _key(chat_id: uuid.UUID) -> str:
        return f"chat-members:v1:{chat_id}"

    def _remember(self, membership: ChatMembership) -> None:
        value = json.dumps([membership.type, [str(p) for p in membership.participants]])
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
            kind, participants = json.loads(cached)
            return ChatMembership(chat_id, kind, tuple(uuid.UUID(p) for p in participants))
        found = self.inner.membership(chat_id)
        if found is not None:
            self._remember(found)
        return found

    def create(self, chat: Chat, direct_key: str | None, uow: UnitOfWork) -> tuple[Chat, bool]:
        result, created = self.inner.create(chat, direct_key, uow)
        self._remember(ChatMembership(result.chat_id, result.type, tuple(result.participants)))
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
    ) -> tuple[Message, bool]:
        return self.inner.send(message, membership, dedupe_key, uow, attachments)

    def history(self, chat_id: uuid.UUID, limit: int, before: str | None) -> list[Message]:
        return self.inner.history(chat_id, limit, before)

    def mark_read(
        self, chat_id: uuid.UUID, user: uuid.UUID, message_id: uuid.UUID, uow: UnitOfWork
    ) -> bool:
        return self.inner.mark_read(chat_id, user, message_id, uow)
