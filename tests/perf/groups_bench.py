"""Bench rows of the groups and blocks RPCs (tests/perf/bench.py's warm part): adding a member
to a group, blocking a user (a friend: the block ends the friendship), and reading a group's
history page with a blocked author filtered out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from tests.perf.bench import Client, Rpc

PER_GROUP = 90  # joiners per group (3 members at the start, at most 100)


def groups_rows(
    api: httpx.Client, client: Client, me: dict[str, Any], n: int, backing: dict[str, str]
) -> list[Rpc]:
    from tests.perf.bench import Rpc, measure_with_floor, note, setup_call

    timed = measure_with_floor(backing)
    owner = str(me["user_id"])
    note("groups: friends to add, a group")
    pals = [client.user() for _ in range(2)]
    joiners = [client.user() for _ in range(n + 5)]
    for other in pals + joiners:
        client.befriend(me, other)
    # A group holds at most 100 members: joiner i goes to group i // PER_GROUP.
    groups = [
        setup_call(
            lambda: api.post(
                "/v1/chats",
                json={"participants": [p["user_id"] for p in pals], "title": "bench"},
                headers=me["headers"],
            )
        ).json()["chat_id"]
        for _ in range(len(joiners) // PER_GROUP + 1)
    ]
    chat_id = groups[0]

    def add(i: int, user: str) -> httpx.Response:
        return api.post(
            f"/v1/chats/{groups[i // PER_GROUP]}/members",
            json={"user_ids": [user]},
            headers=me["headers"],
        )

    for i in range(n, len(joiners)):  # warm AddChatMembers
        add(i, joiners[i]["user_id"])
    ids = [str(j["user_id"]) for j in joiners[:n]]
    rows = [
        timed(
            Rpc("POST /v1/chats/{id}/members (1 user)"),
            n,
            lambda i: add(i, ids[i]),
            ("add_member", n, {"chat_ids": groups, "owner": owner, "user_ids": ids}),
        )
    ]
    note("blocks: warm, then block the friends just added")
    for joiner in joiners[n:]:  # warm BlockUser
        api.put(f"/v1/blocks/{joiner['user_id']}", headers=me["headers"])
    rows.append(
        timed(
            Rpc("PUT /v1/blocks/{id} (a friend)"),
            n,
            lambda i: api.put(f"/v1/blocks/{ids[i]}", headers=me["headers"]),
            ("block_user", n, {"blocker": owner, "blocked": ids}),
        )
    )
    note("history: a group page with a blocked author")
    url = f"/v1/chats/{chat_id}/messages"
    chatty, blocked = pals
    setup_call(lambda: api.put(f"/v1/blocks/{blocked['user_id']}", headers=me["headers"]))
    for i in range(60):
        author = blocked if i % 2 else chatty
        setup_call(
            lambda a=author, i=i: api.post(url, json={"content": f"m{i}"}, headers=a["headers"])
        )
    for _ in range(10):
        api.get(url, headers=me["headers"])
    every_blocked = [blocked["user_id"], *ids, *(str(j["user_id"]) for j in joiners[n:])]
    rows.append(
        timed(
            Rpc("GET /v1/chats/{id}/messages (block filter)"),
            2 * n,
            lambda _: api.get(url, headers=me["headers"]),
            (
                "history_blocked",
                2 * n,
                {"chat_id": chat_id, "reader": owner, "blocked": sorted(every_blocked)},
            ),
        )
    )
    return rows
