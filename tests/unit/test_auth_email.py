"""Verification and reset mails against in-memory ports: tokens single-use and hashed, the
quotas, what a reset ends, and answers that do not tell whether an account exists."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from messenger.auth.email import EmailService, Mail, Purpose
from messenger.auth.models import Account
from messenger.auth.session import SessionService, hash_token
from messenger.kernel.clock import utcnow
from messenger.kernel.context import RequestContext
from messenger.kernel.errors import BadRequest, RateLimited
from tests.unit.fakes import FakeAccounts, FakePasswords, FakeSessions, FakeThrottle

pytestmark = pytest.mark.unit

IP = "198.51.100.7"


@dataclass
class FakeTokens:
    accounts: FakeAccounts
    rows: dict[bytes, dict[str, object]] = field(default_factory=dict)
    claimed: set[uuid.UUID] = field(default_factory=set)

    def issue(
        self,
        token_hash: bytes,
        user_id: uuid.UUID,
        purpose: Purpose,
        email: str,
        expires_at: datetime,
    ) -> None:
        self.rows[token_hash] = {
            "user_id": user_id,
            "purpose": purpose,
            "email": email,
            "expires_at": expires_at,
            "used": False,
        }

    def _take(self, token_hash: bytes, purpose: Purpose) -> Account | None:
        row = self.rows.get(token_hash)
        if row is None or row["purpose"] != purpose or row["used"]:
            return None
        if row["expires_at"] <= utcnow():  # type: ignore[operator]
            return None
        account = self.accounts.by_id(row["user_id"])  # type: ignore[arg-type]
        if account is None or account.email != row["email"]:
            return None
        row["used"] = True
        return account

    def _update(self, account: Account, **changes: object) -> None:
        self.accounts.by_mail[account.email] = account.model_copy(update=changes)

    def verify_email(self, token_hash: bytes) -> uuid.UUID | None:
        account = self._take(token_hash, "verify_email")
        if account is None:
            return None
        self._update(account, email_verified=True)
        return account.user_id

    def reset_password(self, token_hash: bytes, password_hash: str) -> tuple[uuid.UUID, str] | None:
        account = self._take(token_hash, "reset_password")
        if account is None:
            return None
        self._update(account, password_hash=password_hash, email_verified=True)
        return account.user_id, account.email

    def once(self, consumer: str, event_id: uuid.UUID, work: Callable[[], object]) -> bool:
        if event_id in self.claimed:
            return False
        work()  # raises before the claim: a redelivery tries again
        self.claimed.add(event_id)
        return True


@dataclass
class FakeQuota:
    slots: set[str] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)

    def wait_before(self, key: str, interval_seconds: int) -> int | None:
        if key in self.slots:
            return interval_seconds
        self.slots.add(key)
        return None

    def within(self, key: str, limit: int, window_seconds: int) -> bool:
        self.counts[key] = self.counts.get(key, 0) + 1
        return self.counts[key] <= limit


@dataclass
class FakeMailer:
    sent: list[Mail] = field(default_factory=list)
    fail: bool = False

    def send(self, mail: Mail) -> None:
        if self.fail:
            raise ConnectionError("SES unreachable")
        self.sent.append(mail)


class Mails:
    def __init__(self) -> None:
        self.accounts = FakeAccounts()
        self.tokens = FakeTokens(self.accounts)
        self.mailer = FakeMailer()
        self.quota = FakeQuota()
        self.throttle = FakeThrottle()
        self.store = FakeSessions()
        self.ended: list[str] = []
        self.sessions = SessionService(
            self.store,
            timedelta(hours=1),
            timedelta(days=60),
            ended=[lambda _, sid: self.ended.append(sid)],
        )
        self.service = EmailService(
            accounts=self.accounts,
            tokens=self.tokens,
            mailer=self.mailer,
            quota=self.quota,
            link_base_url="https://app.example/",
            reset_min_seconds=0,
            passwords=FakePasswords(),
            sessions=self.sessions,
            throttle=self.throttle,
        )

    def account(self, email: str = "ann@example.com", verified: bool = False) -> Account:
        account = Account(
            user_id=uuid.uuid4(),
            email=email,
            password_hash="v2:old password",
            created_at=utcnow(),
            email_verified=verified,
        )
        self.accounts.by_mail[email] = account
        return account

    def token(self, index: int = -1) -> str:
        found = re.search(r"token=([A-Za-z0-9_\-]+)", self.mailer.sent[index].text)
        assert found
        return found.group(1)


@pytest.fixture
def mails() -> Mails:
    return Mails()


def test_a_new_account_gets_one_verification_mail_per_event(mails: Mails) -> None:
    account = mails.account()
    event = uuid.uuid4()
    assert mails.service.on_registered(event, account.user_id) is True
    assert mails.service.on_registered(event, account.user_id) is False
    (mail,) = mails.mailer.sent
    assert mail.to == "ann@example.com"
    assert mail.text.count("https://app.example/verify-email?token=") == 1
    assert "https://app.example/verify-email?token=" in mail.html
    token = mails.token()
    assert hash_token(token) in mails.tokens.rows
    assert token.encode() not in b"".join(mails.tokens.rows)
    expires = mails.tokens.rows[hash_token(token)]["expires_at"]
    assert expires - utcnow() == pytest.approx(timedelta(hours=24), abs=timedelta(seconds=5))  # type: ignore[operator]


def test_a_failed_send_is_retried_by_the_redelivery(mails: Mails) -> None:
    account = mails.account()
    event = uuid.uuid4()
    mails.mailer.fail = True
    with pytest.raises(ConnectionError):
        mails.service.on_registered(event, account.user_id)
    mails.mailer.fail = False
    assert mails.service.on_registered(event, account.user_id) is True
    assert len(mails.mailer.sent) == 1


def test_a_verified_address_gets_no_mail(mails: Mails) -> None:
    account = mails.account(verified=True)
    assert mails.service.on_registered(uuid.uuid4(), account.user_id) is True
    assert mails.mailer.sent == []


def test_verify_once(mails: Mails) -> None:
    account = mails.account()
    mails.service.send_verification(account.user_id)
    token = mails.token()
    assert mails.service.verify(token) == account.user_id
    assert mails.accounts.by_id(account.user_id).email_verified  # type: ignore[union-attr]
    with pytest.raises(BadRequest) as refused:
        mails.service.verify(token)
    assert refused.value.code == "invalid_token"


def test_a_token_for_a_former_address_is_void(mails: Mails) -> None:
    account = mails.account()
    mails.service.send_verification(account.user_id)
    token = mails.token()
    del mails.accounts.by_mail["ann@example.com"]
    mails.accounts.by_mail["new@example.com"] = account.model_copy(
        update={"email": "new@example.com"}
    )
    with pytest.raises(BadRequest):
        mails.service.verify(token)


def test_resend_once_a_minute(mails: Mails) -> None:
    account = mails.account()
    ctx = RequestContext(user_id=account.user_id)
    mails.service.resend_verification(ctx)
    with pytest.raises(RateLimited) as refused:
        mails.service.resend_verification(ctx)
    assert refused.value.retry_after_seconds == 60
    assert len(mails.mailer.sent) == 1


def test_reset_mails_only_existing_addresses_within_the_quota(mails: Mails) -> None:
    mails.account()
    mails.service.request_reset("nobody@example.com")
    assert mails.mailer.sent == []
    for _ in range(5):
        mails.service.request_reset(" Ann@Example.com ")
    assert len(mails.mailer.sent) == 3
    assert "https://app.example/reset-password?token=" in mails.mailer.sent[0].text


def test_reset_takes_at_least_the_floor(mails: Mails) -> None:
    import time

    mails.service.reset_min_seconds = 0.05
    started = time.monotonic()
    mails.service.request_reset("nobody@example.com")
    assert time.monotonic() - started >= 0.05


def test_confirm_sets_the_password_ends_every_session_and_clears_the_throttle(
    mails: Mails,
) -> None:
    account = mails.account()
    first = mails.sessions.open_session(account.user_id)
    second = mails.sessions.open_session(account.user_id)
    mails.throttle.record_failure("ann@example.com", IP)
    mails.throttle.record_failure("ann@example.com", "203.0.113.1")
    mails.service.request_reset("ann@example.com")
    mails.service.request_reset("ann@example.com")
    token = mails.token(0)
    mails.service.confirm_reset(token, "battery staple", IP)
    stored = mails.accounts.by_id(account.user_id)
    assert stored is not None
    assert stored.password_hash == "v2:battery staple"
    assert sorted(mails.ended) == sorted([first.session_id, second.session_id])
    assert mails.sessions.identify(first.access_token) is None
    assert "ann@example.com" not in mails.throttle.per_email
    assert ("ann@example.com", IP) not in mails.throttle.failures
    with pytest.raises(BadRequest):
        mails.service.confirm_reset(token, "battery staple", IP)


def test_a_bad_reset_token_changes_nothing(mails: Mails) -> None:
    account = mails.account()
    session = mails.sessions.open_session(account.user_id)
    with pytest.raises(BadRequest) as refused:
        mails.service.confirm_reset("made-up", "battery staple", IP)
    assert refused.value.code == "invalid_token"
    assert mails.sessions.identify(session.access_token) is not None
    assert mails.accounts.by_id(account.user_id).password_hash == "v2:old password"  # type: ignore[union-attr]
