"""Register, Login, Logout and the Authorizer, invoked with their events/ samples."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import redis

from tests.integration.helpers import authorize, authorize_identity, http_call
from tests.support import invoke, unique

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("in_process_env")]


def new_account(nickname: str | None = None) -> dict[str, str]:
    nickname = nickname or unique("n")
    return {"email": f"{nickname}@Example.com", "password": "correct horse", "nickname": nickname}


def test_register_stores_the_account_and_its_event_atomically(db: Any) -> None:
    account = new_account()
    status, body, _ = http_call("Register", account)
    assert status == 201
    assert body["email"] == account["email"].lower()
    stored = db.execute(
        "SELECT email FROM auth.accounts WHERE user_id = %s", (body["user_id"],)
    ).fetchone()
    assert stored == (account["email"].lower(),)
    event, published_at = db.execute(
        "SELECT payload, published_at FROM messaging.outbox WHERE key = %s", (body["user_id"],)
    ).fetchone()
    assert event["type"] == "user.registered"
    assert published_at is not None, "Kafka is up: the event must be published right away"
    assert event["data"]["nickname"] == account["nickname"]


def test_a_nickname_is_taken_from_its_registration_on(db: Any) -> None:
    """API.md, "Accounts and sessions": taken from the 201, in any case, until and after the
    profile exists; the reservation goes once the profile holds the nickname."""
    from tests.integration.helpers import msk_event, registered_envelope

    nickname = unique("Nick")
    status, first, _ = http_call("Register", new_account(nickname))
    assert status == 201
    second = new_account(unique("o"))
    status, body, _ = http_call("Register", {**second, "nickname": nickname.upper()})
    assert (status, body["code"]) == (409, "nickname_taken")
    refused = second["email"].lower()
    assert db.execute("SELECT 1 FROM auth.accounts WHERE email = %s", (refused,)).fetchone() is None

    # Someone with a profile cannot take it either, while the first profile is still pending.
    other = registered_envelope(unique("p"))
    invoke("CreateProfileOnUserRegistered", msk_event(other))
    status, body, _ = http_call(
        "UpdateMyProfile", {"nickname": nickname.lower()}, user_id=other["data"]["user_id"]
    )
    assert (status, body["code"]) == (409, "nickname_taken")

    # The profile arrives: it holds the nickname, the reservation is gone, still 409.
    mine = registered_envelope(nickname, user_id=first["user_id"])
    assert invoke("CreateProfileOnUserRegistered", msk_event(mine)) == {"batchItemFailures": []}
    assert http_call("GetMyProfile", user_id=first["user_id"])[1]["nickname"] == nickname
    held = db.execute(
        "SELECT 1 FROM users.nickname_reservations WHERE user_id = %s", (first["user_id"],)
    )
    assert held.fetchone() is None
    status, body, _ = http_call("Register", {**second, "nickname": nickname.lower()})
    assert (status, body["code"]) == (409, "nickname_taken")

    # Renamed: the old nickname is free again, the new one taken.
    renamed = unique("Re")
    status, _, _ = http_call("UpdateMyProfile", {"nickname": renamed}, user_id=first["user_id"])
    assert status == 200
    assert http_call("Register", {**second, "nickname": nickname.upper()})[0] == 201
    status, body, _ = http_call("Register", new_account(renamed.upper()))
    assert (status, body["code"]) == (409, "nickname_taken")


@pytest.mark.parametrize("first_commits", [True, False])
def test_of_two_simultaneous_reservations_exactly_one_wins(
    in_process_env: dict[str, str], db: Any, first_commits: bool
) -> None:
    """Two registrations' transactions, interleaved for real on two connections: the second
    waits on the first's reservation and loses when it commits (wins when it rolls back)."""
    import threading
    import uuid

    import psycopg

    from messenger.users.adapters.profiles import reserve_nickname
    from tests.support import poll

    nickname = unique("Race")
    url = in_process_env["DATABASE_URL"]
    with psycopg.connect(url) as first, psycopg.connect(url) as second:
        assert reserve_nickname(first, uuid.uuid4(), nickname)  # not committed yet
        outcome: list[bool] = []

        def race() -> None:
            outcome.append(reserve_nickname(second, uuid.uuid4(), nickname.upper()))

        racer = threading.Thread(target=race)
        racer.start()
        waiting = "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s"
        poll(lambda: db.execute(waiting, (second.info.backend_pid,)).fetchone()[0] or None)
        assert outcome == []  # still waiting for the first transaction
        if first_commits:
            first.commit()
        else:
            first.rollback()
        racer.join(timeout=10)
        assert outcome == [not first_commits]
        second.rollback()


