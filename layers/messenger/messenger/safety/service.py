"""Reports: checked (a message only by a participant of its chat), snapshotted, stored with
their `report.filed` event in one transaction; reporters are rate-limited (REPORT)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from messenger.kernel.clock import utcnow
from messenger.kernel.errors import NotFound
from messenger.platform.ratelimit import REPORT, RateLimiter
from messenger.platform.unit_of_work import EventOutbox as EventOutbox  # for the wiring
from messenger.platform.unit_of_work import UnitOfWork
from messenger.safety.events import ReportFiled

if TYPE_CHECKING:
    from collections.abc import Sequence

    from messenger.kernel.context import RequestContext
    from messenger.safety.models import ReportRequest
    from messenger.users.api import Profile


class ReportStore(Protocol):
    def add(self, report: ReportFiled, uow: UnitOfWork) -> None:
        """Store the report; the events recorded in `uow` commit with it."""


class Evidence(Protocol):
    """messenger.chats.api: what a participant may report, as it is now."""

    def report_snapshot(
        self, reader: uuid.UUID, chat_id: uuid.UUID | None, message_id: uuid.UUID | None
    ) -> tuple[uuid.UUID, dict[str, Any]]:
        """(the chat's id, a snapshot of the chat and message); raises NotFound or Forbidden."""


class Profiles(Protocol):
    def profiles_by_ids(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Profile]: ...


@dataclass
class ReportsService:
    store: ReportStore
    evidence: Evidence
    users: Profiles
    outbox: EventOutbox
    limiter: RateLimiter

    def file(self, ctx: RequestContext, request: ReportRequest) -> uuid.UUID:
        caller = ctx.caller
        self.limiter.acquire(REPORT, str(caller))
        snapshot: dict[str, Any] = {}
        chat_id = request.chat_id
        if request.message_id is not None or request.chat_id is not None:
            chat_id, snapshot = self.evidence.report_snapshot(
                caller, request.chat_id, request.message_id
            )
        if request.user_id is not None:
            profile = self.users.profiles_by_ids([request.user_id]).get(request.user_id)
            if profile is None:
                raise NotFound("user_not_found", "No user has this id")
            snapshot["user"] = profile.model_dump(mode="json")
        report = ReportFiled(
            report_id=uuid.uuid4(),
            reporter_id=caller,
            reason=request.reason,
            comment=request.comment,
            user_id=request.user_id,
            message_id=request.message_id,
            chat_id=chat_id,
            snapshot=snapshot,
            filed_at=utcnow(),
        )
        with UnitOfWork(self.outbox, ctx.correlation_id) as uow:
            uow.record(report)
            self.store.add(report, uow)
        return report.report_id
