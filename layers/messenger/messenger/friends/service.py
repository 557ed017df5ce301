"""Friends use-cases. Every transition is decided by one pure function over the pair's row.

The store runs `decide` inside a transaction holding the pair's lock, then writes the row; the
event the decision names is recorded in the unit of work there and commits with the row, so
concurrent requests on one pair serialize: two users asking each other at the same moment end as
one friendship, never two pending requests.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Literal, Protocol

from pydantic import AfterValidator, ConfigDict, Field, TypeAdapter

from messenger.friends.events import (
    FRIENDSHIP_EVENTS,
    FriendshipRemoved,
    UserBlocked,
    UserUnblocked,
)
from messenger.friends.models import (
    DEFAULT_PAGE,
    BlockedUser,
    Friend,
    FriendRequest,
    FriendsOverview,
)
from messenger.kernel.clock import rfc3339, utcnow
from messenger.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from messenger.kernel.fields import Text
from messenger.kernel.pagination import ACTIVITY_KEY, Page, decode_cursor, encode_cursor
from messenger.platform.ratelimit import FRIEND_REQUEST, RateLimiter
from messenger.platform.unit_of_work import EventOutbox as EventOutbox  # for the bootstrap
from messenger.platform.unit_of_work import UnitOfWork
from messenger.users.api import Profile

if TYPE_CHECKING:
    from messenger.kernel.context import RequestContext


Status = Literal["pending", "accepted", "rejected"]

MAX_REQUESTS = 500  # incoming and outgoing each, on the first page
FRIENDSHIP_EVENT_TYPES = {e.event_type: e for e in FRIENDSHIP_EVENTS}


def _lower_case(nickname: str) -> str:
    if nickname != nickname.lower():
        raise ValueError("not a lower-cased nickname")
    return nickname


# A friends page's cursor: the last friend's [lower(nickname), user_id].
FRIENDS_KEY: TypeAdapter[tuple[str, uuid.UUID]] = TypeAdapter(
    tuple[
        Annotated[Text, Field(min_length=1, max_length=64), AfterValidator(_lower_case)], uuid.UUID
    ],
    config=ConfigDict(defer_build=True),
)


def parse_cursor(cursor: str) -> tuple[str, uuid.UUID]:
    """The key after which a friends page starts; else a 422 (the shared decoder)."""
    return decode_cursor(cursor, FRIENDS_KEY)


@dataclass(frozen=True)
class Friendship:
    """The one row of an unordered pair (low < high)."""

    low: uuid.UUID
    high: uuid.UUID
    status: Status
    requested_by: uuid.UUID
    requested_at: datetime
    responded_at: datetime | None = None

    def other(self, user: uuid.UUID) -> uuid.UUID:
        return self.high if user == self.low else self.low


@dataclass(frozen=True)
class Decision:
    """What a transition does: the row afterwards (None: delete it), the event, the answer."""

    row: Friendship | None
    event_type: str | None
    answer: Literal["requested", "accepted", "rejected", "removed"]


def pair(a: uuid.UUID, b: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    """Postgres orders uuids bytewise, Python by their integer: the same order."""
    return (a, b) if a < b else (b, a)


@dataclass(frozen=True)
class Relations:
    """A user's relations as the list reads them: each friend's id (canonical string) with the
    time they became friends (ISO 8601), and the pending rows both ways."""

    friends: dict[str, str]
    pending: list[Friendship]


@dataclass(frozen=True)
class FriendEntry:
    """A row of a user's friend list: the friend under their sort key (lower(nickname))."""

    friend: uuid.UUID
    sort_key: str
    since: datetime


# Each of the pair's current sort key with its profile version (the users context's
# `nickname_sort_keys`); the store asks for it only when a friendship is accepted.
SortKeys = Callable[[], dict[uuid.UUID, tuple[str, datetime]]]


@dataclass(frozen=True)
class BlockSets:
    """A user's blocks both ways, as canonical id strings: whom they blocked, who blocked them."""

    blocked: frozenset[str] = frozenset()
    blockers: frozenset[str] = frozenset()


# Inside a block's transaction, with the friendship row it ended (None: there was none).
BlockRecorder = Callable[[Friendship | None], None]


