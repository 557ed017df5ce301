"""MSK consumer of `user.registered`: creates the profile, once per event, never dropping one.

Other event types on the topic are skipped. A nickname lost to a concurrent registration gets a
unique variant; a record that keeps failing is reported and ends in the on-failure destination.
"""

from __future__ import annotations

# First, before pydantic: Powertools' batch types load its parser models (~20 modules,
# 100+ ms) when pydantic is already imported (tests/unit/test_cold_start_imports.py).
from messenger.web.consumers import kafka_entrypoint

# isort: split
from messenger.auth.events import UserRegistered
from messenger.bootstrap import users_service
from messenger.kernel.events import EventEnvelope
from messenger.platform.observability import logger

users = users_service()


def create_profile(event: EventEnvelope) -> None:
    registered = event.parse(UserRegistered)
    if registered is None:
        return
    profile = users.create_profile_on_registration(event.id, registered)
    if profile is None:
        logger.info("Duplicate delivery skipped")
    else:
        logger.info("Profile created", extra={"user_id": str(profile.user_id)})


lambda_handler = kafka_entrypoint(create_profile)
