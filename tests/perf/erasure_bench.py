"""Bench rows of account deletion (tests/perf/bench.py's warm part): DELETE /v1/users/me's
request path, each call a fresh account (its consumers run after the answer: not measured)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from tests.perf.bench import Client, Rpc


def erasure_rows(api: httpx.Client, client: Client, n: int, backing: dict[str, str]) -> list[Rpc]:
    from tests.perf.bench import Rpc, measure_with_floor, note

    timed = measure_with_floor(backing)
    note("account deletion: accounts to delete")
    doomed: list[dict[str, Any]] = [client.user() for _ in range(n + 5)]
    body = {"password": "correct horse"}
    for user in doomed[n:]:  # warm DeleteMyAccount's execution environment
        api.request("DELETE", "/v1/users/me", json=body, headers=user["headers"])
    return [
        timed(
            Rpc("DELETE /v1/users/me"),
            n,
            lambda i: api.request(
                "DELETE", "/v1/users/me", json=body, headers=doomed[i]["headers"]
            ),
            ("delete_account", n, {}),
        ),
    ]