class Friendships(Protocol):
    def transition(
        self,
        a: uuid.UUID,
        b: uuid.UUID,
        decide: Callable[[Friendship | None], Decision],
        uow: UnitOfWork,
        sort_keys: SortKeys,
        refuse_blocked: Callable[[frozenset[uuid.UUID]], None] | None = None,
    ) -> Decision:
        """Under the pair's lock: (`refuse_blocked` with whoever of the two blocked the other,
        which raises to refuse,) read the row, decide, write the row, and add the pair to (or
        take it from) both friend lists when it becomes (or stops being) a friendship; the
        events `decide` recorded in `uow` commit with it."""

    def block(
        self,
        blocker: uuid.UUID,
        blocked: uuid.UUID,
        at: datetime,
        uow: UnitOfWork,
        record: BlockRecorder,
    ) -> bool:
        """Under the pair's lock: add the block and delete the pair's friendship row (accepted
        or pending, either way), calling `record` with that row; False (nothing committed) if
        the block existed."""

    def unblock(self, blocker: uuid.UUID, blocked: uuid.UUID, uow: UnitOfWork) -> bool:
        """False (nothing committed) if there was no such block."""

    def blocks_page(
        self, blocker: uuid.UUID, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> list[tuple[uuid.UUID, datetime]]:
        """Whom the user blocked, newest first, below the (blocked_at, user id) key."""

    def block_sets(self, user: uuid.UUID) -> BlockSets: ...

    def of_user(self, user: uuid.UUID) -> list[Friendship]:
        """Every pending or accepted row the user is part of."""

    def friends_page(
        self, owner: uuid.UUID, after: tuple[str, uuid.UUID] | None, limit: int
    ) -> list[FriendEntry]:
        """Up to `limit` of the owner's friends after the (sort key, user id) key, in that order:
        one range of an index, whatever the number of friends."""

    def pending(self, user: uuid.UUID) -> list[Friendship]:
        """The pending requests the user sent or received."""

    def relations(self, user: uuid.UUID) -> Relations:
        """The same rows, shaped for the friends list (cheap for a user with many friends)."""

    def forget(self, *users: uuid.UUID) -> None:
        """Drop cached relations of these users (no-op without a cache)."""


class UserDirectory(Protocol):
    """The users context's public queries."""

    def profile_by_nickname(self, nickname: str) -> Profile | None: ...

    def profiles_by_ids(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Profile]: ...

    def nickname_sort_keys(
        self, user_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[str, datetime]]: ...


class Presence(Protocol):
    """The realtime context's public query: who holds a live connection (one batch)."""

    def online_among(self, user_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]: ...


def decide_request(
    row: Friendship | None, caller: uuid.UUID, other: uuid.UUID, now: datetime, cooldown: timedelta
) -> Decision:
    low, high = pair(caller, other)
    fresh = Friendship(low, high, "pending", caller, now)
    if row is None:
        return Decision(fresh, "friendship.requested", "requested")
    if row.status == "accepted":
        raise Conflict("already_friends", "You are already friends")
    if row.status == "pending":
        if row.requested_by == caller:
            raise Conflict("request_pending", "Your request is waiting for an answer")
        return Decision(
            replace(row, status="accepted", responded_at=now), "friendship.accepted", "accepted"
        )
    # rejected: the rejected party must wait out the cooldown; the rejecting one may ask anytime.
    if row.requested_by == caller and row.responded_at and now - row.responded_at < cooldown:
        raise Conflict(
            "request_rejected",
            "This user rejected your request recently; try again later",
            retry_after=rfc3339(row.responded_at + cooldown),
        )
    return Decision(fresh, "friendship.requested", "requested")


def decide_answer(
    row: Friendship | None, caller: uuid.UUID, accept: bool, now: datetime
) -> Decision:
    if row is None or row.status != "pending" or row.requested_by == caller:
        raise NotFound("request_not_found", "No pending request from this user to you")
    if accept:
        return Decision(
            replace(row, status="accepted", responded_at=now), "friendship.accepted", "accepted"
        )
    return Decision(
        replace(row, status="rejected", responded_at=now), "friendship.rejected", "rejected"
    )


def decide_removal(row: Friendship | None, caller: uuid.UUID) -> Decision:
    if row is not None and (
        row.status == "accepted" or (row.status == "pending" and row.requested_by == caller)
    ):
        return Decision(None, "friendship.removed", "removed")
    raise NotFound("not_friends", "You are neither friends with this user nor asking to be")


def refuse_blocked_request(blockers: frozenset[uuid.UUID], caller: uuid.UUID) -> None:
    """A blocked user asking the blocker learns nothing (the blocker "does not exist"); a
    blocker asking whom they blocked is told to unblock first."""
    if blockers - {caller}:
        raise NotFound("user_not_found", "No user has this nickname")
    if caller in blockers:
        raise Forbidden("blocked", "You blocked this user; unblock them first")


@dataclass
class FriendsService:
    friendships: Friendships
    users: UserDirectory
    outbox: EventOutbox
    cooldown: timedelta
    limiter: RateLimiter
    presence: Presence | None = None

    def _other(self, nickname: str, code: str, detail: str) -> Profile:
        profile = self.users.profile_by_nickname(nickname)
        if profile is None:
            raise NotFound(code, detail)
        return profile

    def _apply(
        self,
        ctx: RequestContext,
        other: uuid.UUID,
        decide: Callable[[Friendship | None], Decision],
        refuse_blocked: Callable[[frozenset[uuid.UUID]], None] | None = None,
    ) -> Decision:
        caller = ctx.caller
        with UnitOfWork(self.outbox, ctx.correlation_id) as uow:

            def decided(row: Friendship | None) -> Decision:
                decision = decide(row)
                if decision.event_type is not None:
                    event = FRIENDSHIP_EVENT_TYPES[decision.event_type]
                    uow.record(event(from_user_id=caller, to_user_id=other, at=utcnow()))
                return decision

            decision = self.friendships.transition(
                caller,
                other,
                decided,
                uow,
                lambda: self.users.nickname_sort_keys([caller, other]),
                refuse_blocked,
            )
            # Before the events go out: whoever reacts to them reads the new relations.
            self.friendships.forget(caller, other)
        return decision

    def request(self, ctx: RequestContext, nickname: str) -> Decision:
        caller = ctx.caller
        self.limiter.acquire(FRIEND_REQUEST, str(caller))
        other = self._other(nickname, "user_not_found", "No user has this nickname")
        if other.user_id == caller:
            raise InvalidInput("cannot_befriend_self", "You cannot send yourself a friend request")
        now = utcnow()
        return self._apply(
            ctx,
            other.user_id,
            lambda row: decide_request(row, caller, other.user_id, now, self.cooldown),
            lambda blockers: refuse_blocked_request(blockers, caller),
        )

    def answer(self, ctx: RequestContext, nickname: str, accept: bool) -> Decision:
        caller = ctx.caller
        other = self._other(nickname, "request_not_found", "No pending request from this user")
        now = utcnow()
        return self._apply(ctx, other.user_id, lambda row: decide_answer(row, caller, accept, now))

    def remove(self, ctx: RequestContext, nickname: str) -> None:
        caller = ctx.caller
        other = self._other(nickname, "not_friends", "You are not friends with this user")
        self._apply(ctx, other.user_id, lambda row: decide_removal(row, caller))

    def overview(
        self, ctx: RequestContext, limit: int = DEFAULT_PAGE, cursor: str | None = None
    ) -> FriendsOverview:
        """A page of friends in (lower(nickname), user_id) order; requests on the first page.

        The page is one range of the caller's friend list (decision 62), the profiles and
        presence one batch each for the page's friends: no step reads every friend.
        """
        user = ctx.caller
        after = parse_cursor(cursor) if cursor else None
        found = self.friendships.friends_page(user, after, limit + 1)
        page = found[:limit]
        ids = [entry.friend for entry in page]
        profiles = self.users.profiles_by_ids(ids) if ids else {}
        online = self.presence.online_among(ids) if self.presence and ids else set()
        friends = [
            Friend.model_construct(
                user_id=entry.friend,
                nickname=profile.nickname,
                avatar_url=profile.avatar_url,
                since=entry.since,
                online=entry.friend in online,
            )
            for entry in page
            # a friend erased a moment ago: their rows go with the user.deleted consumer
            if (profile := profiles.get(entry.friend)) is not None
        ]
        last = page[-1] if len(found) > limit else None
        overview = FriendsOverview.model_construct(
            friends=friends,
            incoming=[],
            outgoing=[],
            next_cursor=encode_cursor([last.sort_key, str(last.friend)]) if last else None,
        )
        if after is None:
            overview.incoming, overview.outgoing = self._requests(
                user, self.friendships.pending(user)
            )
        return overview

    def _requests(
        self, user: uuid.UUID, rows: Sequence[Friendship]
    ) -> tuple[list[FriendRequest], list[FriendRequest]]:
        """Pending requests both ways, newest first, at most MAX_REQUESTS each."""
        pending = sorted(rows, key=lambda r: r.requested_at, reverse=True)
        incoming = [r for r in pending if r.requested_by != user][:MAX_REQUESTS]
        outgoing = [r for r in pending if r.requested_by == user][:MAX_REQUESTS]
        profiles = self.users.profiles_by_ids([r.other(user) for r in incoming + outgoing])

        def build(chosen: list[Friendship]) -> list[FriendRequest]:
            return [
                FriendRequest.model_construct(
                    user_id=profile.user_id,
                    nickname=profile.nickname,
                    avatar_url=profile.avatar_url,
                    requested_at=row.requested_at,
                )
                for row in chosen
                # a profile not created yet: show it once it exists
                if (profile := profiles.get(row.other(user))) is not None
            ]

        return build(incoming), build(outgoing)

    # -- blocks ------------------------------------------------------------------------------
    def block(self, ctx: RequestContext, user_id: uuid.UUID) -> bool:
        """Idempotent: blocking again changes and publishes nothing (False). Ends the pair's
        friendship or pending request in the same transaction (`friendship.removed` too)."""
        caller = ctx.caller
        if user_id == caller:
            raise InvalidInput("cannot_block_self", "You cannot block yourself")
        if not self.users.profiles_by_ids([user_id]):
            raise NotFound("user_not_found", "No user has this id")
        now = utcnow()
        with UnitOfWork(self.outbox, ctx.correlation_id) as uow:

            def record(ended: Friendship | None) -> None:
                uow.record(UserBlocked(user_id=caller, blocked_user_id=user_id, at=now))
                if ended is not None:
                    uow.record(FriendshipRemoved(from_user_id=caller, to_user_id=user_id, at=now))

            created = self.friendships.block(caller, user_id, now, uow, record)
            self.friendships.forget(caller, user_id)  # before the events go out
        return created

    def unblock(self, ctx: RequestContext, user_id: uuid.UUID) -> bool:
        """Idempotent: no block, nothing published (False). The friendship does not come back."""
        caller = ctx.caller
        with UnitOfWork(self.outbox, ctx.correlation_id) as uow:
            uow.record(UserUnblocked(user_id=caller, blocked_user_id=user_id, at=utcnow()))
            removed = self.friendships.unblock(caller, user_id, uow)
            self.friendships.forget(caller, user_id)
        return removed

    def blocks(
        self, ctx: RequestContext, limit: int = DEFAULT_PAGE, cursor: str | None = None
    ) -> Page[BlockedUser]:
        """Newest first, keyset-paged on (blocked_at, user_id); nicknames in one batch."""
        after = decode_cursor(cursor, ACTIVITY_KEY) if cursor else None
        found = self.friendships.blocks_page(ctx.caller, limit + 1, after)
        page = found[:limit]
        profiles = self.users.profiles_by_ids([user for user, _ in page])
        items = [
            BlockedUser(
                user_id=user,
                nickname=profile.nickname if (profile := profiles.get(user)) else None,
                blocked_at=at,
            )
            for user, at in page
        ]
        next_cursor = None
        if len(found) > limit:
            user, at = page[-1]
            next_cursor = encode_cursor([at.isoformat(), str(user)])
        return Page[BlockedUser](items=items, next_cursor=next_cursor)
