"""Reports in MongoDB (collection `reports`), written with their event through the Mongo outbox."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from messenger.platform import mongo, mongo_outbox

if TYPE_CHECKING:
    from messenger.platform.unit_of_work import UnitOfWork
    from messenger.safety.events import ReportFiled


class MongoReports:
    def add(self, report: ReportFiled, uow: UnitOfWork) -> None:
        doc = {**report.model_dump(mode="json"), "_id": str(report.report_id)}
        doc["filed_at"] = report.filed_at

        def work(session: Any) -> None:
            mongo.database().reports.insert_one(doc, session=session)

        mongo_outbox.transact(uow, work)
