"""GET /v1/devices: the caller's push devices (every session's), oldest first."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import devices_service
from messenger.notifications.models import DeviceList
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

app = create_resolver()
devices = devices_service()


@app.get(
    "/v1/devices",
    summary="List my push devices",
    tags=["notifications"],
    responses=problem_responses(ok={200: "My devices, oldest first"}),
)
def list_devices() -> Response[DeviceList]:
    return respond(devices.list(request_context(app)))


lambda_handler = entrypoint(app)
