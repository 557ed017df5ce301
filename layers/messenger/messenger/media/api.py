"""The media context's public operations, for other contexts (chats: attachments; users:
avatars). messenger.bootstrap hands a `MediaApi` over as the chats' `AttachmentClaims` and the
users' `Avatars` port, its service built on the first call that needs it (the S3 client, the
uploads store), so a function that never meets a file never pays for them.

`signed` is the one module-level operation: reading a message signs its files' URLs (local
computation, no network call), from the chats store's document mapping; its signer is made from
the settings by the first message with files.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from messenger.media.models import MAX_ATTACHMENTS, Attachment

if TYPE_CHECKING:
    import uuid
    from collections.abc import Sequence

    from messenger.media.adapters.signer import S3UrlSigner
    from messenger.media.service import PreparedAttachments, PreparedAvatar

__all__ = ["MAX_ATTACHMENTS", "Attachment", "MediaApi", "MediaOperations", "signed"]


class MediaOperations(Protocol):
    """What MediaApi asks of messenger.media.service.MediaService."""

    def prepare_attachments(
        self,
        owner: uuid.UUID,
        upload_ids: Sequence[uuid.UUID],
        chat_id: uuid.UUID,
        message_id: uuid.UUID,
        dedupe_key: str,
    ) -> PreparedAttachments: ...

    def prepare_avatar(self, owner: uuid.UUID, upload_id: uuid.UUID) -> PreparedAvatar: ...

    def discard_avatar(self, url: str | None) -> None: ...

    def store_export(self, owner: uuid.UUID, export_id: uuid.UUID, body: bytes) -> str: ...


@cache
def _signer() -> S3UrlSigner:
    from messenger.media.adapters.signer import configured_signer

    return configured_signer()


def signed(documents: Sequence[dict[str, Any]] | None) -> list[Attachment]:
    """A message's stored attachments (as its document embeds them) with download URLs signed
    now: local computation, no network call. Nothing is loaded for a message without files."""
    if not documents:
        return []
    from messenger.media.models import StoredAttachment
    from messenger.media.service import signed_attachments

    return signed_attachments([StoredAttachment.from_doc(d) for d in documents], _signer())


class MediaApi:
    def __init__(self, service: MediaOperations) -> None:
        self._service = service

    def prepare_attachments(
        self,
        owner: uuid.UUID,
        upload_ids: Sequence[uuid.UUID],
        chat_id: uuid.UUID,
        message_id: uuid.UUID,
        dedupe_key: str,
    ) -> PreparedAttachments:
        """Verify the uploads and copy them under the message's prefix; the message's store
        then embeds `documents` and calls `claim(session)` inside its transaction, or
        `release()` if the message was not stored. Raises NotFound/Conflict/InvalidInput
        (API.md codes)."""
        return self._service.prepare_attachments(owner, upload_ids, chat_id, message_id, dedupe_key)

    def prepare_avatar(self, owner: uuid.UUID, upload_id: uuid.UUID) -> PreparedAvatar:
        """Verify an avatar upload and copy it to its stable place: `url` is the new
        avatar_url; `commit()` after the profile is saved, `release()` if it was not."""
        return self._service.prepare_avatar(owner, upload_id)

    def store_export(self, owner: uuid.UUID, export_id: uuid.UUID, body: bytes) -> str:
        """Store a user's data export (JSON) privately; its key (sign it with `export_url`)."""
        return self._service.store_export(owner, export_id, body)

    def discard_avatar(self, url: str | None) -> None:
        """The profile no longer shows this avatar URL: delete its object if it is ours."""
        if owns_avatar_url(url):
            self._service.discard_avatar(url)


def export_url(key: str) -> tuple[str, int]:
    """A signed download URL of a stored archive and how many seconds it stays valid (signed
    in-process, as attachments are: no S3 client)."""
    signer = _signer()
    return signer.url(key), int(signer.expires_in)


def owns_avatar_url(url: str | None) -> bool:
    """Whether the URL points at an avatar this context stored (settings only, no I/O)."""
    from messenger.platform.settings import get_settings

    base = get_settings().avatars_base_url
    return bool(url and base and url.startswith(base.rstrip("/") + "/"))
