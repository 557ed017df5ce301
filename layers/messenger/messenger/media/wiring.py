"""Composition root of the media context (functions call a factory at module scope; the other
contexts reach it through messenger.media.api)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from messenger.media.service import MediaService
from messenger.platform.settings import get_settings

if TYPE_CHECKING:
    from messenger.media.adapters.signer import S3UrlSigner
    from messenger.media.adapters.storage import S3Storage


def storage(*, eager: bool = False) -> S3Storage:
    """The bucket; `eager` makes the S3 client now (at init: in the SnapStart snapshot)."""
    from messenger.media.adapters.storage import S3Storage

    settings = get_settings()
    found = S3Storage(settings.media_bucket, settings.s3_endpoint, settings.aws_region)
    if eager:
        _ = found.client
    return found


def url_signer() -> S3UrlSigner:
    from messenger.media.adapters.signer import S3UrlSigner

    settings = get_settings()
    return S3UrlSigner(
        settings.media_bucket,
        settings.aws_region,
        settings.s3_endpoint,
        settings.download_url_ttl_seconds,
    )


def _service(*, eager: bool = False, limited: bool = False) -> MediaService:
    from messenger.media.adapters.uploads import MongoUploads

    settings = get_settings()
    limiter = None
    if limited:
        from messenger.platform.ratelimit import RedisRateLimiter, configured_limits

        limiter = RedisRateLimiter(configured_limits(settings))
    return MediaService(
        uploads=MongoUploads(),
        storage=storage(eager=eager),
        limiter=limiter,
        signer=url_signer(),
        avatars_base_url=settings.avatars_base_url,
        upload_window=timedelta(seconds=settings.upload_window_seconds),
    )


def upload_service() -> MediaService:
    """CreateUpload: its one use-case signs a POST with the S3 client, so the client is made at
    init; the rate limiter counts uploads per user."""
    return _service(eager=True, limited=True)


def media_service(*, eager: bool = False) -> MediaService:
    """Attaching, avatars and cleanup (the other contexts, the consumer); `eager` makes the S3
    client at once."""
    return _service(eager=eager)
