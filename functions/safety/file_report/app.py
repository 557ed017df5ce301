"""POST /v1/reports: report a user, a chat or a message to the moderators."""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import reports_service
from messenger.safety.models import ReportFiledResponse, ReportRequest
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

app = create_resolver()
reports = reports_service()


@app.post(
    "/v1/reports",
    summary="Report a user, chat or message",
    tags=["safety"],
    responses=problem_responses(
        "not_participant",
        "chat_not_found",
        "message_not_found",
        "user_not_found",
        "rate_limited",
        ok={202: "Filed for the moderators"},
        body=True,
    ),
)
def file_report(body: ReportRequest) -> Response[ReportFiledResponse]:
    report_id = reports.file(request_context(app), body)
    return respond(ReportFiledResponse(report_id=report_id), HTTPStatus.ACCEPTED)


lambda_handler = entrypoint(app)
