"""Account deletion's use-case (messenger.users.deletion) and the chats context's erasure, with
in-memory ports: which credential is asked of which account, what happens in which order, and
what a failure leaves."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import ValidationError

from messenger.chats.models import Chat, Message, SendMessageRequest
from messenger.chats.service import ChatsService, erase_user, leave_all_chats
from messenger.kernel.clock import utcnow
from messenger.kernel.context import RequestContext
from messenger.kernel.errors import NotFound, RateLimited, Unauthenticated
from messenger.platform.unit_of_work import UnitOfWork
from messenger.users.deletion import AccountDeletionService
from messenger.users.events import ExportRequested
from messenger.users.exports import ExportRecord, ExportService
from messenger.users.models import DeleteAccountRequest
from tests.unit.chat_fakes import FakeChatStore, FakeFriends
from tests.unit.fakes import FakeOutbox, FakeRateLimiter, in_memory

pytestmark = pytest.mark.unit

ANN, BOB, CAT = (uuid.uuid4() for _ in range(3))


class World:
    """Chats in memory, with messages sent through the chats use-case."""

    def __init__(self) -> None:
        self.store = FakeChatStore()
        self.chats = ChatsService(self.store, FakeFriends(), FakeOutbox(), FakeRateLimiter())

    def chat(self, *members: uuid.UUID) -> uuid.UUID:
        chat = Chat(
            chat_id=uuid.uuid4(),
            type="direct" if len(members) == 2 else "group",
            title=None,
            participants=list(members),
            created_by=members[0],
            created_at=utcnow(),
            last_message=None,
            unread_count=0,
        )
        self.store.add_chat(chat)
        return chat.chat_id

    def send(self, author: uuid.UUID, chat_id: uuid.UUID, text: str) -> Message:
        message, _ = self.chats.send(
            RequestContext(user_id=author), chat_id, SendMessageRequest(content=text)
        )
        return message


@dataclass
class FakeCredentials:
    password: str | None = "right"
    exists: bool = True
    failures: int = 0
    limit: int = 5
    calls: list[str] = field(default_factory=list)
    stored_events: list[Any] = field(default_factory=list)
    fail_erase: bool = False

    def has_password(self, user_id: uuid.UUID) -> bool:
        return self.password is not None

    def verify_password(self, user_id: uuid.UUID, password: str, client_ip: str) -> bool:
        if self.failures >= self.limit:
            raise RateLimited("too many", 60)
        if password == self.password:
            return True
        self.failures += 1
        return False

    def revoke_all_sessions(self, user_id: uuid.UUID) -> None:
        self.calls.append("revoke")

    def erase_account(self, user_id: uuid.UUID, uow: UnitOfWork) -> bool:
        def work(_: None) -> bool:
            if self.fail_erase:
                raise ConnectionError("postgres went away")
            self.calls.append("erase")
            existed, self.exists = self.exists, False
            return existed

        return in_memory(uow, self.stored_events, work, bool)


def deletion(credentials: FakeCredentials) -> tuple[AccountDeletionService, FakeOutbox]:
    outbox = FakeOutbox()
    return AccountDeletionService(credentials, outbox), outbox


ME = RequestContext(user_id=ANN, correlation_id="c-1")


def test_the_right_password_revokes_then_erases_with_user_deleted() -> None:
    credentials = FakeCredentials()
    service, outbox = deletion(credentials)
    service.delete_account(ME, DeleteAccountRequest(password="right"), "1.2.3.4")
    assert credentials.calls == ["revoke", "erase"]
    [event] = outbox.published
    assert event.envelope.type == "user.deleted"
    assert event.envelope.data["user_id"] == str(ANN)
    assert set(event.envelope.data) == {"user_id", "deleted_at"}  # no personal data in the log
    assert event.correlation_id == "c-1"


@pytest.mark.parametrize(
    "body",
    [{"password": "wrong"}, {"confirm": "DELETE"}, {"password": "wrong", "confirm": "DELETE"}],
)
def test_a_password_account_needs_its_password(body: dict[str, str]) -> None:
    credentials = FakeCredentials()
    service, outbox = deletion(credentials)
    with pytest.raises(Unauthenticated) as refused:
        service.delete_account(ME, DeleteAccountRequest(**body), "1.2.3.4")
    assert refused.value.code == "invalid_credentials"
    assert credentials.calls == []
    assert outbox.published == []


def test_an_account_without_password_confirms_with_delete_only() -> None:
    credentials = FakeCredentials(password=None)
    service, _ = deletion(credentials)
    for body in ({"password": "x"}, {"password": "x", "confirm": "DELETE"}):
        with pytest.raises(Unauthenticated):
            service.delete_account(ME, DeleteAccountRequest(**body), "1.2.3.4")
    service.delete_account(ME, DeleteAccountRequest(confirm="DELETE"), "1.2.3.4")
    assert credentials.calls == ["revoke", "erase"]


def test_wrong_passwords_reach_the_throttle() -> None:
    credentials = FakeCredentials(limit=2)
    service, _ = deletion(credentials)
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            service.delete_account(ME, DeleteAccountRequest(password="wrong"), "1.2.3.4")
    with pytest.raises(RateLimited):
        service.delete_account(ME, DeleteAccountRequest(password="right"), "1.2.3.4")
    assert credentials.calls == []


def test_a_failed_erasure_records_no_event() -> None:
    credentials = FakeCredentials(fail_erase=True)
    service, outbox = deletion(credentials)
    with pytest.raises(ConnectionError):
        service.delete_account(ME, DeleteAccountRequest(password="right"), "1.2.3.4")
    assert (credentials.stored_events, outbox.published) == ([], [])
    assert credentials.exists


def test_an_account_deleted_concurrently_is_401_and_records_nothing() -> None:
    credentials = FakeCredentials(exists=False)
    service, outbox = deletion(credentials)
    with pytest.raises(Unauthenticated):
        service.delete_account(ME, DeleteAccountRequest(password="right"), "1.2.3.4")
    assert outbox.published == []


@pytest.mark.parametrize(
    "body",
    [{}, {"confirm": "delete"}, {"confirm": None}, {"password": ""}, {"password": "x", "y": 1}],
)
def test_bodies_without_a_credential_are_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        DeleteAccountRequest.model_validate(body)


# -- the chats context's erasure ---------------------------------------------------------------
def test_erasure_tombstones_the_users_messages_then_leaves_their_chats() -> None:
    world = World()
    direct, group = world.chat(ANN, BOB), world.chat(ANN, BOB, CAT)
    mine = [world.send(ANN, direct, "secret one"), world.send(ANN, group, "secret two")]
    theirs = world.send(BOB, group, "bob stays")
    outbox = FakeOutbox()

    done = erase_user(world.store, outbox, ANN, "c-2")

    assert (done.tombstoned, done.left) == (2, 2)
    for message in mine:
        stored = world.store.stored(message.chat_id, message.message_id).message
        assert (stored.deleted, stored.content, stored.author_id) == (True, None, ANN)
    assert world.store.stored(group, theirs.message_id).message.content == "bob stays"
    assert world.store.chats_of_member(ANN) == []
    assert [c.participants for c in world.store.chats_of_member(BOB)] == [(BOB,), (BOB, CAT)]
    deleted = [e.envelope.data for e in outbox.published if e.envelope.type == "message.deleted"]
    assert sorted(d["message_id"] for d in deleted) == sorted(str(m.message_id) for m in mine)
    # Told to everyone who was in the chat, the leaving author included (their devices too).
    assert all(str(ANN) in d["participants"] and d["deleted_by"] == str(ANN) for d in deleted)

    again = erase_user(world.store, outbox, ANN)
    assert (again.tombstoned, again.left) == (0, 0)
    assert len(outbox.published) == len(deleted)


def test_leave_all_chats_counts_the_chats_left() -> None:
    world = World()
    world.chat(ANN, BOB)
    world.chat(BOB, CAT)
    assert leave_all_chats(world.store, ANN) == 1
    assert leave_all_chats(world.store, ANN) == 0


# -- data exports -----------------------------------------------------------------------------
@dataclass
class FakeExports:
    rows: dict[uuid.UUID, ExportRecord] = field(default_factory=dict)
    events: list[Any] = field(default_factory=list)

    def request(
        self, user: uuid.UUID, now: Any, uow: UnitOfWork, event_for: Any
    ) -> tuple[ExportRecord, bool]:
        def work(_: None) -> tuple[ExportRecord, bool]:
            for row in self.rows.values():
                if row.user_id == user and row.status == "pending":
                    return row, False
            record = ExportRecord(uuid.uuid4(), user, "pending", now)
            self.rows[record.export_id] = record
            uow.record(event_for(record.export_id))
            return record, True

        return in_memory(uow, self.events, work, lambda r: r[1])

    def find(self, user: uuid.UUID, export_id: uuid.UUID) -> ExportRecord | None:
        row = self.rows.get(export_id)
        return row if row and row.user_id == user else None

    def mark_ready(self, export_id: uuid.UUID, object_key: str) -> bool:
        row = self.rows.get(export_id)
        if row is None:
            return False
        self.rows[export_id] = ExportRecord(
            export_id, row.user_id, "ready", row.requested_at, object_key
        )
        return True


def test_an_export_request_is_pending_once_and_ready_with_a_signed_url() -> None:
    store, outbox = FakeExports(), FakeOutbox()
    exports = ExportService(store, outbox, sign=lambda key: (f"https://signed/{key}", 7200))
    first = exports.request_export(ME)
    assert exports.request_export(ME).export_id == first.export_id  # pending: the same
    assert [e.envelope.type for e in outbox.published] == ["user.export_requested"]
    assert exports.export_status(ME, first.export_id).url is None
    store.mark_ready(first.export_id, "exports/x.json")
    ready = exports.export_status(ME, first.export_id)
    assert (ready.status, ready.url) == ("ready", "https://signed/exports/x.json")
    assert ready.expires_at is not None
    with pytest.raises(NotFound) as missing:
        exports.export_status(RequestContext(user_id=BOB), first.export_id)
    assert missing.value.code == "export_not_found"


def test_an_export_of_a_user_without_profile_is_not_built() -> None:
    store = FakeExports()

    class Nobody:
        def by_id(self, user_id: uuid.UUID) -> None:
            return None

        def many(self, user_ids: Any) -> dict[uuid.UUID, Any]:
            return {}

    class Unused:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"{name} must not be called")

    exports = ExportService(
        store, FakeOutbox(), profiles=Nobody(), friends=Unused(), chats=Unused(), archives=Unused()
    )
    requested = ExportRequested(user_id=ANN, export_id=uuid.uuid4(), requested_at=utcnow())
    assert exports.build_export(requested) is False
