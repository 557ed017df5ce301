"""SNS mobile push locally: the platform applications the deployment parameters name in AWS
(APNs, APNs sandbox, FCM), created on the moto server, so the device functions find real ARNs.

moto keeps every message published to a platform endpoint (it sends nothing): the local
gateway's `/_local/notifications` reads them back from moto's own state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from messenger_local.template import REGION

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

# The variable each platform's application ARN is given in (the functions' settings), and the
# SNS platform it is an application of.
PLATFORM_APPLICATIONS = {
    "APNS_PLATFORM_APPLICATION_ARN": ("messenger-apns", "APNS"),
    "APNS_SANDBOX_PLATFORM_APPLICATION_ARN": ("messenger-apns-sandbox", "APNS_SANDBOX"),
    "FCM_PLATFORM_APPLICATION_ARN": ("messenger-fcm", "GCM"),
}


def client(endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "sns",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto accepts any
    )


def ensure_platform_applications(endpoint: str) -> dict[str, str]:
    """Create the three applications (idempotent); {variable: ARN} for the functions."""
    sns = client(endpoint)
    arns = {}
    for variable, (name, platform) in PLATFORM_APPLICATIONS.items():
        created = sns.create_platform_application(
            Name=name,
            Platform=platform,
            Attributes={"PlatformCredential": "local", "PlatformPrincipal": "local"},
        )
        arns[variable] = created["PlatformApplicationArn"]
    return arns


NOTIFICATIONS_PATH = "/_local/notifications"
FIELDS = ("device_id", "platform", "title", "body", "badge", "data", "sent_at")


def published(endpoint: str, user_id: str | None) -> list[dict[str, Any]]:
    """What moto's SNS kept of every publish to a platform endpoint, as API.md shows it (the
    `default` message the notifier writes beside each platform's payload), newest first."""
    import json
    import urllib.request

    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=10) as response:  # noqa: S310 - the local moto server
        state = json.loads(response.read())
    items = []
    for platform_endpoint in state.get("sns", {}).get("PlatformEndpoint", []):
        for message in (platform_endpoint.get("messages") or {}).values():
            try:
                notification = json.loads(json.loads(message)["default"])
            except (ValueError, KeyError, TypeError):
                continue  # not one of ours
            if user_id is None or notification.get("user_id") == user_id:
                items.append({k: notification.get(k) for k in FIELDS})
    return sorted(items, key=lambda n: str(n["sent_at"]), reverse=True)


class LocalNotifications:
    """`GET /_local/notifications?user_id=`: every push notification published locally."""

    def __init__(self, endpoint: Callable[[], str | None]) -> None:
        self.endpoint = endpoint

    @staticmethod
    def serves(method: str, path: str) -> bool:
        return method == "GET" and path == NOTIFICATIONS_PATH

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        import json

        import anyio.to_thread
        from starlette.requests import Request
        from starlette.responses import Response

        endpoint = self.endpoint()
        if not endpoint:
            response = Response(status_code=503, content="no local SNS (moto) configured")
        else:
            user_id = Request(scope, receive).query_params.get("user_id")
            items = await anyio.to_thread.run_sync(published, endpoint, user_id)
            response = Response(
                json.dumps({"items": items}), status_code=200, media_type="application/json"
            )
        await response(scope, receive, send)
