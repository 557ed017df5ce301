"""Uploads in MongoDB (collection `uploads`), beside the chats' messages.

They live in the chats' database so that marking uploads used happens in the very transaction
that stores the message naming them. Documents: {_id (upload id), owner_id, purpose,
content_type, size, filename, key, created_at, expires_at, used_by (null while unused), used_at}.
A TTL index drops every record two days after its creation: by then its object has expired
from the bucket's uploads/ prefix (unused) or been copied where it is used.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pymongo import UpdateOne

from messenger.kernel.clock import utcnow
from messenger.media.models import Upload
from messenger.media.service import UploadUsed
from messenger.platform import mongo

COLLECTION = "uploads"
RETENTION = timedelta(days=2)


def ensure_indexes(db: Any) -> None:
    """Idempotent; run with the chats' indexes (messenger.platform.migrate)."""
    db[COLLECTION].create_index("created_at", expireAfterSeconds=int(RETENTION.total_seconds()))


def _doc(upload: Upload) -> dict[str, Any]:
    return {
        "_id": str(upload.upload_id),
        "owner_id": str(upload.owner_id),
        "purpose": upload.purpose,
        "content_type": upload.content_type,
        "size": upload.size,
        "filename": upload.filename,
        "key": upload.key,
        "created_at": upload.created_at,
        "expires_at": upload.expires_at,
        "used_by": None,
    }


def _upload(doc: dict[str, Any]) -> Upload:
    return Upload(
        upload_id=uuid.UUID(doc["_id"]),
        owner_id=uuid.UUID(doc["owner_id"]),
        purpose=doc["purpose"],
        content_type=doc["content_type"],
        size=int(doc["size"]),
        filename=doc.get("filename"),
        key=doc["key"],
        created_at=doc["created_at"],
        expires_at=doc["expires_at"],
        used_by=doc.get("used_by"),
    )


class MongoUploads:
    def add(self, upload: Upload) -> None:
        mongo.database()[COLLECTION].insert_one(_doc(upload))

    def of_owner(
        self, owner: uuid.UUID, upload_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Upload]:
        if not upload_ids:
            return {}
        docs = mongo.database()[COLLECTION].find(
            {"_id": {"$in": [str(u) for u in upload_ids]}, "owner_id": str(owner)}
        )
        return {u.upload_id: u for u in map(_upload, docs)}

    def claim(
        self, session: Any, owner: uuid.UUID, used_by: dict[uuid.UUID, dict[str, Any]]
    ) -> None:
        now = utcnow()
        result = mongo.database()[COLLECTION].bulk_write(
            [
                UpdateOne(
                    {"_id": str(upload_id), "owner_id": str(owner), "used_by": None},
                    {"$set": {"used_by": use, "used_at": now}},
                )
                for upload_id, use in used_by.items()
            ],
            ordered=True,
            session=session,
        )
        if result.matched_count != len(used_by):
            raise UploadUsed()  # another message took one first; the transaction aborts

    def mark_used(self, owner: uuid.UUID, upload_id: uuid.UUID, used_by: dict[str, Any]) -> bool:
        result = mongo.database()[COLLECTION].update_one(
            {"_id": str(upload_id), "owner_id": str(owner), "used_by": None},
            {"$set": {"used_by": used_by, "used_at": utcnow()}},
        )
        return bool(result.modified_count)

    def erase_owner(self, owner: uuid.UUID) -> int:
        return int(mongo.database()[COLLECTION].delete_many({"owner_id": str(owner)}).deleted_count)
