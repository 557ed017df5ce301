"""POST /v1/users/me/exports: ask for a JSON archive of my data (built asynchronously)."""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import export_requests
from messenger.users.models import ExportStatus
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

app = create_resolver()
exports = export_requests()


@app.post(
    "/v1/users/me/exports",
    summary="Request a data export",
    description=(
        "A JSON archive of the caller's account, profile, friends, chats and the messages they "
        "authored (attachments as URLs), built asynchronously: poll its status. While one is "
        "pending, asking again answers that one; at most 3 requests in 24 hours (429 with "
        "Retry-After)."
    ),
    tags=["users"],
    responses=problem_responses("rate_limited", ok={202: "The export, pending"}),
)
def request_export() -> Response[ExportStatus]:
    return respond(exports.request_export(request_context(app)), HTTPStatus.ACCEPTED)


lambda_handler = entrypoint(app)
