"""Mail, locally: the functions send through SES v2 at SES_ENDPOINT (the moto server), which keeps
every message it accepted; `GET /_local/mail?to=<address>` on the local HTTP gateway reads them
back from moto's own inspection endpoint (`/moto-api/data.json`, its models' instances) and
answers `{"items": [{"to", "subject", "text", "sent_at"}]}`, newest first (API.md, "Local
development endpoints").

SES refuses mail from an identity it has not verified, as in AWS: the template's MailIdentity
(and its MailConfigurationSet) are created on the moto server when the gateway starts.
"""

from __future__ import annotations

import email
import email.policy
import json
import logging
import urllib.request
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs

from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from messenger_local.template import REGION

log = logging.getLogger("messenger_local.mail")

MAIL_PATH = "/_local/mail"


def client(endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "sesv2",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto accepts any
    )


def ensure_identity(endpoint: str, identity: str, configuration_set: str | None) -> None:
    from botocore.exceptions import ClientError

    ses = client(endpoint)
    calls: list[tuple[Any, dict[str, str]]] = [
        (ses.create_email_identity, {"EmailIdentity": identity})
    ]
    if configuration_set:
        calls.append((ses.create_configuration_set, {"ConfigurationSetName": configuration_set}))
    for call, kwargs in calls:
        try:
            call(**kwargs)
        except ClientError as exc:  # moto names these as SES v1 does; either way, it exists
            if "AlreadyExists" not in exc.response["Error"]["Code"]:
                raise


def _text_of(message: email.message.EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    return str(part.get_content()) if part is not None else ""


def sent_mails(endpoint: str) -> list[dict[str, Any]]:
    """Every mail the moto server's SES accepted, newest first."""
    with urllib.request.urlopen(f"{endpoint.rstrip('/')}/moto-api/data.json", timeout=10) as r:  # noqa: S310 - our moto server
        models = json.loads(r.read())
    ses = models.get("ses", {})
    mails: list[dict[str, Any]] = []
    for raw in ses.get("RawMessage", []):
        message = email.message_from_string(raw["raw_data"], policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        date = message["Date"]
        mails.append(
            {
                "to": [str(a) for a in raw.get("destinations") or []],
                "subject": str(message["Subject"] or ""),
                "text": _text_of(message),
                "sent_at": parsedate_to_datetime(str(date)).isoformat() if date else None,
            }
        )
    for simple in ses.get("Message", []):  # SendEmail with Simple content (no Date: kept last)
        destinations = simple.get("destinations") or {}
        mails.append(
            {
                "to": [a for v in destinations.values() for a in v],
                "subject": simple.get("subject", ""),
                "text": simple.get("body", ""),
                "sent_at": None,
            }
        )
    mails.sort(key=lambda m: m["sent_at"] or "", reverse=True)
    return mails


class LocalMailbox:
    def __init__(self, endpoint: str | None) -> None:
        self.endpoint = endpoint

    @staticmethod
    def serves(method: str, path: str) -> bool:
        return method == "GET" and path == MAIL_PATH

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        import anyio.to_thread

        response: Response
        if not self.endpoint:
            response = JSONResponse({"message": "no SES_ENDPOINT: no local mailbox"}, 503)
        else:
            query = parse_qs(scope.get("query_string", b"").decode())
            to = (query.get("to") or [""])[0].strip().lower()
            mails = await anyio.to_thread.run_sync(sent_mails, self.endpoint)
            items = [
                {**m, "to": ", ".join(m["to"])}
                for m in mails
                if not to or to in (a.lower() for a in m["to"])
            ]
            response = JSONResponse({"items": items})
        await response(scope, receive, send)
