"""The per-user event stream on moto DynamoDB: the push consumer appends (once per event), GET
/v1/sync reads (events/sync.json), with every refusal of the contract."""

from __future__ import annotations

import base64
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.support import invoke, sample_event

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("in_process_env")]


def _sync(user: uuid.UUID, **query: str) -> tuple[int, Any]:
    event = sample_event("Sync")
    event["requestContext"]["authorizer"]["lambda"] = {"user_id": str(user)}
    event["queryStringParameters"] = query or None
    event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    result = invoke("Sync", event)
    return result["statusCode"], json.loads(result["body"])


def _chat_event(*envelopes: dict[str, Any]) -> dict[str, Any]:
    """The consumer's chat sample, carrying these envelopes."""
    event = sample_event("PushRealtimeEvents", "push_realtime_events_chat.json")
    (template_record,) = next(iter(event["records"].values()))
    records = []
    for offset, envelope in enumerate(envelopes):
        record = dict(template_record)
        record.update(offset=offset, value=base64.b64encode(json.dumps(envelope).encode()).decode())
        records.append(record)
    event["records"] = {"chat-events-0": records}
    return event


def _sent(chat: uuid.UUID, *participants: uuid.UUID, content: str = "hi") -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": "message.sent",
        "version": 1,
        "occurred_at": "2026-11-26T16:30:31.123Z",
        "data": {
            "message_id": str(uuid.uuid4()),
            "chat_id": str(chat),
            "author_id": str(participants[0]),
            "content": content,
            "created_at": "2026-11-26T16:30:31.123Z",
            "client_message_id": None,
            "participants": [str(p) for p in participants],
        },
    }


def _all(user: uuid.UUID, since: str, limit: int = 100) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    while True:
        status, page = _sync(user, since=since, limit=str(limit))
        assert status == 200, page
        frames.extend(page["items"])
        since = page["next_cursor"]
        if not page["has_more"]:
            return frames


def test_pushed_events_are_synced_in_order_and_a_redelivery_appends_nothing(
    realtime_env: dict[str, str],
) -> None:
    ann, bob = uuid.uuid4(), uuid.uuid4()
    status, start = _sync(bob)
    assert status == 200
    assert start["items"] == []
    assert start["has_more"] is False
    chat = uuid.uuid4()
    envelopes = [_sent(chat, ann, bob, content=f"m{i}") for i in range(7)]
    batch = _chat_event(*envelopes)
    assert invoke("PushRealtimeEvents", batch) == {"batchItemFailures": []}
    assert invoke("PushRealtimeEvents", batch) == {"batchItemFailures": []}  # redelivered

    frames = _all(bob, start["next_cursor"], limit=3)
    assert [f["data"]["content"] for f in frames] == [f"m{i}" for i in range(7)]
    assert all(f["type"] == "message.sent" and "participants" not in f["data"] for f in frames)
    assert len({f["cursor"] for f in frames}) == 7
    # Caught up: the last cursor answers nothing more, and is the current one.
    status, caught_up = _sync(bob, since=frames[-1]["cursor"])
    assert (status, caught_up["items"], caught_up["has_more"]) == (200, [], False)
    assert _sync(bob)[1]["next_cursor"] == frames[-1]["cursor"]
    # The author's own stream has them too (the author's other devices), Cat's nothing.
    assert len(_all(ann, start["next_cursor"])) == 7
    assert _all(uuid.uuid4(), start["next_cursor"]) == []


def test_concurrent_appends_to_one_user_leave_no_gap_and_no_repeat(
    realtime_env: dict[str, str],
) -> None:
    """Several consumers (partitions) append to the same stream at once: a slot is taken on the
    condition it is empty, every loser takes the next one, so positions stay 1..n."""
    from messenger.bootstrap import _stream
    from messenger.realtime.service import StreamedFrame

    stream, user = _stream(), uuid.uuid4()
    now = int(time.time())

    def append(i: int) -> int:
        frame = StreamedFrame("message.sent", {"n": i})
        return stream.append(str(uuid.uuid4()), {user: frame}, now)[user]

    with ThreadPoolExecutor(6) as pool:
        positions = sorted(pool.map(append, range(24)))
    assert positions == list(range(1, 25))
    rows = stream.after(user, 0, 100, now)
    assert [p for p, _ in rows] == list(range(1, 25))
    assert sorted(body["data"]["n"] for _, body in rows if body) == list(range(24))


def test_a_cursor_past_retention_is_410_sync_expired(realtime_env: dict[str, str]) -> None:
    from messenger.bootstrap import _stream
    from messenger.realtime.service import StreamedFrame

    user = uuid.uuid4()
    long_ago = int(time.time()) - 15 * 86400
    _stream().append(str(uuid.uuid4()), {user: StreamedFrame("message.sent", {})}, long_ago)
    first = _sync(user)[1]["next_cursor"]  # position 1 (expired, not yet removed)
    zero = base64.urlsafe_b64encode(b"0").decode()
    status, problem = _sync(user, since=zero)
    assert status == 410
    assert problem["code"] == "sync_expired"
    assert _sync(user, since=first)[0] == 200  # from the newest expired one on: nothing missed


@pytest.mark.parametrize(
    "query",
    [
        {"since": "not-a-cursor"},
        {"since": base64.urlsafe_b64encode(b"99").decode()},  # never issued to this user
        {"since": base64.urlsafe_b64encode(b'"1"').decode()},
        {"limit": "0"},
        {"limit": "501"},
        {"limit": "many"},
        {"since": "x" * 600},
    ],
)
def test_a_bad_query_is_422_and_never_a_500(
    realtime_env: dict[str, str], query: dict[str, str]
) -> None:
    status, problem = _sync(uuid.uuid4(), **query)
    assert status == 422
    assert problem["code"] == "validation_failed"