def test_duplicate_email_is_409_and_writes_nothing(db: Any) -> None:
    account = new_account()
    assert http_call("Register", account)[0] == 201
    before = db.execute("SELECT count(*) FROM messaging.outbox").fetchone()
    again = {**account, "email": account["email"].upper(), "nickname": unique("o")}
    status, body, _ = http_call("Register", again)
    assert (status, body["code"]) == (409, "email_taken")
    assert db.execute("SELECT count(*) FROM messaging.outbox").fetchone() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a" * 250 + "@x.io"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "p" * 129}, "password"),
        ({"nickname": "ab"}, "nickname"),
        ({"nickname": "has space"}, "nickname"),
        ({"nickname": "x" * 33}, "nickname"),
    ],
)
def test_register_rules_are_422_with_the_field(change: dict[str, str], field: str) -> None:
    status, body, headers = http_call("Register", {**new_account(), **change})
    assert status == 422
    assert headers["content-type"] == "application/problem+json"
    assert body["code"] == "validation_failed"
    assert field in [e["field"] for e in body["errors"]]


def test_register_missing_field_and_malformed_json() -> None:
    status, body, _ = http_call("Register", {"email": "a@b.io"})
    assert (status, body["code"]) == (422, "validation_failed")
    status, body, _ = http_call("Register", raw_body='{"email": ')
    assert (status, body["code"]) == (400, "malformed_json")


def test_login_logout_and_the_authorizer(realtime_env: dict[str, str]) -> None:
    account = new_account()
    _, registered, _ = http_call("Register", account)
    status, session, _ = http_call(
        "Login", {"email": account["email"], "password": account["password"]}
    )
    assert status == 200
    assert session["token_type"] == "Bearer"
    assert session["user_id"] == registered["user_id"]
    assert session["expires_in"] > 0
    assert authorize(session["access_token"]) == registered["user_id"]
    # The session travels beside the user, named as other contexts name it: not the token.
    second = http_call("Login", {"email": account["email"], "password": account["password"]})[1]
    first_identity = authorize_identity(session["access_token"])
    second_identity = authorize_identity(second["access_token"])
    assert first_identity
    assert second_identity
    assert first_identity[1] != second_identity[1]
    assert session["access_token"] not in first_identity[1]

    status, _, _ = http_call("Logout", token=session["access_token"], user_id=session["user_id"])
    assert status == 204
    assert authorize(session["access_token"]) is None


def test_authorizer_refuses_forged_missing_and_expired_tokens(in_process_env: Any, db: Any) -> None:
    assert authorize(None) is None
    assert authorize("forged-" + unique()) is None
    account = new_account()
    http_call("Register", account)
    _, session, _ = http_call("Login", {"email": account["email"], "password": "correct horse"})
    token_hash = hashlib.sha256(session["access_token"].encode()).digest()
    db.execute(
        "UPDATE auth.sessions SET expires_at = now() - interval '1 second' WHERE token_hash = %s",
        (token_hash,),
    )
    redis.Redis.from_url(in_process_env["REDIS_URL"]).delete(f"session:{token_hash.hex()}")
    assert authorize(session["access_token"]) is None


def test_wrong_password_and_unknown_email_answer_alike() -> None:
    account = new_account()
    http_call("Register", account)
    wrong = http_call("Login", {"email": account["email"], "password": "wrong horse"})
    unknown = http_call("Login", {"email": "nobody-" + account["email"], "password": "x" * 9})
    assert wrong[0] == unknown[0] == 401
    assert wrong[1] == unknown[1]
    assert wrong[1]["code"] == "invalid_credentials"


def test_login_is_throttled_after_five_failures() -> None:
    account = new_account()
    http_call("Register", account)
    for _ in range(5):
        assert http_call("Login", {"email": account["email"], "password": "wrong horse"})[0] == 401
    status, body, headers = http_call(
        "Login", {"email": account["email"], "password": account["password"]}
    )
    assert (status, body["code"]) == (429, "rate_limited")
    assert 0 < int(headers["retry-after"]) <= 15 * 60


def test_an_attacker_locks_out_only_their_own_address() -> None:
    account = new_account()
    http_call("Register", account)
    wrong = {"email": account["email"], "password": "wrong horse"}
    right = {"email": account["email"], "password": account["password"]}
    for _ in range(5):
        assert http_call("Login", wrong, source_ip="203.0.113.66")[0] == 401
    status, body, _ = http_call("Login", right, source_ip="203.0.113.66")
    assert (status, body["code"]) == (429, "rate_limited")
    assert http_call("Login", right, source_ip="198.51.100.7")[0] == 200
