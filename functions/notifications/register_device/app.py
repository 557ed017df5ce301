"""POST /v1/devices: the caller's phone for push notifications (its token, one SNS endpoint);
the same token again is the same device. It belongs to the caller's session (logout removes it)."""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import devices_service
from messenger.kernel.clock import utcnow
from messenger.notifications.models import Device, DeviceIn
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

app = create_resolver()
devices = devices_service()


@app.post(
    "/v1/devices",
    summary="Register a device for push notifications",
    tags=["notifications"],
    responses=problem_responses(
        ok={201: "Device registered", 200: "The device this token already is"}, body=True
    ),
)
def register_device(body: DeviceIn) -> Response[Device]:
    device, created = devices.register(request_context(app), body, utcnow())
    return respond(device, HTTPStatus.CREATED if created else HTTPStatus.OK)


lambda_handler = entrypoint(app)
