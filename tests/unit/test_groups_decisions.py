"""Every group change (issue 14) as the pure decision the store applies under the chat's
version: who may do what, the owner's succession, and the system messages each change adds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from messenger.chats.groups import (
    MAX_MEMBERS,
    GroupState,
    decide_add,
    decide_owner,
    decide_remove,
    decide_role,
    decide_title,
)
from messenger.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound

pytestmark = pytest.mark.unit

OWN, ADA, ABE, MIA, MO = (uuid.uuid4() for _ in range(5))  # owner, 2 admins, 2 members
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def group(**change: object) -> GroupState:
    state = GroupState(
        chat_id=uuid.uuid4(),
        type="group",
        title="g",
        participants=(OWN, ADA, ABE, MIA, MO),
        owner=OWN,
        admins=frozenset({ADA, ABE}),
        # ABE is the longest-standing admin, MO the longest-standing member.
        joined={
            OWN: T0,
            ADA: T0 + timedelta(days=3),
            ABE: T0 + timedelta(days=2),
            MIA: T0 + timedelta(days=5),
            MO: T0 + timedelta(days=1),
        },
    )
    return GroupState(**{**state.__dict__, **change})  # type: ignore[arg-type]


def code(error: pytest.ExceptionInfo[Exception]) -> str:
    return str(error.value.code)  # type: ignore[attr-defined]


def test_admins_and_the_owner_rename_members_do_not() -> None:
    change = decide_title(group(), ADA, "new")
    assert change.after is not None
    assert change.after.title == "new"
    assert [(n.event, n.title) for n in change.notes] == [("title_changed", "new")]
    assert change.title_changed
    assert not decide_title(group(), OWN, "g").changed  # the same title: nothing
    with pytest.raises(Forbidden) as refused:
        decide_title(group(), MIA, "new")
    assert code(refused) == "not_admin"


def test_direct_chats_have_none_of_it() -> None:
    direct = group(type="direct", participants=(OWN, MIA), admins=frozenset())
    for decide in (
        lambda: decide_title(direct, OWN, "x"),
        lambda: decide_add(direct, OWN, [MO], T0),
        lambda: decide_remove(direct, OWN, MIA),
        lambda: decide_role(direct, OWN, MIA, "admin"),
        lambda: decide_owner(direct, OWN, MIA),
    ):
        with pytest.raises(Conflict) as refused:
            decide()
        assert code(refused) == "direct_chat"


def test_adding_ignores_existing_members_and_caps_the_group() -> None:
    new = uuid.uuid4()
    change = decide_add(group(), ABE, [MIA, new, new], T0 + timedelta(days=9))
    assert change.added == (new,)
    assert change.after is not None
    assert change.after.participants[-1] == new
    assert change.after.role(new) == "member"
    assert change.after.joined[new] == T0 + timedelta(days=9)
    assert [(n.event, n.user_ids) for n in change.notes] == [("member_added", (new,))]
    assert not decide_add(group(), OWN, [MIA], T0).changed
    with pytest.raises(Forbidden):
        decide_add(group(), MIA, [new], T0)
    room = MAX_MEMBERS - 5
    decide_add(group(), OWN, [uuid.uuid4() for _ in range(room)], T0)  # exactly full: fine
    with pytest.raises(Conflict) as full:
        decide_add(group(), OWN, [uuid.uuid4() for _ in range(room + 1)], T0)
    assert code(full) == "chat_full"


def test_who_may_remove_whom() -> None:
    assert decide_remove(group(), ADA, MIA).removed == (MIA,)  # admin removes a member
    assert decide_remove(group(), OWN, ADA).removed == (ADA,)  # owner removes anyone
    for caller, target in ((ADA, ABE), (ADA, OWN), (MIA, MO)):
        with pytest.raises(Forbidden) as refused:
            decide_remove(group(), caller, target)
        assert code(refused) == "not_admin"
    with pytest.raises(NotFound) as absent:
        decide_remove(group(), OWN, uuid.uuid4())
    assert code(absent) == "not_member"
    with pytest.raises(Forbidden) as outsider:
        decide_remove(group(), uuid.uuid4(), MIA)
    assert code(outsider) == "not_participant"
    change = decide_remove(group(), MIA, MIA)  # anyone leaves
    assert [n.event for n in change.notes] == ["member_left"]
    assert change.after is not None
    assert MIA not in change.after.joined


def test_the_owner_leaving_passes_ownership_to_the_longest_standing_admin() -> None:
    change = decide_remove(group(), OWN, OWN)
    assert change.after is not None
    assert change.after.owner == ABE
    assert change.after.admins == {ADA}
    assert [(n.event, n.user_ids, n.role) for n in change.notes] == [
        ("member_left", (OWN,), None),
        ("role_changed", (ABE,), "owner"),
    ]
    assert change.roles_changed


def test_without_admins_the_longest_standing_member_becomes_owner() -> None:
    change = decide_remove(group(admins=frozenset()), OWN, OWN)
    assert change.after is not None
    assert change.after.owner == MO


def test_the_last_member_leaving_ends_the_chat() -> None:
    alone = group(participants=(OWN,), admins=frozenset(), joined={OWN: T0})
    change = decide_remove(alone, OWN, OWN)
    assert change.after is None
    assert change.removed == (OWN,)


def test_only_the_owner_promotes_demotes_and_hands_over() -> None:
    change = decide_role(group(), OWN, MIA, "admin")
    assert change.after is not None
    assert change.after.role(MIA) == "admin"
    assert [(n.event, n.role) for n in change.notes] == [("role_changed", "admin")]
    change = decide_role(group(), OWN, ADA, "member")
    assert change.after is not None
    assert change.after.role(ADA) == "member"
    assert not decide_role(group(), OWN, MIA, "member").changed
    with pytest.raises(Forbidden):
        decide_role(group(), ADA, MIA, "admin")
    with pytest.raises(InvalidInput):
        decide_role(group(), OWN, OWN, "member")
    handed = decide_owner(group(), OWN, MIA)
    assert handed.after is not None
    assert (handed.after.owner, handed.after.role(OWN)) == (MIA, "admin")
    with pytest.raises(Forbidden):
        decide_owner(group(), ADA, MIA)
    with pytest.raises(NotFound):
        decide_owner(group(), OWN, uuid.uuid4())
    assert not decide_owner(group(), OWN, OWN).changed


def test_there_is_always_exactly_one_owner() -> None:
    state = group()
    for decide in (
        lambda s: decide_remove(s, s.owner, s.owner),
        lambda s: decide_owner(s, s.owner, s.participants[-1]),
        lambda s: decide_role(
            s, s.owner, next(p for p in s.participants if s.role(p) == "member"), "admin"
        ),
    ):
        change = decide(state)
        assert change.after is not None
        state = change.after
        roles = [state.role(p) for p in state.participants]
        assert roles.count("owner") == 1
        assert state.owner in state.participants
