"""Per-user limits: defaults (API.md), arithmetic, and where the use-cases apply them."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, cast

import pytest

from messenger.chats.models import CreateChatRequest, SendMessageRequest
from messenger.chats.service import ChatsService, ChatStore, FriendDirectory
from messenger.friends.service import Friendships, FriendsService, UserDirectory
from messenger.kernel.context import RequestContext
from messenger.kernel.errors import RateLimited
from messenger.platform.ratelimit import (
    CREATE_CHAT,
    FRIEND_REQUEST,
    REPORT,
    SEND_MESSAGE,
    UPLOAD,
    Limit,
    configured_limits,
    retry_after_seconds,
)
from messenger.platform.settings import Settings
from tests.unit.fakes import FakeOutbox, FakeRateLimiter

pytestmark = pytest.mark.unit


def test_defaults_are_the_contract() -> None:
    limits = configured_limits(Settings())
    # (sustained per second, burst)
    assert limits[SEND_MESSAGE].rate / limits[SEND_MESSAGE].period_seconds == 10
    assert limits[SEND_MESSAGE].burst == 20
    assert limits[SEND_MESSAGE].interval_ms == 100
    assert (limits[CREATE_CHAT].rate, limits[CREATE_CHAT].period_seconds) == (30, 60)
    assert (limits[FRIEND_REQUEST].rate, limits[FRIEND_REQUEST].period_seconds) == (30, 3600)
    assert (limits[UPLOAD].rate, limits[UPLOAD].period_seconds) == (20, 60)
    assert (limits[REPORT].rate, limits[REPORT].period_seconds) == (10, 3600)
    assert limits[FRIEND_REQUEST].interval_ms == 120_000


def test_limits_are_settings() -> None:
    settings = Settings.model_validate(
        {"rate_limit_send_message_per_second": "3", "rate_limit_send_message_burst": "4"}
    )
    assert configured_limits(settings)[SEND_MESSAGE] == Limit(
        3, 1, 4, "Too many messages; slow down"
    )
    with pytest.raises(ValueError, match="rate_limit_report_per_hour"):
        Settings.model_validate({"rate_limit_report_per_hour": "0"})


@pytest.mark.parametrize(
    ("wait_ms", "seconds"), [(1, 1), (100, 1), (999, 1), (1000, 1), (1001, 2), (119_999, 120)]
)
def test_retry_after_is_whole_seconds_rounded_up(wait_ms: int, seconds: int) -> None:
    assert retry_after_seconds(wait_ms) == seconds


class Untouched:
    """A port the use-case must not reach once the limiter refused."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"{name} was called although the action was refused")


def chats(limiter: FakeRateLimiter) -> ChatsService:
    return ChatsService(
        store=cast(ChatStore, Untouched()),
        friends=cast(FriendDirectory, Untouched()),
        outbox=FakeOutbox(),
        limiter=limiter,
    )


def test_sending_and_creating_chats_are_limited_per_caller_before_any_work() -> None:
    limiter = FakeRateLimiter(allowance={SEND_MESSAGE: 0, CREATE_CHAT: 0})
    caller = RequestContext(uuid.uuid4())
    with pytest.raises(RateLimited) as refused:
        chats(limiter).send(caller, uuid.uuid4(), SendMessageRequest(content="hi"))
    assert (refused.value.code, refused.value.retry_after_seconds) == ("rate_limited", 3)
    with pytest.raises(RateLimited):
        chats(limiter).create(caller, CreateChatRequest(participants=[uuid.uuid4()]))


def test_friend_requests_are_limited_per_caller_before_any_work() -> None:
    limiter = FakeRateLimiter(allowance={FRIEND_REQUEST: 0})
    service = FriendsService(
        friendships=cast(Friendships, Untouched()),
        users=cast(UserDirectory, Untouched()),
        outbox=FakeOutbox(),
        cooldown=timedelta(hours=24),
        limiter=limiter,
    )
    with pytest.raises(RateLimited):
        service.request(RequestContext(uuid.uuid4()), "bob")
