"""The media use-cases with in-memory uploads and bucket: uploads, attachments, avatars, and
their wiring into sending a message and editing a profile."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import ValidationError

from messenger.chats.models import Message, SendMessageRequest
from messenger.chats.service import ChatMembership, ChatsService
from messenger.kernel.clock import utcnow
from messenger.kernel.context import RequestContext
from messenger.kernel.errors import Conflict, InvalidInput, NotFound, RateLimited
from messenger.media.models import CreateUploadRequest, ObjectInfo, Upload, UploadForm
from messenger.media.service import MediaService, UploadUsed
from messenger.platform.events import OutboundEvent
from messenger.platform.ratelimit import UPLOAD
from messenger.platform.unit_of_work import UnitOfWork
from messenger.users.models import OwnProfile, ProfilePatch
from messenger.users.service import UsersService
from tests.unit.fakes import FakeOutbox, FakeProfiles, FakeRateLimiter, in_memory


def as_user(user: uuid.UUID) -> RequestContext:
    return RequestContext(user_id=user, correlation_id="c-1")


pytestmark = pytest.mark.unit

AVATARS = "https://cdn.example.test"


@dataclass
class FakeUploads:
    rows: dict[uuid.UUID, Upload] = field(default_factory=dict)
    sessions: list[Any] = field(default_factory=list)

    def add(self, upload: Upload) -> None:
        self.rows[upload.upload_id] = upload

    def of_owner(self, owner: uuid.UUID, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Upload]:
        return {i: self.rows[i] for i in ids if i in self.rows and self.rows[i].owner_id == owner}

    def _use(self, upload_id: uuid.UUID, use: dict[str, Any]) -> None:
        upload = self.rows[upload_id]
        self.rows[upload_id] = Upload(**{**upload.__dict__, "used_by": use})

    def claim(
        self, session: Any, owner: uuid.UUID, used_by: dict[uuid.UUID, dict[str, Any]]
    ) -> None:
        self.sessions.append(session)
        if any(self.rows[i].used_by is not None for i in used_by):
            raise UploadUsed()
        for upload_id, use in used_by.items():
            self._use(upload_id, use)

    def mark_used(self, owner: uuid.UUID, upload_id: uuid.UUID, used_by: dict[str, Any]) -> bool:
        if self.rows[upload_id].used_by is not None:
            return False
        self._use(upload_id, used_by)
        return True


@dataclass
class FakeStorage:
    objects: dict[str, ObjectInfo] = field(default_factory=dict)
    posts: list[tuple[str, str, int, int]] = field(default_factory=list)
    fail_copies_to: set[str] = field(default_factory=set)
    deletions: list[str] = field(default_factory=list)

    def presigned_post(self, key: str, content_type: str, size: int, expires_in: int) -> UploadForm:
        self.posts.append((key, content_type, size, expires_in))
        return UploadForm(url="https://bucket.example", fields={"key": key})

    def put(self, key: str, size: int, content_type: str) -> None:
        self.objects[key] = ObjectInfo(size, content_type, f'"{uuid.uuid4().hex}"')

    def head(self, key: str) -> ObjectInfo | None:
        return self.objects.get(key)

    def copy(self, source: str, destination: str, etag: str) -> bool:
        if destination in self.fail_copies_to:
            raise ConnectionError("S3 went away")
        found = self.objects.get(source)
        if found is None or found.etag != etag:
            return False
        self.objects[destination] = found
        return True

    def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.deletions.append(key)
            self.objects.pop(key, None)

    def delete_prefix(self, prefix: str) -> int:
        doomed = [k for k in self.objects if k.startswith(prefix)]
        self.delete(doomed)
        return len(doomed)

    def under(self, prefix: str) -> list[str]:
        return sorted(k for k in self.objects if k.startswith(prefix))


class FakeSigner:
    def url(self, key: str) -> str:
        return f"https://signed.example/{key}?sig=1"


def media(limiter: FakeRateLimiter | None = None) -> MediaService:
    return MediaService(
        uploads=FakeUploads(),
        storage=FakeStorage(),
        limiter=limiter,
        signer=FakeSigner(),
        avatars_base_url=AVATARS,
    )


def storage_of(service: MediaService) -> FakeStorage:
    assert isinstance(service.storage, FakeStorage)
    return service.storage


def uploads_of(service: MediaService) -> FakeUploads:
    assert isinstance(service.uploads, FakeUploads)
    return service.uploads


def upload(
    service: MediaService,
    owner: uuid.UUID,
    *,
    purpose: str = "attachment",
    content_type: str = "image/png",
    size: int = 100,
    arrive: bool = True,
    arrived_size: int | None = None,
    arrived_type: str | None = None,
) -> uuid.UUID:
    request = CreateUploadRequest.model_validate(
        {"purpose": purpose, "content_type": content_type, "size": size, "filename": "f.png"}
    )
    created = service.create_upload(as_user(owner), request)
    if arrive:
        key = uploads_of(service).rows[created.upload_id].key
        storage_of(service).put(key, arrived_size or size, arrived_type or content_type)
    return created.upload_id


# ------------------------------------------------------------------------------------------------
# Uploads
# ------------------------------------------------------------------------------------------------
def test_an_upload_is_a_post_to_a_key_of_the_server_pinned_to_type_and_size() -> None:
    service = media()
    owner = uuid.uuid4()
    request = CreateUploadRequest(
        purpose="attachment", content_type="application/pdf", size=1234, filename="../../etc/passwd"
    )
    created = service.create_upload(as_user(owner), request)
    ((key, content_type, size, expires_in),) = storage_of(service).posts
    assert key == f"uploads/{owner}/{created.upload_id}"
    assert (content_type, size, expires_in) == ("application/pdf", 1234, 900)
    record = uploads_of(service).rows[created.upload_id]
    assert (record.owner_id, record.filename, record.used_by) == (owner, "../../etc/passwd", None)
    assert created.expires_at == record.expires_at


def test_uploads_are_rate_limited_per_user() -> None:
    service = media(FakeRateLimiter({UPLOAD: 2}))
    owner = uuid.uuid4()
    upload(service, owner)
    upload(service, owner)
    with pytest.raises(RateLimited):
        upload(service, owner)
    upload(service, uuid.uuid4())  # someone else


@pytest.mark.parametrize(
    "body",
    [
        {"purpose": "attachment", "content_type": "text/html", "size": 1},
        {"purpose": "attachment", "content_type": "application/pdf", "size": 25 * 2**20 + 1},
        {"purpose": "attachment", "content_type": "application/pdf", "size": True},
        {"purpose": "avatar", "content_type": "video/mp4", "size": 1},
        {"purpose": "avatar", "content_type": "image/jpeg", "size": 5 * 2**20 + 1},
        {"purpose": "attachment", "content_type": "text/plain", "size": 1, "filename": "a\x07"},
        {"purpose": "attachment", "content_type": "text/plain", "size": 1, "filename": "a\x00"},
    ],
)
def test_upload_requests_outside_the_rules_are_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CreateUploadRequest.model_validate(body)


def test_media_types_are_compared_lower_cased_and_avatars_are_images() -> None:
    request = CreateUploadRequest.model_validate(
        {"purpose": "avatar", "content_type": " Image/WebP ", "size": 5 * 2**20}
    )
    assert request.content_type == "image/webp"


# ------------------------------------------------------------------------------------------------
# Attachments
# ------------------------------------------------------------------------------------------------
def prepare(service: MediaService, owner: uuid.UUID, ids: list[uuid.UUID], dedupe: str = "d"):  # type: ignore[no-untyped-def]
    chat, message = uuid.uuid4(), uuid.uuid4()
    return chat, message, service.prepare_attachments(owner, ids, chat, message, dedupe)


def test_attaching_copies_each_verified_upload_under_the_message() -> None:
    service = media()
    owner = uuid.uuid4()
    ids = [upload(service, owner), upload(service, owner, content_type="text/plain", size=3)]
    chat, message, prepared = prepare(service, owner, ids)
    keys = [f"attachments/{chat}/{message}/{i}" for i in ids]
    assert storage_of(service).under("attachments/") == sorted(keys)
    assert [d["key"] for d in prepared.documents] == keys
    assert [a.url for a in prepared.attachments] == [
        f"https://signed.example/{k}?sig=1" for k in keys
    ]
    assert all(u.used_by is None for u in uploads_of(service).rows.values())  # until the commit
    prepared.claim("session")
    assert uploads_of(service).sessions == ["session"]
    assert {u.used_by["message_id"] for u in uploads_of(service).rows.values()} == {str(message)}  # type: ignore[index]


@pytest.mark.parametrize(
    ("arrival", "code"),
    [
        ({"arrive": False}, "upload_incomplete"),
        ({"arrived_size": 101}, "upload_incomplete"),
        ({"arrived_type": "image/gif"}, "upload_incomplete"),
    ],
)
def test_an_upload_not_there_as_declared_is_incomplete(arrival: dict[str, Any], code: str) -> None:
    service = media()
    owner = uuid.uuid4()
    good = upload(service, owner)
    bad = upload(service, owner, **arrival)
    with pytest.raises(Conflict) as refused:
        prepare(service, owner, [good, bad])
    assert refused.value.code == code
    assert storage_of(service).under("attachments/") == []  # the good one's copy is dropped


def test_uploads_of_others_unknown_or_used_are_refused() -> None:
    service = media()
    owner, other = uuid.uuid4(), uuid.uuid4()
    for ids in ([upload(service, other)], [uuid.uuid4()]):
        with pytest.raises(NotFound) as missing:
            prepare(service, owner, ids)
        assert missing.value.code == "upload_not_found"
    used = upload(service, owner)
    prepare(service, owner, [used])[2].claim(None)
    with pytest.raises(Conflict) as again:
        prepare(service, owner, [used])
    assert again.value.code == "upload_used"
    with pytest.raises(InvalidInput):
        prepare(service, owner, [upload(service, owner, purpose="avatar")])


def test_a_retry_of_the_same_message_takes_its_files_as_they_were() -> None:
    service = media()
    owner = uuid.uuid4()
    upload_id = upload(service, owner)
    chat, message = uuid.uuid4(), uuid.uuid4()
    first = service.prepare_attachments(owner, [upload_id], chat, message, "c-1")
    first.claim(None)
    retry = service.prepare_attachments(owner, [upload_id], chat, uuid.uuid4(), "c-1")
    assert retry.documents == first.documents
    assert retry.copied == []
    with pytest.raises(Conflict):  # another message (another client_message_id)
        service.prepare_attachments(owner, [upload_id], chat, uuid.uuid4(), "c-2")


def test_a_copy_failing_midway_drops_the_others_and_raises() -> None:
    service = media()
    owner = uuid.uuid4()
    ids = [upload(service, owner) for _ in range(3)]
    chat, message = uuid.uuid4(), uuid.uuid4()
    storage_of(service).fail_copies_to.add(f"attachments/{chat}/{message}/{ids[1]}")
    with pytest.raises(ConnectionError):
        service.prepare_attachments(owner, ids, chat, message, "d")
    assert storage_of(service).under("attachments/") == []


def test_a_deleted_message_loses_exactly_its_files() -> None:
    service = media()
    owner = uuid.uuid4()
    chat, gone, _prepared = prepare(
        service, owner, [upload(service, owner), upload(service, owner)]
    )
    kept = service.prepare_attachments(owner, [upload(service, owner)], chat, uuid.uuid4(), "e")
    assert service.remove_message_attachments(chat, gone) == 2
    assert service.remove_message_attachments(chat, gone) == 0  # a redelivery
    assert storage_of(service).under("attachments/") == [kept.stored[0].key]


# ------------------------------------------------------------------------------------------------
# Sending (chats) with attachments
# ------------------------------------------------------------------------------------------------
@dataclass
class FakeChatStore:
    membership_of: ChatMembership
    fail: Exception | None = None
    messages: dict[tuple[str, str], Message] = field(default_factory=dict)
    outbox: list[OutboundEvent] = field(default_factory=list)

    def membership(self, chat_id: uuid.UUID) -> ChatMembership:
        return self.membership_of

    def send(
        self,
        message: Message,
        membership: ChatMembership,
        dedupe_key: str,
        uow: UnitOfWork,
        attachments: Any = None,
        uncounted: object = (),
    ) -> tuple[Message, bool]:
        def work(_: None) -> tuple[Message, bool]:
            if self.fail is not None:
                raise self.fail
            key = (str(message.author_id), dedupe_key)
            if key in self.messages:
                return self.messages[key], False
            if attachments is not None:
                attachments.claim("tx")
            self.messages[key] = message
            return message, True

        return in_memory(uow, self.outbox, work, lambda result: result[1])


class Friends:
    def are_friends(self, a: uuid.UUID, b: uuid.UUID) -> bool:
        return True

    def non_friends_of(self, user: uuid.UUID, candidates: Sequence[uuid.UUID]) -> list[uuid.UUID]:
        return []


def chats_with(
    service: MediaService, fail: Exception | None = None
) -> tuple[ChatsService, uuid.UUID, uuid.UUID]:
    ann, bob, chat = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    store = FakeChatStore(ChatMembership(chat, "direct", (ann, bob)), fail)
    chats = ChatsService(store, Friends(), FakeOutbox(), FakeRateLimiter(), attachments=service)  # type: ignore[arg-type]
    return chats, ann, chat


def test_a_sent_message_carries_its_signed_attachments_and_claims_the_uploads() -> None:
    service = media()
    chats, ann, chat = chats_with(service)
    upload_id = upload(service, ann)
    request = SendMessageRequest(attachment_ids=[upload_id])
    message, created = chats.send(as_user(ann), chat, request)
    assert created
    assert message.content == ""
    assert [a.attachment_id for a in message.attachments] == [upload_id]
    assert message.attachments[0].url.startswith("https://signed.example/attachments/")
    assert uploads_of(service).rows[upload_id].used_by is not None


def test_a_store_failure_drops_the_copies() -> None:
    service = media()
    chats, ann, chat = chats_with(service, fail=ConnectionError("mongo"))
    with pytest.raises(ConnectionError):
        chats.send(as_user(ann), chat, SendMessageRequest(attachment_ids=[upload(service, ann)]))
    assert storage_of(service).under("attachments/") == []


def test_a_retry_with_other_files_returns_the_original_and_drops_their_copies() -> None:
    service = media()
    chats, ann, chat = chats_with(service)
    first, created = chats.send(
        as_user(ann),
        chat,
        SendMessageRequest(attachment_ids=[upload(service, ann)], client_message_id="c"),
    )
    again, created_again = chats.send(
        as_user(ann),
        chat,
        SendMessageRequest(attachment_ids=[upload(service, ann)], client_message_id="c"),
    )
    assert (created, created_again, again.message_id) == (True, False, first.message_id)
    assert storage_of(service).under("attachments/") == [
        first.attachments[0].url.split("/", 3)[3].split("?")[0]
    ]


def test_content_or_attachments() -> None:
    with pytest.raises(ValidationError) as refused:
        SendMessageRequest.model_validate({"content": "  "})
    assert [e["loc"] for e in refused.value.errors()] == [("content",)]
    assert SendMessageRequest.model_validate({"attachment_ids": [str(uuid.uuid4())]}).content == ""
    for ids in ([str(uuid.uuid4())] * 2, [str(uuid.uuid4()) for _ in range(11)]):
        with pytest.raises(ValidationError):
            SendMessageRequest.model_validate({"content": "x", "attachment_ids": ids})


# ------------------------------------------------------------------------------------------------
# Avatars (users)
# ------------------------------------------------------------------------------------------------
@dataclass
class EditableProfiles(FakeProfiles):
    fail: Exception | None = None

    def update(
        self, user_id: uuid.UUID, changes: dict[str, object], uow: UnitOfWork, event_for: Any
    ) -> tuple[OwnProfile, OwnProfile] | None:
        def work(_: None) -> tuple[OwnProfile, OwnProfile] | None:
            if self.fail is not None:
                raise self.fail
            before = self.rows.get(user_id)
            if before is None:
                return None
            after = before.model_copy(update=changes)
            self.rows[user_id] = after
            uow.record(event_for(after, utcnow()))
            return before, after

        return in_memory(uow, [], work, lambda result: result is not None)


@dataclass
class MediaAvatars:
    """messenger.media.api's avatar functions, over a service with fakes."""

    service: MediaService

    def prepare_avatar(self, owner: uuid.UUID, upload_id: uuid.UUID) -> Any:
        return self.service.prepare_avatar(owner, upload_id)

    def discard_avatar(self, url: str | None) -> None:
        self.service.discard_avatar(url)


