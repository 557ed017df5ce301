"""POST /v1/uploads: a presigned POST for one file, pinned to its type and exact size."""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import upload_service
from messenger.media.models import CreatedUpload, CreateUploadRequest
from messenger.platform.observability import MetricUnit, metrics
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

app = create_resolver()
media = upload_service()


@app.post(
    "/v1/uploads",
    summary="Start an upload",
    description="The client then POSTs `upload.fields` plus the file (last, as `file`) as "
    "multipart/form-data to `upload.url`, before `expires_at`, and names `upload_id` in "
    "`attachment_ids` (a message) or `avatar_upload_id` (PATCH /v1/users/me).",
    tags=["media"],
    responses=problem_responses("rate_limited", ok={201: "Upload ready"}, body=True),
)
def create_upload(body: CreateUploadRequest) -> Response[CreatedUpload]:
    created = media.create_upload(request_context(app), body)
    metrics.add_metric(name="UploadsCreated", unit=MetricUnit.Count, value=1)
    return respond(created, HTTPStatus.CREATED)


lambda_handler = entrypoint(app, flush_metrics=True)
