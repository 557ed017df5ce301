"""Bench rows of the session RPCs (tests/perf/bench.py's warm part): a refresh (rotation: the
next call presents the token the previous one answered) and the session listing of a user with
five sessions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from tests.perf.bench import Client, Rpc


def session_rows(api: httpx.Client, client: Client, n: int, backing: dict[str, str]) -> list[Rpc]:
    from tests.perf.bench import Rpc, measure_with_floor, note, setup_call

    timed = measure_with_floor(backing)
    me = client.user()
    credentials = {"email": me["email"], "password": me["password"]}
    for _ in range(4):  # five sessions in all
        setup_call(lambda: api.post("/v1/auth/login", json=credentials))
    chain: dict[str, Any] = {"refresh_token": me["refresh_token"]}

    def refresh(_: int) -> httpx.Response:
        response = api.post("/v1/auth/refresh", json={"refresh_token": chain["refresh_token"]})
        if response.status_code == 200:
            chain["refresh_token"] = response.json()["refresh_token"]
        return response

    for _ in range(10):  # warm both functions' environments
        refresh(0).raise_for_status()
        api.get("/v1/auth/sessions", headers=me["headers"]).raise_for_status()
    note("session RPCs")
    return [
        timed(Rpc("POST /v1/auth/refresh"), n, refresh, ("refresh", n, {})),
        timed(
            Rpc("GET /v1/auth/sessions (5 sessions)"),
            2 * n,
            lambda _: api.get("/v1/auth/sessions", headers=me["headers"]),
            ("list_sessions", 2 * n, {"user": str(me["user_id"])}),
        ),
    ]
