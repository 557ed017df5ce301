"""The floors of the media RPCs (mixed into tests/perf/floors.py's Floors): their MongoDB, Redis,
S3 and Kafka calls made directly, and the signing work itself: the POST policy by boto3's
client, each download URL by the cheapest signer there is (messenger.media's, which a unit test
holds equal to boto3's `generate_presigned_url`, at a fifth of botocore's cost per URL)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from pymongo import UpdateOne

from messenger.chats.adapters.store import members_key
from tests.perf.pacing import Samples, timed


class MediaFloors:
    env: dict[str, str]
    redis: Any
    gcra: Any
    db: Any
    mongo: Any
    kafka: Any
    _s3: Any = None

    _signer: Any = None

    def sign(self, bucket: str, key: str) -> str:
        if self._signer is None:
            from botocore.credentials import Credentials

            from messenger.media.adapters.signer import S3UrlSigner

            self._signer = S3UrlSigner(
                bucket, "us-east-1", self.env["S3_ENDPOINT"], 7200, Credentials("testing", "x")
            )
        return str(self._signer.url(key))

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            import boto3
            from botocore.config import Config

            self._s3 = boto3.client(
                "s3",
                endpoint_url=self.env["S3_ENDPOINT"],
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
            )
        return self._s3

    def create_upload(self, n: int, owner: str, bucket: str) -> Samples:
        from messenger.kernel.clock import utcnow

        def once(_: int) -> None:
            self.gcra(keys=[f"ratelimit:upload:{owner}"], args=[1, 1_000_000])
            upload_id = str(uuid.uuid4())
            key = f"uploads/{owner}/{upload_id}"
            self.s3.generate_presigned_post(
                Bucket=bucket,
                Key=key,
                Fields={"Content-Type": "image/png"},
                Conditions=[{"Content-Type": "image/png"}, ["content-length-range", 100, 100]],
                ExpiresIn=900,
            )
            now = utcnow()
            self.db.uploads.insert_one(
                {
                    "_id": upload_id,
                    "owner_id": owner,
                    "purpose": "attachment",
                    "content_type": "image/png",
                    "size": 100,
                    "filename": "f.png",
                    "key": key,
                    "created_at": now,
                    "expires_at": now,
                    "used_by": None,
                }
            )

        return timed(n, once)

    def send_with_file(
        self, n: int, chat_id: str, author: str, others: list[str], bucket: str
    ) -> Samples:
        """SendMessage's floor plus one file: find the upload, HEAD it, copy it, claim it in the
        message's transaction, sign its URL."""
        from messenger.chats.service import new_message_id
        from messenger.kernel.clock import utcnow

        uploads = []
        for _ in range(n):  # the files, as clients would have uploaded them (not timed)
            upload_id = str(uuid.uuid4())
            key = f"uploads/{author}/{upload_id}"
            self.s3.put_object(Bucket=bucket, Key=key, Body=b"x" * 100, ContentType="image/png")
            self.db.uploads.insert_one(
                {"_id": upload_id, "owner_id": author, "key": key, "used_by": None}
            )
            uploads.append((upload_id, key))

        def once(i: int) -> None:
            upload_id, key = uploads[i]
            self.gcra(keys=[f"ratelimit:send_message:{author}"], args=[1, 1_000_000])
            self.redis.get(members_key(chat_id))
            self.redis.get(f"friends:v1:{author}")
            list(self.db.uploads.find({"_id": {"$in": [upload_id]}, "owner_id": author}))
            message_id, event_id, now = str(new_message_id()), str(uuid.uuid4()), utcnow()
            head = self.s3.head_object(Bucket=bucket, Key=key)
            destination = f"attachments/{chat_id}/{message_id}/{upload_id}"
            self.s3.copy_object(
                Bucket=bucket,
                Key=destination,
                CopySource={"Bucket": bucket, "Key": key},
                CopySourceIfMatch=head["ETag"],
            )
            attachment = {
                "attachment_id": upload_id,
                "content_type": "image/png",
                "size": 100,
                "filename": "f.png",
                "key": destination,
            }
            doc = {
                "_id": message_id,
                "chat_id": chat_id,
                "author_id": author,
                "content": "floor",
                "created_at": now,
                "client_message_id": None,
                "attachments": [attachment],
            }
            payload = {"id": event_id, "type": "message.sent", "data": {"message_id": message_id}}

            def work(session: object) -> None:
                self.db.messages.insert_one({**doc, "dedupe_key": message_id}, session=session)
                self.db.chats.update_one(
                    {"_id": chat_id, "last_message_id": {"$lt": message_id}},
                    {
                        "$inc": {f"unread.{p}": 1 for p in others},
                        "$max": {"last_activity_at": now},
                        "$set": {"last_message": doc, "last_message_id": message_id},
                    },
                    session=session,
                )
                self.db.uploads.bulk_write(
                    [
                        UpdateOne(
                            {"_id": upload_id, "owner_id": author, "used_by": None},
                            {"$set": {"used_by": {"message_id": message_id}, "used_at": now}},
                        )
                    ],
                    session=session,
                )
                self.db.outbox.insert_many(
                    [
                        {
                            "_id": event_id,
                            "topic": "bench-floor",
                            "key": chat_id,
                            "payload": payload,
                            "correlation_id": None,
                            "created_at": now,
                            "pending": True,
                        }
                    ],
                    session=session,
                )

            with self.mongo.start_session() as session:
                session.with_transaction(work)
            self.sign(bucket, destination)
            self.kafka.send("bench-floor", key=b"k", value=json.dumps(payload).encode())
            self.kafka.flush()
            self.db.outbox.update_many(
                {"_id": {"$in": [event_id]}},
                {"$unset": {"pending": ""}, "$set": {"published_at": now}},
            )

        return timed(n, once)

    def history_with_files(self, n: int, chat_id: str, bucket: str, limit: int = 50) -> Samples:
        def once(_: int) -> None:
            self.redis.get(members_key(chat_id))
            docs = list(
                self.db.messages.find({"chat_id": chat_id}).sort("_id", -1).limit(limit + 1)
            )
            for doc in docs[:limit]:
                for attachment in doc.get("attachments") or []:
                    self.sign(bucket, attachment["key"])

        return timed(n, once)
