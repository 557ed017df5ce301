"""Mail through Amazon SES v2 (SendEmail, raw MIME: a text/plain part and its text/html
alternative), from the verified identity's address, in the configuration set (its event
destinations see bounces and complaints). Locally SES_ENDPOINT points at the moto server, which
keeps every message (`GET /_local/mail` on the local gateway reads them back)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import cached_property
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from messenger.kernel.errors import Unavailable
from messenger.platform.observability import logger

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
        # Loaded by the first mail, not at init: VerifyEmail and ConfirmPasswordReset build
        # this mailer and never send (botocore's session: 242 more modules, about 100 ms).
        from botocore.config import Config

        from messenger.platform import aws

        return aws.client(
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
        try:
            self._client.send_email(**request)
        except BotoCoreError as exc:  # unreachable, or no answer in time
            raise Unavailable("The mail service is unavailable; retry shortly") from exc
        except ClientError as exc:
            # SES refused it: throttled, sending paused, or set up wrong (an unverified sender;
            # in the sandbox, an unverified recipient). The mail is not out either way: the
            # caller may retry (503, never a 500), and the reason is the operator's to read.
            error = exc.response.get("Error", {})
            logger.error(
                "SES refused a mail",
                extra={"ses_code": error.get("Code"), "ses_message": error.get("Message")},
            )
            raise Unavailable("The mail service did not take the message; retry later") from exc
