"""Mail through Amazon SES v2 (SendEmail, raw MIME: a text/plain part and its text/html
alternative), from the verified identity's address, in the configuration set (its event
destinations see bounces and complaints). Locally SES_ENDPOINT points at the moto server, which
keeps every message (`GET /_local/mail` on the local gateway reads them back)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import cached_property
from typing import TYPE_CHECKING, Any

from messenger.kernel.errors import register_unavailable

if TYPE_CHECKING:
    from messenger.auth.email import Mail


class SesMailer:
    def __init__(
        self,
        from_address: str,
        configuration_set: str | None,
        endpoint: str | None,
        region: str | None,
    ) -> None:
        self.from_address = from_address
        self.configuration_set = configuration_set
        self.endpoint = endpoint
        self.region = region

    @cached_property
    def _client(self) -> Any:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import ConnectionError as BotoConnectionError

        register_unavailable(BotoConnectionError)
        return boto3.client(
            "sesv2",
            endpoint_url=self.endpoint,
            region_name=self.region,
            config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2}),
        )

    def send(self, mail: Mail) -> None:
        message = EmailMessage()
        message["From"] = self.from_address
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(domain=self.from_address.rpartition("@")[2] or None)
        message.set_content(mail.text)
        message.add_alternative(mail.html, subtype="html")
        request: dict[str, Any] = {
            "FromEmailAddress": self.from_address,
            "Destination": {"ToAddresses": [mail.to]},
            "Content": {"Raw": {"Data": message.as_bytes()}},
        }
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        self._client.send_email(**request)
