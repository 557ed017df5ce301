"""Every friendship transition, as the pure decisions the store applies under the pair's lock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from messenger.friends.service import (
    Friendship,
    decide_answer,
    decide_removal,
    decide_request,
    pair,
)
from messenger.kernel.errors import Conflict, NotFound

pytestmark = pytest.mark.unit

ANN, BOB = sorted([uuid.uuid4(), uuid.uuid4()])
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


def row(status: str, by: uuid.UUID, responded: datetime | None = None) -> Friendship:
    return Friendship(ANN, BOB, status, by, NOW - timedelta(hours=1), responded)  # type: ignore[arg-type]


def test_pair_is_ordered_like_postgres() -> None:
    a, b = uuid.UUID(int=1), uuid.UUID(int=2**127)
    assert pair(b, a) == pair(a, b) == (a, b)
    assert a.bytes < b.bytes


def test_first_request_is_pending() -> None:
    decision = decide_request(None, ANN, BOB, NOW, DAY)
    assert decision.answer == "requested"
    assert decision.event_type == "friendship.requested"
    assert decision.row is not None
    assert (decision.row.status, decision.row.requested_by) == ("pending", ANN)


def test_mutual_request_accepts() -> None:
    decision = decide_request(row("pending", BOB), ANN, BOB, NOW, DAY)
    assert decision.answer == "accepted"
    assert decision.event_type == "friendship.accepted"
    assert decision.row is not None
    assert (decision.row.status, decision.row.responded_at) == ("accepted", NOW)


@pytest.mark.parametrize(
    ("existing", "code"),
    [("accepted", "already_friends"), ("pending", "request_pending")],
)
def test_request_conflicts(existing: str, code: str) -> None:
    with pytest.raises(Conflict) as refused:
        decide_request(row(existing, ANN), ANN, BOB, NOW, DAY)
    assert refused.value.code == code


def test_rejected_requester_waits_out_the_cooldown() -> None:
    rejected = row("rejected", ANN, responded=NOW - timedelta(hours=23))
    with pytest.raises(Conflict) as refused:
        decide_request(rejected, ANN, BOB, NOW, DAY)
    assert refused.value.code == "request_rejected"
    assert refused.value.extra["retry_after"] == "2026-11-26T13:00:00.000Z"
    later = decide_request(rejected, ANN, BOB, NOW + timedelta(hours=1, seconds=1), DAY)
    assert later.answer == "requested"


def test_the_rejecting_side_may_ask_at_once() -> None:
    rejected = row("rejected", ANN, responded=NOW - timedelta(minutes=1))
    assert decide_request(rejected, BOB, ANN, NOW, DAY).answer == "requested"


def test_accept_and_reject_need_a_pending_request_from_the_other() -> None:
    incoming = row("pending", BOB)
    assert decide_answer(incoming, ANN, True, NOW).answer == "accepted"
    assert decide_answer(incoming, ANN, False, NOW).answer == "rejected"
    for impossible in (None, row("pending", ANN), row("accepted", BOB), row("rejected", BOB)):
        with pytest.raises(NotFound) as missing:
            decide_answer(impossible, ANN, True, NOW)
        assert missing.value.code == "request_not_found"


def test_removal_ends_a_friendship_or_cancels_my_request() -> None:
    assert decide_removal(row("accepted", BOB), ANN).row is None
    assert decide_removal(row("pending", ANN), ANN).event_type == "friendship.removed"
    for impossible in (None, row("pending", BOB), row("rejected", ANN)):
        with pytest.raises(NotFound) as missing:
            decide_removal(impossible, ANN)
        assert missing.value.code == "not_friends"
