"""Media use-cases: create an upload, turn uploads into a message's attachments or an avatar.

Object keys never come from the client: an upload lands at `uploads/<owner>/<upload_id>` (the
bucket's lifecycle rule expires that prefix after a day), and using it copies the verified object
to a key only the server writes: `attachments/<chat_id>/<message_id>/<upload_id>` or
`avatars/<owner>/<random id>`. So what a message shows is exactly what was checked (the copy is
conditional on the ETag the HEAD saw), a client cannot replace it afterwards, and a message's
files are one prefix to delete when the message is deleted for everyone.

Nothing is half-written: the copies are made before the state change that refers to them (the
message's Mongo transaction, the profile's Postgres transaction) and deleted again if that
change fails; an upload is marked used inside the message's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from messenger.kernel.clock import utcnow
from messenger.kernel.errors import Conflict, InvalidInput, NotFound
from messenger.media.models import (
    Attachment,
    CreatedUpload,
    CreateUploadRequest,
    ObjectInfo,
    StoredAttachment,
    Upload,
    UploadForm,
)
from messenger.platform.observability import logger
from messenger.platform.ratelimit import UPLOAD, RateLimiter

if TYPE_CHECKING:
    from messenger.kernel.context import RequestContext

T = TypeVar("T")
R = TypeVar("R")

UPLOADS_PREFIX = "uploads/"
ATTACHMENTS_PREFIX = "attachments/"
AVATARS_PREFIX = "avatars/"
EXPORTS_PREFIX = "exports/"
MAX_PARALLEL_CALLS = 10


class UploadNotFound(NotFound):
    def __init__(self, upload_id: uuid.UUID) -> None:
        super().__init__(
            "upload_not_found", "You have no upload with this id", upload_id=str(upload_id)
        )


class UploadIncomplete(Conflict):
    def __init__(self, upload_id: uuid.UUID) -> None:
        super().__init__(
            "upload_incomplete",
            "The file has not arrived with the declared size and type; upload it, then retry",
            upload_id=str(upload_id),
        )


class UploadUsed(Conflict):
    def __init__(self, upload_id: uuid.UUID | None = None) -> None:
        extra = {"upload_id": str(upload_id)} if upload_id else {}
        super().__init__("upload_used", "This upload has already been used", **extra)


class UploadStore(Protocol):
    def add(self, upload: Upload) -> None: ...

    def of_owner(
        self, owner: uuid.UUID, upload_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Upload]:
        """The owner's uploads among these ids (someone else's are simply absent)."""

    def claim(
        self, session: Any, owner: uuid.UUID, used_by: dict[uuid.UUID, dict[str, Any]]
    ) -> None:
        """Mark each upload used, inside the caller's transaction (`session`); UploadUsed if
        any of them is used already (the transaction then aborts)."""

    def mark_used(self, owner: uuid.UUID, upload_id: uuid.UUID, used_by: dict[str, Any]) -> bool:
        """Mark one upload used on its own; False if it already was."""

    def erase_owner(self, owner: uuid.UUID) -> int:
        """Account deletion: every upload record of the owner (they name its files); how many."""


class ObjectStorage(Protocol):
    def presigned_post(
        self, key: str, content_type: str, size: int, expires_in: int
    ) -> UploadForm: ...

    def head(self, key: str) -> ObjectInfo | None:
        """None when there is no such object."""

    def copy(self, source: str, destination: str, etag: str) -> bool:
        """Copy `source` if it still has `etag`; False if it changed (or vanished) meanwhile."""

    def delete(self, keys: Sequence[str]) -> None: ...

    def put(self, key: str, body: bytes, content_type: str) -> None: ...

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under `prefix`; how many there were."""


class UrlSigner(Protocol):
    def url(self, key: str) -> str:
        """A download URL of `key` (signed: local computation, no network call)."""


