"""Bench rows of account deletion and data exports (tests/perf/bench.py's warm part): DELETE
/v1/users/me's request path, each call a fresh account, and POST /v1/users/me/exports, each
call a user of its own (the consumers run after the answers: not measured)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from tests.perf.bench import Client, Rpc


def erasure_rows(api: httpx.Client, client: Client, n: int, backing: dict[str, str]) -> list[Rpc]:
    from tests.perf.bench import Rpc, measure_with_floor, note

    timed = measure_with_floor(backing)
    note("account deletion and exports: their users")
    doomed: list[dict[str, Any]] = [client.user() for _ in range(n + 5)]
    exporters: list[dict[str, Any]] = [client.user() for _ in range(n + 5)]
    body = {"password": "correct horse"}
    for user in doomed[n:]:  # warm DeleteMyAccount's execution environment
        api.request("DELETE", "/v1/users/me", json=body, headers=user["headers"])
    for user in exporters[n:]:  # and RequestExport's
        api.post("/v1/users/me/exports", headers=user["headers"])
    return [
        timed(
            Rpc("POST /v1/users/me/exports"),
            n,
            lambda i: api.post("/v1/users/me/exports", headers=exporters[i]["headers"]),
            ("request_export", n, {}),
        ),
        timed(
            Rpc("DELETE /v1/users/me"),
            n,
            lambda i: api.request(
                "DELETE", "/v1/users/me", json=body, headers=doomed[i]["headers"]
            ),
            ("delete_account", n, {}),
        ),
    ]
