"""Profile creation from `user.registered`: idempotent, never dropping a registration."""

from __future__ import annotations

import re
import uuid

import pytest

from messenger.auth.events import UserRegistered
from messenger.kernel.clock import utcnow
from messenger.kernel.context import RequestContext
from messenger.kernel.errors import NotFound
from messenger.kernel.events import EventEnvelope
from messenger.kernel.fields import NICKNAME_PATTERN
from messenger.platform.events import new_event
from messenger.users.service import UsersService, nickname_variants
from tests.unit.fakes import FakeProfiles

pytestmark = pytest.mark.unit


def registered(nickname: str, user_id: uuid.UUID | None = None):  # type: ignore[no-untyped-def]
    user_id = user_id or uuid.uuid4()
    data = UserRegistered(
        user_id=user_id, email=f"{user_id}@example.com", nickname=nickname, registered_at=utcnow()
    )
    return new_event("user.registered", str(user_id), data).envelope


def received(event: EventEnvelope) -> tuple[uuid.UUID, UserRegistered]:
    """What the consumer hands the use-case: the event's id and its data, parsed."""
    data = event.parse(UserRegistered)
    assert data is not None
    return event.id, data


def test_profile_is_created_once_per_event() -> None:
    service = UsersService(FakeProfiles())
    event = registered("alice")
    assert service.create_profile_on_registration(*received(event)) is not None
    assert service.create_profile_on_registration(*received(event)) is None
    assert len(service.profiles.rows) == 1  # type: ignore[attr-defined]


def test_a_nickname_lost_in_a_race_gets_a_unique_variant() -> None:
    service = UsersService(FakeProfiles())
    first = service.create_profile_on_registration(*received(registered("alice")))
    second = service.create_profile_on_registration(*received(registered("ALICE")))
    assert first is not None
    assert second is not None
    assert first.nickname == "alice"
    assert second.nickname == "ALICE_2"


@pytest.mark.parametrize("nickname", ["abc", "a" * 32, "x.y_z"])
def test_every_variant_is_a_valid_nickname(nickname: str) -> None:
    variants = nickname_variants(nickname)
    produced = [next(variants) for _ in range(15)]
    assert produced[0] == nickname
    assert len(set(produced)) == 15
    assert all(re.fullmatch(NICKNAME_PATTERN, v) for v in produced)


def test_own_profile_before_creation_is_not_ready() -> None:
    with pytest.raises(NotFound) as missing:
        UsersService(FakeProfiles()).own_profile(RequestContext(uuid.uuid4()))
    assert missing.value.code == "profile_not_ready"


def test_public_profile_hides_the_email() -> None:
    service = UsersService(FakeProfiles())
    created = service.create_profile_on_registration(*received(registered("bob")))
    assert created is not None
    public = service.profile_by_nickname("BOB")
    assert "email" not in public.model_dump()
    with pytest.raises(NotFound) as missing:
        service.profile(uuid.uuid4())
    assert missing.value.code == "user_not_found"