def _parallel(work: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """Run the S3 calls of a request concurrently (the client is thread-safe)."""
    if len(items) <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(min(len(items), MAX_PARALLEL_CALLS)) as pool:
        return list(pool.map(work, items))


def signed_attachments(
    stored: Sequence[StoredAttachment], signer: UrlSigner | None
) -> list[Attachment]:
    if not stored:
        return []
    if signer is None:
        raise RuntimeError("attachments to sign but no URL signer configured")
    return [
        Attachment(
            attachment_id=s.attachment_id,
            content_type=s.content_type,
            size=s.size,
            filename=s.filename,
            url=signer.url(s.key),
        )
        for s in stored
    ]


@dataclass
class PreparedAttachments:
    """A message's files, verified and copied into place, waiting for the message's commit."""

    owner: uuid.UUID
    stored: list[StoredAttachment]
    uploads: UploadStore
    storage: ObjectStorage
    signer: UrlSigner | None
    used_by: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    copied: list[str] = field(default_factory=list)

    @property
    def documents(self) -> list[dict[str, Any]]:
        """What the message document embeds."""
        return [s.to_doc() for s in self.stored]

    @property
    def attachments(self) -> list[Attachment]:
        """The attachments as the sender reads them back (URLs signed now)."""
        return signed_attachments(self.stored, self.signer)

    def claim(self, session: Any) -> None:
        """Inside the message's transaction: mark the uploads used (UploadUsed aborts it)."""
        if self.used_by:
            self.uploads.claim(session, self.owner, self.used_by)

    def release(self) -> None:
        """The message was not stored (failure, or a retry answered with the original): drop
        the copies this attempt made. Best effort: an object left behind is never shown."""
        if not self.copied:
            return
        try:
            self.storage.delete(self.copied)
        except Exception:
            logger.warning("Could not delete unused attachment copies", extra={"keys": self.copied})
        self.copied = []


@dataclass
class PreparedAvatar:
    owner: uuid.UUID
    upload_id: uuid.UUID
    key: str
    url: str
    uploads: UploadStore
    storage: ObjectStorage

    def commit(self) -> None:
        """After the profile's commit. Best effort: an avatar upload left unmarked can only
        become its owner's avatar again."""
        try:
            self.uploads.mark_used(self.owner, self.upload_id, {"kind": "avatar", "url": self.url})
        except Exception:
            logger.warning("Could not mark the avatar upload used", extra={"key": self.key})

    def release(self) -> None:
        try:
            self.storage.delete([self.key])
        except Exception:
            logger.warning("Could not delete an unused avatar copy", extra={"key": self.key})


def _same_message(used_by: dict[str, Any], identity: dict[str, str]) -> bool:
    return used_by.get("kind") == "message" and all(
        used_by.get(k) == v for k, v in identity.items()
    )


@dataclass
class MediaService:
    uploads: UploadStore
    storage: ObjectStorage
    limiter: RateLimiter | None = None
    signer: UrlSigner | None = None
    # The avatars' public base URL: the CDN in front of the bucket's avatars/ prefix.
    avatars_base_url: str | None = None
    upload_window: timedelta = timedelta(minutes=15)

    # -- uploads ------------------------------------------------------------------------------
    def create_upload(self, ctx: RequestContext, request: CreateUploadRequest) -> CreatedUpload:
        caller = ctx.caller
        if self.limiter is not None:
            self.limiter.acquire(UPLOAD, str(caller))
        upload_id = uuid.uuid4()
        key = f"{UPLOADS_PREFIX}{caller}/{upload_id}"
        now = utcnow()
        expires_at = now + self.upload_window
        form = self.storage.presigned_post(
            key, request.content_type, request.size, int(self.upload_window.total_seconds())
        )
        self.uploads.add(
            Upload(
                upload_id=upload_id,
                owner_id=caller,
                purpose=request.purpose,
                content_type=request.content_type,
                size=request.size,
                filename=request.filename,
                key=key,
                created_at=now,
                expires_at=expires_at,
            )
        )
        return CreatedUpload(upload_id=upload_id, upload=form, expires_at=expires_at)

    def _arrived(self, upload: Upload) -> ObjectInfo:
        """The object as declared (size and type), else UploadIncomplete."""
        info = self.storage.head(upload.key)
        if (
            info is None
            or info.size != upload.size
            or info.content_type.split(";", 1)[0].strip().lower() != upload.content_type
        ):
            raise UploadIncomplete(upload.upload_id)
        return info

    def _copy_verified(self, upload: Upload, destination: str) -> None:
        info = self._arrived(upload)
        if not self.storage.copy(upload.key, destination, info.etag):
            raise UploadIncomplete(upload.upload_id)  # replaced between the check and the copy

    # -- attachments ----------------------------------------------------------------------------
    def prepare_attachments(
        self,
        owner: uuid.UUID,
        upload_ids: Sequence[uuid.UUID],
        chat_id: uuid.UUID,
        message_id: uuid.UUID,
        dedupe_key: str,
    ) -> PreparedAttachments:
        """Check each upload (the caller's, of purpose attachment, complete, unused) and copy it
        under the message's prefix. An upload already used by this very message (same chat,
        author and client_message_id: a retry) is taken as it was, so the store can answer the
        retry with the original message."""
        found = self.uploads.of_owner(owner, upload_ids)
        identity = {"chat_id": str(chat_id), "author_id": str(owner), "dedupe_key": dedupe_key}
        prepared = PreparedAttachments(owner, [], self.uploads, self.storage, self.signer)
        to_copy: list[tuple[Upload, str]] = []
        for index, upload_id in enumerate(upload_ids):
            upload = found.get(upload_id)
            if upload is None:
                raise UploadNotFound(upload_id)
            if upload.purpose != "attachment":
                raise InvalidInput(
                    "validation_failed",
                    "An avatar upload cannot be attached to a message",
                    errors=[{"field": f"attachment_ids.{index}", "message": "not an attachment"}],
                )
            if upload.used_by is not None:
                if not _same_message(upload.used_by, identity):
                    raise UploadUsed(upload_id)
                prepared.stored.append(StoredAttachment.from_doc(upload.used_by["attachment"]))
                continue
            key = f"{ATTACHMENTS_PREFIX}{chat_id}/{message_id}/{upload_id}"
            stored = StoredAttachment(
                upload_id, upload.content_type, upload.size, upload.filename, key
            )
            prepared.stored.append(stored)
            prepared.used_by[upload_id] = {
                "kind": "message",
                **identity,
                "message_id": str(message_id),
                "attachment": stored.to_doc(),
            }
            to_copy.append((upload, key))

        def copy(item: tuple[Upload, str]) -> str | BaseException:
            try:
                self._copy_verified(*item)
            except BaseException as exc:  # reported below, after every copy has settled
                return exc
            return item[1]

        outcomes = _parallel(copy, to_copy)
        prepared.copied = [o for o in outcomes if isinstance(o, str)]
        failure = next((o for o in outcomes if isinstance(o, BaseException)), None)
        if failure is not None:
            prepared.release()
            raise failure
        return prepared

    def remove_message_attachments(self, chat_id: uuid.UUID, message_id: uuid.UUID) -> int:
        """A message deleted for everyone: its files go too (idempotent)."""
        return self.storage.delete_prefix(f"{ATTACHMENTS_PREFIX}{chat_id}/{message_id}/")

    def erase_user(self, user: uuid.UUID) -> int:
        """`user.deleted`: the user's avatars and uploaded objects, then their upload records (in
        that order: a retry still finds the records); how many objects. The files of their
        messages go with the messages' `message.deleted` (remove_message_attachments)."""
        removed = self.storage.delete_prefix(f"{AVATARS_PREFIX}{user}/")
        removed += self.storage.delete_prefix(f"{UPLOADS_PREFIX}{user}/")
        removed += self.storage.delete_prefix(f"{EXPORTS_PREFIX}{user}/")
        self.uploads.erase_owner(user)
        return removed

    # -- data exports -------------------------------------------------------------------------
    def store_export(self, owner: uuid.UUID, export_id: uuid.UUID, body: bytes) -> str:
        """Write a user's archive under exports/ (private; the bucket's lifecycle expires it);
        its key. Writing it again (a redelivered request) replaces it."""
        key = f"{EXPORTS_PREFIX}{owner}/{export_id}.json"
        self.storage.put(key, body, "application/json")
        return key

    # -- avatars ------------------------------------------------------------------------------
    def _avatar_url(self, key: str) -> str:
        if not self.avatars_base_url:
            raise RuntimeError("AVATARS_BASE_URL is not set for this function")
        return f"{self.avatars_base_url.rstrip('/')}/{key.removeprefix(AVATARS_PREFIX)}"

    def prepare_avatar(self, owner: uuid.UUID, upload_id: uuid.UUID) -> PreparedAvatar:
        """Check the upload (the caller's, an image avatar, complete, unused) and copy it to a
        fresh key under avatars/: its URL is stable for as long as it is the avatar."""
        upload = self.uploads.of_owner(owner, [upload_id]).get(upload_id)
        if upload is None:
            raise UploadNotFound(upload_id)
        if upload.purpose != "avatar":
            raise InvalidInput(
                "validation_failed",
                "Only an upload of purpose avatar can become the avatar",
                errors=[{"field": "avatar_upload_id", "message": "not an avatar upload"}],
            )
        if upload.used_by is not None:
            raise UploadUsed(upload_id)
        key = f"{AVATARS_PREFIX}{owner}/{uuid.uuid4()}"
        url = self._avatar_url(key)
        self._copy_verified(upload, key)
        return PreparedAvatar(owner, upload_id, key, url, self.uploads, self.storage)

    def discard_avatar(self, url: str | None) -> None:
        """Delete the object behind a replaced avatar URL if it is one of ours (a plain https
        URL set by the client is not). Best effort: the profile no longer shows it."""
        if not url or not self.avatars_base_url:
            return
        base = self.avatars_base_url.rstrip("/") + "/"
        if not url.startswith(base):
            return
        key = AVATARS_PREFIX + url[len(base) :]
        try:
            self.storage.delete([key])
        except Exception:
            logger.warning("Could not delete the previous avatar", extra={"key": key})
