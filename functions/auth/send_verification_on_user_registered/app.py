"""MSK consumer of `user.registered`: mails the new account its verification link (the
registration's request never waits for SES). Once per event (inbox); an account whose provider
vouched for its address is verified already and gets no mail. Other event types are skipped."""

from __future__ import annotations

# First, before pydantic: Powertools' batch types load its parser models (~20 modules,
# 100+ ms) when pydantic is already imported (tests/unit/test_cold_start_imports.py).
from messenger.web.consumers import kafka_entrypoint

# isort: split
from messenger.auth.events import UserRegistered
from messenger.bootstrap import email_service
from messenger.kernel.events import EventEnvelope
from messenger.platform.observability import logger

mails = email_service()


def send_verification(event: EventEnvelope) -> None:
    registered = event.parse(UserRegistered)
    if registered is None:
        return
    if not mails.on_registered(event.id, registered.user_id):
        logger.info("Duplicate delivery skipped")


lambda_handler = kafka_entrypoint(send_verification)