def users_with(
    service: MediaService, fail: Exception | None = None
) -> tuple[UsersService, uuid.UUID, EditableProfiles]:
    user = uuid.uuid4()
    profiles = EditableProfiles(fail=fail)
    profiles.rows[user] = OwnProfile(
        user_id=user,
        nickname="ann",
        description=None,
        avatar_url=None,
        created_at=utcnow(),
        email="a@example.com",
    )
    return UsersService(profiles, FakeOutbox(), avatars=MediaAvatars(service)), user, profiles


def set_avatar(users: UsersService, user: uuid.UUID, upload_id: uuid.UUID) -> str:
    profile = users.update_own_profile(as_user(user), ProfilePatch(avatar_upload_id=upload_id))
    assert profile.avatar_url is not None
    return profile.avatar_url


def test_an_avatar_is_a_copy_under_a_stable_url_and_the_previous_one_is_deleted() -> None:
    service = media()
    users, user, _ = users_with(service)
    first = set_avatar(users, user, upload(service, user, purpose="avatar"))
    assert first.startswith(f"{AVATARS}/{user}/")
    assert storage_of(service).under("avatars/") == ["avatars/" + first[len(AVATARS) + 1 :]]
    second = set_avatar(users, user, upload(service, user, purpose="avatar"))
    assert storage_of(service).under("avatars/") == ["avatars/" + second[len(AVATARS) + 1 :]]
    users.update_own_profile(as_user(user), ProfilePatch(avatar_url="https://example.com/a.png"))
    assert storage_of(service).under("avatars/") == []
    users.update_own_profile(
        as_user(user), ProfilePatch(avatar_url=None)
    )  # a foreign URL: nothing to do
    assert storage_of(service).deletions.count("avatars/" + second[len(AVATARS) + 1 :]) == 1


