"""What the safety context publishes: `report.filed`, keyed by the reporter (topic `user-events`,
decision 45), for moderators."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from messenger.kernel.events import Event, registry
from messenger.kernel.fields import Timestamp
from messenger.safety.models import ReportReason


class ReportFiled(Event):
    """The report and a snapshot of what it names as it was when filed (`snapshot`: the
    message, chat and/or user profile), so deleting it later does not destroy the evidence."""

    event_type: ClassVar[str] = "report.filed"

    report_id: uuid.UUID
    reporter_id: uuid.UUID
    reason: ReportReason
    comment: str | None
    user_id: uuid.UUID | None
    message_id: uuid.UUID | None
    chat_id: uuid.UUID | None
    snapshot: dict[str, Any]
    filed_at: Timestamp

    def key(self) -> str:
        return str(self.reporter_id)


EVENT_TYPES = registry(ReportFiled)
