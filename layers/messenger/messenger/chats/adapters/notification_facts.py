"""What a push notification of a message needs from the chats documents (MongoDB): the chat's
title and each recipient's total unread count (the badge), summed over the chats they are in."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from messenger.chats.api import NotificationFacts
from messenger.platform import mongo


class MongoNotificationFacts:
    def facts(self, chat_id: uuid.UUID, users: Sequence[uuid.UUID]) -> NotificationFacts:
        db = mongo.database()
        chat = db.chats.find_one({"_id": str(chat_id)}, {"type": 1, "title": 1}) or {}
        keys = [str(u) for u in users]
        totals = dict.fromkeys(users, 0)
        if keys:
            # One indexed query (participants) for every recipient's chats, only their counters.
            projection = {f"unread.{k}": 1 for k in keys}
            for doc in db.chats.find({"participants": {"$in": keys}}, projection):
                for key, count in (doc.get("unread") or {}).items():
                    user = uuid.UUID(key)
                    if user in totals:
                        totals[user] += int(count or 0)
        return NotificationFacts(
            group=chat.get("type") == "group", title=chat.get("title"), unread_totals=totals
        )
