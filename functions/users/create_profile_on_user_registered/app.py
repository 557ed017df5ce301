"""MSK consumer of `user.registered`: creates the profile, once per event, never dropping one.

Other event types on the topic are skipped. A nickname lost to a concurrent registration gets a
unique variant; a record that keeps failing is reported and ends in the on-failure destination.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

# First, before pydantic: Powertools' batch types load its parser models (~20 modules,
# 100+ ms) when pydantic is already imported (tests/unit/test_cold_start_imports.py).
from messenger.web.consumers import process_kafka_batch

# isort: split
from messenger.bootstrap import users_service
from messenger.platform.events import EventEnvelope
from messenger.platform.observability import logger

users = users_service()


def create_profile(event: EventEnvelope) -> None:
    if event.type != "user.registered":
        return
    profile = users.create_profile_on_registration(event)
    if profile is None:
        logger.info("Duplicate delivery skipped")
    else:
        logger.info("Profile created", extra={"user_id": str(profile.user_id)})


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_kafka_batch(event, context, create_profile)
