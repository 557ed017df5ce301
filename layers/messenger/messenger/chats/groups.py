"""Groups: members, roles and title (API.md "Groups: members, roles, title").

Every change is a pure decision over the group as stored (`GroupState`), taken inside the
store's transaction: the store reads the chat, calls the decision, writes what it says (members,
roles, title, the system messages) only if the chat's `version` is still the one it read, and
otherwise reads and decides again. So concurrent adds, removals and role changes serialize: the
member list, the counters and the roles stay consistent, and there is always exactly one owner
(a single field, moved only by a decision that names the next one).

Chats created before roles existed have no `owner` field: their creator reads as the owner and
every member's `joined_at` as the chat's creation (read defaults; a group created since stores
every member's, and a change writes the `joined_at` of those it adds).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from messenger.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound

Role = Literal["owner", "admin", "member"]
SystemEvent = Literal[
    "member_added", "member_removed", "member_left", "title_changed", "role_changed"
]
MAX_MEMBERS = 100  # API.md: at most 100 members (409 chat_full)


@dataclass(frozen=True)
class SystemNote:
    """One system message of a change (API.md: `system: {event, user_ids, title?}`; `role`
    is ours, for role_changed)."""

    event: SystemEvent
    user_ids: tuple[uuid.UUID, ...]
    title: str | None = None
    role: Role | None = None


@dataclass(frozen=True)
class GroupState:
    chat_id: uuid.UUID
    type: Literal["direct", "group"]
    title: str | None
    participants: tuple[uuid.UUID, ...]
    owner: uuid.UUID
    admins: frozenset[uuid.UUID]
    joined: Mapping[uuid.UUID, datetime]

    def role(self, user: uuid.UUID) -> Role:
        if user == self.owner:
            return "owner"
        return "admin" if user in self.admins else "member"

    def seniority(self, user: uuid.UUID) -> tuple[datetime, int]:
        """Longest-standing first: by joined_at, then by place in the member list."""
        return self.joined[user], self.participants.index(user)


@dataclass(frozen=True)
class GroupChange:
    """What a decision does: the group afterwards (None: the last member left, the chat ends),
    who was added and removed, and the system messages to add. `changed` False: nothing to
    write, nothing published."""

    after: GroupState | None
    added: tuple[uuid.UUID, ...] = ()
    removed: tuple[uuid.UUID, ...] = ()
    notes: tuple[SystemNote, ...] = ()
    title_changed: bool = False
    roles_changed: bool = False
    changed: bool = True


def _group(state: GroupState) -> None:
    if state.type != "group":
        raise Conflict("direct_chat", "A direct chat has two members and no roles or title")


def _participant(state: GroupState, caller: uuid.UUID) -> None:
    if caller not in state.participants:
        raise Forbidden("not_participant", "You are not a participant of this chat")


def _admin(state: GroupState, caller: uuid.UUID) -> None:
    _participant(state, caller)
    _group(state)
    if state.role(caller) == "member":
        raise Forbidden("not_admin", "Only the group's owner or an admin may do this")


def _owner(state: GroupState, caller: uuid.UUID) -> None:
    _participant(state, caller)
    _group(state)
    if caller != state.owner:
        raise Forbidden("not_admin", "Only the group's owner may do this")


def _member(state: GroupState, user: uuid.UUID) -> None:
    if user not in state.participants:
        raise NotFound("not_member", "This user is not a member of the group")


def decide_title(state: GroupState, caller: uuid.UUID, title: str) -> GroupChange:
    _admin(state, caller)
    if title == state.title:
        return GroupChange(state, changed=False)
    return GroupChange(
        replace(state, title=title),
        notes=(SystemNote("title_changed", (), title=title),),
        title_changed=True,
    )


def decide_add(
    state: GroupState, caller: uuid.UUID, users: Sequence[uuid.UUID], now: datetime
) -> GroupChange:
    """Existing members are ignored; the rest join now, as members, if they fit."""
    _admin(state, caller)
    new = tuple(u for u in dict.fromkeys(users) if u not in state.participants)
    if not new:
        return GroupChange(state, changed=False)
    if len(state.participants) + len(new) > MAX_MEMBERS:
        raise Conflict("chat_full", f"A group has at most {MAX_MEMBERS} members")
    after = replace(
        state,
        participants=state.participants + new,
        joined={**state.joined, **dict.fromkeys(new, now)},
    )
    return GroupChange(after, added=new, notes=(SystemNote("member_added", new),))


def decide_remove(state: GroupState, caller: uuid.UUID, target: uuid.UUID) -> GroupChange:
    """Leave (oneself), or remove: an admin removes members, the owner anyone. The owner leaving
    passes ownership on; the last member leaving ends the chat (after: None)."""
    _participant(state, caller)
    _group(state)
    _member(state, target)
    may_remove = state.role(caller) == "owner" or (
        state.role(caller) == "admin" and state.role(target) == "member"
    )
    if caller != target and not may_remove:
        raise Forbidden("not_admin", "Only the owner, or an admin for a member, may remove")
    rest = tuple(p for p in state.participants if p != target)
    event: SystemEvent = "member_left" if caller == target else "member_removed"
    notes = [SystemNote(event, (target,))]
    if not rest:
        return GroupChange(None, removed=(target,), notes=tuple(notes))
    owner, admins = state.owner, state.admins - {target}
    if target == state.owner:
        admins_left = [p for p in rest if p in admins]
        owner = min(admins_left or rest, key=state.seniority)
        admins = admins - {owner}
        notes.append(SystemNote("role_changed", (owner,), role="owner"))
    joined = {u: at for u, at in state.joined.items() if u != target}
    after = replace(state, participants=rest, owner=owner, admins=admins, joined=joined)
    return GroupChange(
        after, removed=(target,), notes=tuple(notes), roles_changed=owner != state.owner
    )


def decide_role(
    state: GroupState, caller: uuid.UUID, target: uuid.UUID, role: Literal["admin", "member"]
) -> GroupChange:
    _owner(state, caller)
    _member(state, target)
    if target == state.owner:
        raise InvalidInput(
            "validation_failed",
            "The owner's role changes by handing ownership on (POST /v1/chats/{id}/owner)",
            errors=[{"field": "user_id", "message": "is the owner"}],
        )
    if state.role(target) == role:
        return GroupChange(state, changed=False)
    admins = state.admins | {target} if role == "admin" else state.admins - {target}
    return GroupChange(
        replace(state, admins=frozenset(admins)),
        notes=(SystemNote("role_changed", (target,), role=role),),
        roles_changed=True,
    )


def decide_owner(state: GroupState, caller: uuid.UUID, target: uuid.UUID) -> GroupChange:
    """The owner hands ownership on; they stay on as an admin."""
    _owner(state, caller)
    _member(state, target)
    if target == caller:
        return GroupChange(state, changed=False)
    admins = (state.admins - {target}) | {caller}
    return GroupChange(
        replace(state, owner=target, admins=frozenset(admins)),
        notes=(
            SystemNote("role_changed", (target,), role="owner"),
            SystemNote("role_changed", (caller,), role="admin"),
        ),
        roles_changed=True,
    )
