"""The media context's public operations, for other contexts (chats: attachments; users:
avatars). Importing this module loads nothing: the S3 client, botocore's signer and the uploads
store are loaded by the first call that needs them, so a function that never meets a file never
pays for them.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import uuid
    from collections.abc import Sequence

    from messenger.media.adapters.signer import S3UrlSigner
    from messenger.media.models import Attachment
    from messenger.media.service import MediaService, PreparedAttachments, PreparedAvatar


@cache
def _service() -> MediaService:
    """Made by the first call that needs it, with its S3 client: every use reaches S3."""
    from messenger.media.wiring import media_service

    return media_service(eager=True)


@cache
def _signer() -> S3UrlSigner:
    from messenger.media.wiring import url_signer

    return url_signer()


def signed(documents: Sequence[dict[str, Any]] | None) -> list[Attachment]:
    """A message's stored attachments (as its document embeds them) with download URLs signed
    now: local computation, no network call. Nothing is loaded for a message without files."""
    if not documents:
        return []
    from messenger.media.models import StoredAttachment
    from messenger.media.service import signed_attachments

    return signed_attachments([StoredAttachment.from_doc(d) for d in documents], _signer())


def prepare_attachments(
    owner: uuid.UUID,
    upload_ids: Sequence[uuid.UUID],
    chat_id: uuid.UUID,
    message_id: uuid.UUID,
    dedupe_key: str,
) -> PreparedAttachments:
    """Verify the uploads and copy them under the message's prefix; the message's store then
    embeds `documents` and calls `claim(session)` inside its transaction, or `release()` if the
    message was not stored. Raises NotFound/Conflict/InvalidInput (API.md codes)."""
    return _service().prepare_attachments(owner, upload_ids, chat_id, message_id, dedupe_key)


def prepare_avatar(owner: uuid.UUID, upload_id: uuid.UUID) -> PreparedAvatar:
    """Verify an avatar upload and copy it to its stable place: `url` is the new avatar_url;
    `commit()` after the profile is saved, `release()` if it was not."""
    return _service().prepare_avatar(owner, upload_id)


def discard_avatar(url: str | None) -> None:
    """The profile no longer shows this avatar URL: delete its object if it is one of ours."""
    if owns_avatar_url(url):
        _service().discard_avatar(url)


def owns_avatar_url(url: str | None) -> bool:
    """Whether the URL points at an avatar this context stored (settings only, no I/O)."""
    from messenger.platform.settings import get_settings

    base = get_settings().avatars_base_url
    return bool(url and base and url.startswith(base.rstrip("/") + "/"))
