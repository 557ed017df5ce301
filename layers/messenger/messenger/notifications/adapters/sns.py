"""SNS mobile push: one platform endpoint per device token, on the platform application of its
platform (APNs, APNs sandbox, FCM: deployment parameters, docs/operations.md). Locally the moto
server's SNS, whose platform applications the local gateway creates.

SNS unreachable, throttling or failing is `unavailable` (503); calls are bounded (1 s connect,
2 s read, no retry).
"""

from __future__ import annotations

import dataclasses
import json
from functools import cache
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from messenger.kernel.clock import rfc3339, utcnow
from messenger.kernel.errors import InvalidInput, register_unavailable_check
from messenger.notifications.models import Platform
from messenger.notifications.notifier import Published
from messenger.platform import aws, deadline
from messenger.platform.settings import get_settings

if TYPE_CHECKING:
    from messenger.notifications.notifier import Notification
    from messenger.notifications.service import StoredDevice

CONNECT_TIMEOUT_SECONDS = 1
READ_TIMEOUT_SECONDS = 2
CALL_SECONDS = CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS
RETRYABLE_CODES = frozenset({"InternalError", "Throttled", "ThrottlingException", "KMSThrottling"})


def sns_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, BotoCoreError):
        return True
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error.get("Code") in RETRYABLE_CODES or int(status) >= 500
    return False


register_unavailable_check(sns_unavailable)


@cache
def client() -> Any:
    from botocore.config import Config

    settings = get_settings()
    return aws.client(
        "sns",
        region_name=settings.aws_region,
        endpoint_url=settings.sns_endpoint,
        config=Config(
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            read_timeout=READ_TIMEOUT_SECONDS,
            retries={"max_attempts": 1, "mode": "standard"},
        ),
    )


def application_arn(platform: Platform) -> str:
    """The platform's application; a platform this environment has none for is refused (422)."""
    settings = get_settings()
    arns = {
        "apns": settings.apns_platform_application_arn,
        "apns_sandbox": settings.apns_sandbox_platform_application_arn,
        "fcm": settings.fcm_platform_application_arn,
    }
    arn = arns[platform]
    if not arn:
        raise InvalidInput(
            "validation_failed",
            f"Push notifications to {platform} are not enabled here",
            errors=[{"field": "platform", "message": "not enabled in this environment"}],
        )
    return arn


class SnsEndpoints:
    def create(self, platform: Platform, token: str) -> str:
        deadline.require(CALL_SECONDS)
        arn = str(
            client().create_platform_endpoint(
                PlatformApplicationArn=application_arn(platform), Token=token
            )["EndpointArn"]
        )
        # A token SNS disabled earlier (the app was reinstalled) is live again once registered.
        deadline.require(CALL_SECONDS)
        client().set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "true"})
        return arn

    def delete(self, endpoint_arn: str) -> None:
        deadline.require(CALL_SECONDS)
        client().delete_endpoint(EndpointArn=endpoint_arn)  # deleting a gone one succeeds


class SnsPublisher:
    """One publish per device, in each platform's own payload. The `default` message (which no
    platform receives when each has its own) carries the notification as API.md describes it:
    what the local gateway's /_local/notifications shows from moto's records."""

    def publish(self, device: StoredDevice, notification: Notification) -> Published:
        alert = {"title": notification.title, "body": notification.body}
        apns = json.dumps(
            {"aps": {"alert": alert, "badge": notification.badge}, **notification.data}
        )
        fcm = json.dumps(
            {
                "notification": alert,
                "data": {**notification.data, "badge": str(notification.badge)},
            }
        )
        default = {
            "user_id": str(device.user_id),
            "device_id": str(device.device_id),
            "platform": device.platform,
            **dataclasses.asdict(notification),
            "sent_at": rfc3339(utcnow()),
        }
        message = {"default": json.dumps(default), "APNS": apns, "APNS_SANDBOX": apns, "GCM": fcm}
        deadline.require(CALL_SECONDS)
        try:
            client().publish(
                TargetArn=device.endpoint_arn,
                Message=json.dumps(message),
                MessageStructure="json",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("EndpointDisabled", "NotFound"):
                return Published.DISABLED
            raise
        return Published.SENT
