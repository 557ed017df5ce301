"""The auth use-cases against in-memory ports."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from messenger.auth.models import LoginRequest, LoginResponse, RegisteredAccount, RegisterRequest
from messenger.auth.service import LoginService, RegistrationService
from messenger.auth.session import SessionService, hash_token
from messenger.kernel.context import RequestContext
from messenger.kernel.errors import Conflict, RateLimited, Unauthenticated
from tests.unit.fakes import (
    FakeAccounts,
    FakeNicknames,
    FakeOutbox,
    FakePasswords,
    FakeSessions,
    FakeThrottle,
)

pytestmark = pytest.mark.unit

OWNER_IP = "198.51.100.7"
ATTACKER_IP = "203.0.113.66"


class AuthService:
    """Both use-cases over one set of fakes, as the two functions share one database."""

    def __init__(self) -> None:
        self.nicknames = FakeNicknames(taken={"taken"})
        self.accounts = FakeAccounts(nicknames=self.nicknames)
        self.passwords = FakePasswords()
        self.outbox = FakeOutbox()
        self.throttle = FakeThrottle()
        self.closed: list[tuple[uuid.UUID, str]] = []
        self.devices_removed: list[tuple[uuid.UUID, str]] = []
        self.sessions = SessionService(
            FakeSessions(),
            access_ttl=timedelta(hours=1),
            refresh_ttl=timedelta(days=60),
            ended=[self.close_session_connections, self.remove_session_devices],
        )
        self.registration = RegistrationService(
            self.accounts, self.passwords, self.nicknames, self.outbox
        )
        self.logins = LoginService(self.accounts, self.sessions, self.throttle, self.passwords)

    def register(self, request: RegisterRequest) -> RegisteredAccount:
        return self.registration.register(RequestContext(correlation_id="c-1"), request)

    def login(self, request: LoginRequest, client_ip: str = OWNER_IP) -> LoginResponse:
        return self.logins.login(request, client_ip)

    def close_session_connections(self, user_id: uuid.UUID, session_id: str) -> int:
        self.closed.append((user_id, session_id))
        return 1

    def remove_session_devices(self, user_id: uuid.UUID, session_id: str) -> int:
        self.devices_removed.append((user_id, session_id))
        return 1


@pytest.fixture
def service() -> AuthService:
    return AuthService()


def register(service: AuthService, email: str = "Ann@Example.com", nickname: str = "ann") -> None:
    service.register(RegisterRequest(email=email, password="correct horse", nickname=nickname))


def test_register_normalises_email_and_emits_user_registered(service: AuthService) -> None:
    account = service.register(
        RegisterRequest(email="  Ann@Example.COM ", password="correct horse", nickname="Ann_1")
    )
    assert account.email == "ann@example.com"
    assert account.nickname == "Ann_1"
    (event,) = service.accounts.events
    assert event.envelope.type == "user.registered"
    assert event.key == str(account.user_id)
    assert event.envelope.data["nickname"] == "Ann_1"
    assert event.envelope.data["email"] == "ann@example.com"
    assert service.outbox.published == [event]


def test_register_keeps_the_account_when_the_broker_is_down(service: AuthService) -> None:
    service.outbox.broker_up = False
    register(service)
    assert "ann@example.com" in service.accounts.by_mail
    assert len(service.accounts.events) == 1


def test_register_refuses_a_taken_nickname_case_insensitively(service: AuthService) -> None:
    with pytest.raises(Conflict) as refused:
        register(service, nickname="TAKEN")
    assert refused.value.code == "nickname_taken"


def test_a_registered_nickname_is_taken_before_its_profile_exists(service: AuthService) -> None:
    register(service, email="one@example.com", nickname="Nick")
    with pytest.raises(Conflict) as refused:
        register(service, email="two@example.com", nickname="NICK")
    assert refused.value.code == "nickname_taken"
    assert "two@example.com" not in service.accounts.by_mail


def test_the_reservation_decides_when_the_quick_check_missed_it(service: AuthService) -> None:
    """Two registrations that both passed the check: the account's transaction refuses one."""
    service.accounts.nicknames.taken.add("nick")  # reserved after this one's check
    service.nicknames = FakeNicknames()
    service.registration.nicknames = service.nicknames
    with pytest.raises(Conflict) as refused:
        register(service, email="two@example.com", nickname="Nick")
    assert refused.value.code == "nickname_taken"
    assert service.accounts.events == []


def test_register_refuses_a_taken_email(service: AuthService) -> None:
    register(service)
    with pytest.raises(Conflict) as refused:
        register(service, email="ANN@example.com", nickname="other")
    assert refused.value.code == "email_taken"


