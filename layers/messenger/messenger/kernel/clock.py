"""Time in one place: UTC, millisecond precision (what the API shows is what is stored)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def rfc3339(moment: datetime) -> str:
    """`2026-11-26T16:30:31.123Z`, the API's timestamp format."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
