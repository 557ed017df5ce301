"""Sessions beyond one token: refresh with rotation and reuse detection, listing, revocation,
password change, and the operations account deletion calls (messenger.auth.api)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from messenger.auth.api import AuthApi
from messenger.auth.models import (
    ChangePasswordRequest,
    LoginRequest,
    LoginResponse,
    RegisterRequest,
)
from messenger.auth.service import (
    LoginService,
    PasswordService,
    RegistrationService,
    SessionListing,
)
from messenger.auth.session import SessionService, hash_token
from messenger.kernel.clock import utcnow
from messenger.kernel.context import RequestContext
from messenger.kernel.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    RateLimited,
    Unauthenticated,
)
from tests.unit.fakes import (
    FakeAccounts,
    FakeNicknames,
    FakeOutbox,
    FakePasswords,
    FakeSessions,
    FakeThrottle,
)

pytestmark = pytest.mark.unit

IP = "198.51.100.7"
PASSWORD = "correct horse"


class Auth:
    def __init__(self) -> None:
        self.nicknames = FakeNicknames()
        self.accounts = FakeAccounts(nicknames=self.nicknames)
        self.passwords = FakePasswords()
        self.throttle = FakeThrottle()
        self.store = FakeSessions()
        self.ended: list[tuple[uuid.UUID, str]] = []
        self.sessions = SessionService(
            self.store,
            access_ttl=timedelta(hours=1),
            refresh_ttl=timedelta(days=60),
            ended=[lambda user, sid: self.ended.append((user, sid))],
        )
        self.registration = RegistrationService(
            self.accounts, self.passwords, self.nicknames, FakeOutbox()
        )
        self.logins = LoginService(self.accounts, self.sessions, self.throttle, self.passwords)
        self.password = PasswordService(self.accounts, self.sessions, self.throttle, self.passwords)
        self.listing = SessionListing(self.store)
        self.api = AuthApi(self.store, ender=self.sessions, passwords=self.password)

    def account(self, email: str = "ann@example.com") -> uuid.UUID:
        nickname = email.split("@")[0]
        registered = self.registration.register(
            RequestContext(), RegisterRequest(email=email, password=PASSWORD, nickname=nickname)
        )
        return registered.user_id

    def login(self, email: str = "ann@example.com", agent: str | None = "app/1") -> LoginResponse:
        return self.logins.login(LoginRequest(email=email, password=PASSWORD), IP, agent)

    def ctx(self, session: LoginResponse) -> RequestContext:
        identity = self.sessions.identify(session.access_token)
        assert identity is not None
        return RequestContext(user_id=identity[0], session_id=identity[1])


@pytest.fixture
def auth() -> Auth:
    return Auth()


def test_login_answers_a_refresh_token_with_its_lifetime(auth: Auth) -> None:
    auth.account()
    session = auth.login()
    assert session.refresh_token
    assert session.refresh_token != session.access_token
    assert session.expires_in == 3600
    assert session.refresh_expires_in == 60 * 24 * 3600
    assert hash_token(session.refresh_token) in auth.store.refresh
    assert session.refresh_token.encode() not in auth.store.refresh


def test_refresh_rotates_and_keeps_the_session_id(auth: Auth) -> None:
    auth.account()
    first = auth.login()
    sid = auth.ctx(first).session_id
    second = auth.sessions.refresh(first.refresh_token)
    assert second.access_token != first.access_token
    assert second.refresh_token != first.refresh_token
    assert auth.ctx(second).session_id == sid
    third = auth.sessions.refresh(second.refresh_token)
    assert auth.ctx(third).session_id == sid
    assert auth.ended == []


def test_a_reused_refresh_token_revokes_every_token_of_its_session(auth: Auth) -> None:
    user = auth.account()
    first = auth.login()
    other = auth.login()
    sid = auth.ctx(first).session_id
    second = auth.sessions.refresh(first.refresh_token)
    with pytest.raises(Unauthenticated) as refused:
        auth.sessions.refresh(first.refresh_token)  # retired: stolen or replayed
    assert refused.value.code == "invalid_token"
    assert auth.ended == [(user, sid)]
    for token in (first.access_token, second.access_token):
        assert auth.sessions.identify(token) is None
    with pytest.raises(Unauthenticated):
        auth.sessions.refresh(second.refresh_token)  # descended from the same login
    assert auth.sessions.identify(other.access_token) is not None  # another login lives on
    assert len(auth.ended) == 1


def test_unknown_and_expired_refresh_tokens_are_invalid(auth: Auth) -> None:
    auth.account()
    with pytest.raises(Unauthenticated) as refused:
        auth.sessions.refresh("not-a-token")
    assert refused.value.code == "invalid_token"
    session = auth.login()
    digest = hash_token(session.refresh_token)
    sid, _, used = auth.store.refresh[digest]
    auth.store.refresh[digest] = (sid, utcnow() - timedelta(seconds=1), used)
    with pytest.raises(Unauthenticated):
        auth.sessions.refresh(session.refresh_token)
    assert auth.ended == []  # expiry is not reuse: nothing was revoked


def test_logout_ends_the_session_with_its_refresh_token(auth: Auth) -> None:
    user = auth.account()
    session = auth.login()
    sid = auth.ctx(session).session_id
    auth.sessions.logout(session.access_token)
    assert auth.ended == [(user, sid)]
    with pytest.raises(Unauthenticated):
        auth.sessions.refresh(session.refresh_token)
    auth.sessions.logout(session.access_token)
    assert len(auth.ended) == 1


def test_listing_marks_the_current_session_and_pages(auth: Auth) -> None:
    auth.account()
    sessions = [auth.login(agent=f"app/{i}") for i in range(3)]
    ctx = auth.ctx(sessions[1])
    page = auth.listing.list_sessions(ctx, 2, None)
    assert len(page.items) == 2
    assert page.next_cursor is not None
    rest = auth.listing.list_sessions(ctx, 2, page.next_cursor)
    assert rest.next_cursor is None
    items = page.items + rest.items
    assert sorted(i.session_id for i in items) == sorted(auth.ctx(s).session_id for s in sessions)
    assert [i.session_id for i in items if i.current] == [ctx.session_id]
    assert {i.user_agent for i in items} == {"app/0", "app/1", "app/2"}
    with pytest.raises(InvalidInput):
        auth.listing.list_sessions(ctx, 2, "bm90IGEgY3Vyc29y")


def test_refresh_moves_last_used_and_revoked_sessions_leave_the_list(auth: Auth) -> None:
    auth.account()
    first, second = auth.login(), auth.login()
    sid = auth.ctx(first).session_id
    auth.store.logins[sid].last_used_at -= timedelta(hours=2)
    before = auth.store.logins[sid].last_used_at
    auth.sessions.refresh(first.refresh_token)
    assert auth.store.logins[sid].last_used_at > before
    auth.sessions.revoke_session(auth.ctx(second).caller, sid)
    listed = auth.listing.list_sessions(auth.ctx(second), 50, None).items
    assert [i.session_id for i in listed] == [auth.ctx(second).session_id]


def test_revoking_one_session_is_404_for_unknown_or_anothers(auth: Auth) -> None:
    ann = auth.account()
    auth.account("bob@example.com")
    bobs = auth.login("bob@example.com")
    mine = auth.login()
    with pytest.raises(NotFound) as refused:
        auth.sessions.revoke_session(ann, auth.ctx(bobs).session_id)
    assert refused.value.code == "session_not_found"
    assert auth.sessions.identify(bobs.access_token) is not None
    with pytest.raises(NotFound):
        auth.sessions.revoke_session(ann, str(uuid.uuid4()))
    auth.sessions.revoke_session(ann, auth.ctx(mine).session_id)
    assert auth.sessions.identify(mine.access_token) is None
    with pytest.raises(NotFound):  # already ended
        auth.sessions.revoke_session(ann, auth.store.owners[hash_token(mine.access_token)][1])


def test_revoking_the_others_keeps_the_callers(auth: Auth) -> None:
    ann = auth.account()
    keep, a, b = auth.login(), auth.login(), auth.login()
    ctx = auth.ctx(keep)
    ended = auth.sessions.revoke_other_sessions(ann, ctx.session_id)
    assert len(ended) == 2
    assert {sid for _, sid in auth.ended} == {
        auth.store.owners[hash_token(t)][1] for t in (a.access_token, b.access_token)
    }
    assert auth.sessions.identify(keep.access_token) is not None
    assert auth.sessions.identify(a.access_token) is None
    assert auth.sessions.identify(b.access_token) is None


def test_password_change_revokes_the_other_sessions(auth: Auth) -> None:
    auth.account()
    keep, other = auth.login(), auth.login()
    ctx = auth.ctx(keep)
    auth.password.change_password(
        ctx, ChangePasswordRequest(current_password=PASSWORD, new_password="battery staple"), IP
    )
    assert auth.sessions.identify(keep.access_token) is not None
    assert auth.sessions.identify(other.access_token) is None
    with pytest.raises(Unauthenticated):
        auth.login()
    assert (
        auth.logins.login(
            LoginRequest(email="ann@example.com", password="battery staple"), IP
        ).user_id
        == ctx.caller
    )


def test_a_wrong_current_password_is_refused_and_counts_toward_the_throttle(auth: Auth) -> None:
    auth.account()
    keep, other = auth.login(), auth.login()
    ctx = auth.ctx(keep)
    wrong = ChangePasswordRequest(current_password="wrong horse", new_password="battery staple")
    for _ in range(5):
        with pytest.raises(Unauthenticated) as refused:
            auth.password.change_password(ctx, wrong, IP)
        assert refused.value.code == "invalid_credentials"
    assert auth.sessions.identify(other.access_token) is not None
    with pytest.raises(RateLimited):  # the login throttle of the account's email
        auth.login()
    right = ChangePasswordRequest(current_password=PASSWORD, new_password="battery staple")
    with pytest.raises(RateLimited):
        auth.password.change_password(ctx, right, IP)


def test_an_oauth_only_account_has_no_password_to_change(auth: Auth) -> None:
    user = auth.account()
    auth.accounts.replace_password_hash(user, None)  # type: ignore[arg-type]
    ctx = RequestContext(user_id=user, session_id="s")
    request = ChangePasswordRequest(current_password="anything", new_password="battery staple")
    with pytest.raises(Conflict) as refused:
        auth.password.change_password(ctx, request, IP)
    assert refused.value.code == "no_password"
    assert auth.api.has_password(user) is False
    assert auth.api.verify_password(user, "anything") is False


def test_the_operations_account_deletion_calls(auth: Auth) -> None:
    user = auth.account()
    first, second = auth.login(), auth.login()
    assert auth.api.has_password(user) is True
    assert auth.api.has_password(uuid.uuid4()) is False
    assert auth.api.verify_password(user, PASSWORD) is True
    assert auth.api.verify_password(user, "wrong horse") is False
    assert auth.throttle.per_email["ann@example.com"] == 1
    auth.api.revoke_all_sessions(user)
    assert auth.sessions.identify(first.access_token) is None
    assert auth.sessions.identify(second.access_token) is None
    assert len(auth.ended) == 2