def test_an_avatar_upload_is_used_once() -> None:
    service = media()
    users, user, _ = users_with(service)
    upload_id = upload(service, user, purpose="avatar")
    set_avatar(users, user, upload_id)
    with pytest.raises(Conflict):
        set_avatar(users, user, upload_id)


def test_a_profile_that_fails_to_save_keeps_no_avatar_copy() -> None:
    service = media()
    users, user, profiles = users_with(service, fail=ConnectionError("postgres"))
    upload_id = upload(service, user, purpose="avatar")
    with pytest.raises(ConnectionError):
        set_avatar(users, user, upload_id)
    assert storage_of(service).under("avatars/") == []
    assert uploads_of(service).rows[upload_id].used_by is None
    profiles.fail = None
    assert set_avatar(users, user, upload_id)  # the retry works


@pytest.mark.parametrize("kind", ["attachment upload", "incomplete", "someone else's"])
def test_avatar_refusals(kind: str) -> None:
    service = media()
    users, user, profiles = users_with(service)
    upload_id = {
        "attachment upload": lambda: upload(service, user),
        "incomplete": lambda: upload(service, user, purpose="avatar", arrive=False),
        "someone else's": lambda: upload(service, uuid.uuid4(), purpose="avatar"),
    }[kind]()
    with pytest.raises((InvalidInput, Conflict, NotFound)):
        set_avatar(users, user, upload_id)
    assert profiles.rows[user].avatar_url is None
    assert storage_of(service).under("avatars/") == []


def test_avatar_url_and_upload_together_are_refused() -> None:
    with pytest.raises(ValidationError):
        ProfilePatch.model_validate(
            {"avatar_url": "https://example.com/a.png", "avatar_upload_id": str(uuid.uuid4())}
        )
    with pytest.raises(ValidationError):
        ProfilePatch.model_validate({"avatar_upload_id": None})
    assert ProfilePatch.model_validate({"avatar_upload_id": str(uuid.uuid4())}).changes() == {}


def test_only_our_own_avatar_urls_are_deleted() -> None:
    service = media()
    service.discard_avatar("https://cdn.example.test.evil/x/y")
    service.discard_avatar("https://elsewhere.example/avatars/x")
    service.discard_avatar(None)
    assert storage_of(service).deletions == []
    service.discard_avatar(f"{AVATARS}/u/1")
    assert storage_of(service).deletions == ["avatars/u/1"]