def test_the_sample_event_answers(realtime_env: dict[str, str]) -> None:
    """events/sync.json asks for position 42 of a user with no stream: a cursor never issued."""
    result = invoke("Sync", sample_event("Sync"))
    assert result["statusCode"] == 422
    assert json.loads(result["body"])["errors"][0]["field"] == "since"


def test_limit_caps_a_page_at_500(realtime_env: dict[str, str]) -> None:
    status, page = _sync(uuid.uuid4(), limit="500")
    assert status == 200
    assert page["items"] == []


def test_a_writer_that_died_before_its_marker_is_not_appended_twice(
    realtime_env: dict[str, str],
) -> None:
    from messenger.bootstrap import _stream
    from messenger.realtime.adapters.stream import StreamRecord
    from messenger.realtime.service import StreamedFrame

    stream, user, event_id = _stream(), uuid.uuid4(), str(uuid.uuid4())
    now = int(time.time())
    assert stream.append(event_id, {user: StreamedFrame("message.sent", {})}, now) == {user: 1}
    StreamRecord(f"{user}#{event_id}", 0).delete()  # as if the Lambda died after the frame
    assert stream.append(event_id, {user: StreamedFrame("message.sent", {})}, now) == {user: 1}
    assert stream.head(user) == 1


def test_a_head_left_behind_by_a_writer_that_died_costs_a_query_not_a_hole(
    realtime_env: dict[str, str],
) -> None:
    """The first try takes the slot after the head read in the event's batch. A writer that died
    between its frame and its head left the head one behind: that slot is taken, the retry asks
    the Query, and the redelivered event gets its frame's position back; a new one lands after
    it."""
    from messenger.bootstrap import _stream
    from messenger.realtime.adapters.stream import StreamRecord
    from messenger.realtime.service import StreamedFrame

    stream, user, died = _stream(), uuid.uuid4(), str(uuid.uuid4())
    now = int(time.time())
    stream.append(str(uuid.uuid4()), {user: StreamedFrame("message.sent", {"n": 1})}, now)
    assert stream.append(died, {user: StreamedFrame("message.sent", {"n": 2})}, now) == {user: 2}
    StreamRecord(f"{user}#{died}", 0).delete()  # died after the frame: no marker ...
    StreamRecord(str(user), 0, head=1).save()  # ... and no head
    assert stream.append(died, {user: StreamedFrame("message.sent", {"n": 2})}, now) == {user: 2}
    assert stream.head(user) == 2
    StreamRecord(str(user), 0, head=1).save()  # behind again
    later = stream.append(str(uuid.uuid4()), {user: StreamedFrame("message.sent", {"n": 3})}, now)
    assert later == {user: 3}
    assert StreamRecord.get(str(user), 0, consistent_read=True).head == 3
    rows = stream.after(user, 0, 10, now)
    assert [(p, body["data"]["n"]) for p, body in rows if body] == [(1, 1), (2, 2), (3, 3)]


def test_an_erased_stream_takes_no_frame_from_the_first_try(
    realtime_env: dict[str, str],
) -> None:
    from messenger.bootstrap import _stream
    from messenger.realtime.adapters.stream import StreamRecord
    from messenger.realtime.service import StreamedFrame

    stream, user, other = _stream(), uuid.uuid4(), uuid.uuid4()
    now = int(time.time())
    stream.append(str(uuid.uuid4()), {user: StreamedFrame("message.sent", {})}, now)
    assert stream.purge(user) == 1
    frames = {u: StreamedFrame("chat.updated", {}) for u in (user, other)}
    assert stream.append(str(uuid.uuid4()), frames, now) == {other: 1}
    assert [item.position for item in StreamRecord.query(str(user))] == [0]


def test_positions_go_on_after_every_frame_expired_and_was_removed(
    realtime_env: dict[str, str],
) -> None:
    """The head item outlives the frames: a cursor is never issued twice."""
    from messenger.bootstrap import _stream
    from messenger.realtime.adapters.stream import StreamRecord
    from messenger.realtime.service import StreamedFrame

    stream, user = _stream(), uuid.uuid4()
    now = int(time.time())
    for _ in range(3):
        stream.append(str(uuid.uuid4()), {user: StreamedFrame("message.sent", {})}, now)
    for position in (1, 2, 3):
        StreamRecord(str(user), position).delete()  # what the TTL does
    assert stream.head(user) == 3
    zero = base64.urlsafe_b64encode(b"0").decode()
    assert _sync(user, since=zero)[0] == 410
    assert stream.append(str(uuid.uuid4()), {user: StreamedFrame("x", {})}, now) == {user: 4}


def test_dynamodb_unreachable_is_503_with_retry_after(realtime_env: dict[str, str]) -> None:
    from messenger.realtime.adapters.stream import StreamRecord, configure

    _sync(uuid.uuid4())  # the stream bound (first use)
    configure()
    meta: Any = StreamRecord.Meta
    saved = meta.host
    meta.host, StreamRecord._connection = "http://127.0.0.1:9", None  # nothing listens there
    try:
        event = sample_event("Sync")
        event["queryStringParameters"] = None
        result = invoke("Sync", event)
    finally:
        meta.host, StreamRecord._connection = saved, None
    assert result["statusCode"] == 503
    assert json.loads(result["body"])["code"] == "unavailable"
    assert {k.lower() for k in result["headers"]} >= {"retry-after"}