def test_login_opens_a_session_the_authorizer_accepts(service: AuthService) -> None:
    register(service)
    session = service.login(LoginRequest(email=" ANN@example.com", password="correct horse"))
    assert session.token_type == "Bearer"
    assert session.expires_in == 3600
    assert service.sessions.authenticate(session.access_token) == session.user_id


def test_unknown_email_and_wrong_password_are_refused_alike(service: AuthService) -> None:
    register(service)
    with pytest.raises(Unauthenticated) as unknown:
        service.login(LoginRequest(email="nobody@example.com", password="correct horse"))
    with pytest.raises(Unauthenticated) as wrong:
        service.login(LoginRequest(email="ann@example.com", password="wrong horse"))
    assert (unknown.value.code, unknown.value.detail) == (wrong.value.code, wrong.value.detail)
    assert service.passwords.wasted == 1


def test_five_failures_then_rate_limited_even_with_the_right_password(
    service: AuthService,
) -> None:
    register(service)
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            service.login(LoginRequest(email="ann@example.com", password="wrong horse"))
    with pytest.raises(RateLimited) as limited:
        service.login(LoginRequest(email="ann@example.com", password="correct horse"))
    assert limited.value.retry_after_seconds > 0


def test_success_resets_the_failure_count(service: AuthService) -> None:
    register(service)
    for _ in range(4):
        with pytest.raises(Unauthenticated):
            service.login(LoginRequest(email="ann@example.com", password="wrong horse"))
    service.login(LoginRequest(email="ann@example.com", password="correct horse"))
    assert service.throttle.failures == {}
    assert service.throttle.per_email == {"ann@example.com": 4}, "the email's ceiling stays"


def test_an_attacker_locks_only_their_own_address(service: AuthService) -> None:
    register(service)
    wrong = LoginRequest(email="Ann@Example.com", password="wrong horse")
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            service.login(wrong, ATTACKER_IP)
    right = LoginRequest(email="ann@example.com", password="correct horse")
    with pytest.raises(RateLimited):
        service.login(right, ATTACKER_IP)
    assert service.login(right, OWNER_IP).access_token


def test_the_per_email_ceiling_locks_every_address(service: AuthService) -> None:
    service.throttle.max_failures_per_email = 8
    register(service)
    wrong = LoginRequest(email="ann@example.com", password="wrong horse")
    for attempt in range(8):
        with pytest.raises(Unauthenticated):
            service.login(wrong, f"203.0.113.{attempt}")
    with pytest.raises(RateLimited):
        service.login(LoginRequest(email="ann@example.com", password="correct horse"), OWNER_IP)


def test_login_rehashes_outdated_password_hashes(service: AuthService) -> None:
    register(service)
    service.passwords.version = "v3"
    service.login(LoginRequest(email="ann@example.com", password="correct horse"))
    stored = service.accounts.by_email("ann@example.com")
    assert stored is not None
    assert stored.password_hash == "v3:correct horse"


def test_logout_revokes_only_that_token(service: AuthService) -> None:
    register(service)
    first = service.login(LoginRequest(email="ann@example.com", password="correct horse"))
    second = service.login(LoginRequest(email="ann@example.com", password="correct horse"))
    service.sessions.logout(first.access_token)
    assert service.sessions.authenticate(first.access_token) is None
    assert service.sessions.authenticate(second.access_token) == second.user_id


def test_logout_closes_the_connections_of_that_session_only(service: AuthService) -> None:
    register(service)
    first = service.login(LoginRequest(email="ann@example.com", password="correct horse"))
    second = service.login(LoginRequest(email="ann@example.com", password="correct horse"))
    identified = service.sessions.identify(first.access_token)
    assert identified is not None
    user_id, session_id = identified
    assert first.access_token not in session_id  # names the session; is not its credential
    service.sessions.logout(first.access_token)
    assert service.closed == [(user_id, session_id)]
    assert service.devices_removed == [(user_id, session_id)]  # its push devices go with it
    assert service.sessions.identify(first.access_token) is None
    assert service.sessions.identify(second.access_token) is not None
    service.sessions.logout(first.access_token)  # already revoked: nothing more to close
    assert len(service.closed) == 1
    assert len(service.devices_removed) == 1


def test_tokens_are_stored_only_as_hashes(service: AuthService) -> None:
    register(service)
    session = service.login(LoginRequest(email="ann@example.com", password="correct horse"))
    stored = service.sessions.sessions.live
    assert list(stored) == [hash_token(session.access_token)]
    assert session.access_token.encode() not in stored
