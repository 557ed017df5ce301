"""POST /v1/uploads: a presigned POST for one file, pinned to its type and exact size."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.media.models import CreatedUpload, CreateUploadRequest
from messenger.media.wiring import upload_service
from messenger.platform.observability import MetricUnit, logger, metrics
from messenger.web.api_docs import problem_responses
from messenger.web.http import caller_id, create_resolver, respond

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
    created = media.create_upload(caller_id(app), body)
    metrics.add_metric(name="UploadsCreated", unit=MetricUnit.Count, value=1)
    return respond(created, HTTPStatus.CREATED)


@metrics.log_metrics  # EMF to stdout; empty when the request added none
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
