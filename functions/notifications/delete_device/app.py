"""DELETE /v1/devices/{device_id}: no more notifications on that phone (its endpoint deleted)."""

from __future__ import annotations

import uuid

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import devices_service
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, no_content, request_context

app = create_resolver()
devices = devices_service()


@app.delete(
    "/v1/devices/<device_id>",
    summary="Remove a push device",
    tags=["notifications"],
    responses=problem_responses(
        "device_not_found", "validation_failed", no_content="Removed", path=True
    ),
)
def delete_device(device_id: uuid.UUID) -> Response[str]:
    devices.remove(request_context(app), device_id)
    return no_content()


lambda_handler = entrypoint(app)
