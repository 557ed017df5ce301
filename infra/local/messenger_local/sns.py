"""SNS mobile push locally: the platform applications the deployment parameters name in AWS
(APNs, APNs sandbox, FCM), created on the moto server, so the device functions find real ARNs.

moto keeps every message published to a platform endpoint (it sends nothing): the local
gateway's `/_local/notifications` reads them back from moto's own state.
"""

from __future__ import annotations

from typing import Any

from messenger_local.template import REGION

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
