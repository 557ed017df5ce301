"""GET /v1/users/me/exports/{export_id}: an export's status, with a signed URL once ready."""

from __future__ import annotations

import uuid

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import export_status
from messenger.users.models import ExportStatus
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

app = create_resolver()
exports = export_status()


@app.get(
    "/v1/users/me/exports/<export_id>",
    summary="Get a data export",
    description="`url` (signed) and `expires_at` once ready. Someone else's or an unknown id: 404.",
    tags=["users"],
    responses=problem_responses(
        "export_not_found", "validation_failed", ok={200: "The export"}, path=True
    ),
)
def get_export(export_id: uuid.UUID) -> Response[ExportStatus]:
    return respond(exports.export_status(request_context(app), export_id))


lambda_handler = entrypoint(app)
