"""`make bench`: cold-start proxy per function, then warm latency through the local gateway.

Warm latency is measured client-side over HTTP (gateway + authorizer + function + services) and
set beside its floor: the same database, cache and broker calls (and the same password hashing)
made directly with the drivers, so the ratio shows what our layers cost on top of the work.
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from messenger_local.gateway import LocalGateway
from messenger_local.services import LocalServices, drop_database
from tests.perf import coldstart, floors
from tests.support import ROOT


@dataclass(frozen=True)
class Latency:
    name: str
    samples_ms: list[float]

    def pct(self, p: float) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed(n: int, call: Callable[[int], object]) -> list[float]:
    samples = []
    for i in range(n):
        start = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def table(rows: list[tuple[Latency, Latency]]) -> str:
    lines = [
        "Warm latency through the local gateway vs the floor (same driver calls, direct)",
        f"{'rpc':<24} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'floor p50':>10} {'floor p99':>10}"
        f" {'ratio p50':>10}",
    ]
    for rpc, floor in rows:
        ratio = rpc.pct(50) / floor.pct(50)
        lines.append(
            f"{rpc.name:<24} {len(rpc.samples_ms):>5} {rpc.pct(50):>8.2f} {rpc.pct(99):>8.2f}"
            f" {floor.pct(50):>10.2f} {floor.pct(99):>10.2f} {ratio:>10.2f}"
        )
    return "\n".join(lines)


def warm(api: httpx.Client, n: int, backing: dict[str, str]) -> list[tuple[Latency, Latency]]:
    tag = uuid.uuid4().hex[:6]
    accounts = [
        {"email": f"b{tag}{i}@example.com", "password": "correct horse", "nickname": f"b{tag}{i}"}
        for i in range(2 * n)
    ]
    # Warm every execution environment first (cold starts are reported separately).
    for account in accounts[n:]:
        api.post("/v1/auth/register", json=account).raise_for_status()
        api.post("/v1/auth/login", json={"email": account["email"], "password": "correct horse"})
    register = timed(
        n, lambda i: api.post("/v1/auth/register", json=accounts[i]).raise_for_status()
    )
    credentials = [{"email": a["email"], "password": a["password"]} for a in accounts]
    login = timed(n, lambda i: api.post("/v1/auth/login", json=credentials[i]).raise_for_status())
    session = api.post("/v1/auth/login", json=credentials[0]).json()
    headers = {"Authorization": f"Bearer {session['access_token']}"}
    user_id = session["user_id"]
    deadline = time.monotonic() + 30
    while api.get(f"/v1/users/{user_id}", headers=headers).status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError("profile never appeared")
        time.sleep(0.1)
    profile = timed(
        2 * n, lambda _: api.get(f"/v1/users/{user_id}", headers=headers).raise_for_status()
    )
    floor = floors.Floors(backing)
    try:
        return [
            (Latency("POST /v1/auth/register", register), Latency("floor", floor.register(n))),
            (Latency("POST /v1/auth/login", login), Latency("floor", floor.login(n))),
            (Latency("GET /v1/users/{id}", profile), Latency("floor", floor.get_profile(2 * n))),
        ]
    finally:
        floor.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=100, help="requests per RPC")
    parser.add_argument("--runs", type=int, default=5, help="cold-start runs per function")
    args = parser.parse_args()

    print(coldstart.report(coldstart.measure_all(args.runs)), flush=True)
    print()
    with LocalServices(
        state_dir=ROOT / ".local" / "bench", services=("postgres", "redis", "kafka")
    ) as services:
        from messenger.migrate import apply_migrations

        database_url = services.create_database("bench")
        apply_migrations(database_url)
        backing = {**services.env(), "DATABASE_URL": database_url}
        gateway = LocalGateway(
            ROOT / "template.yaml",
            env={**backing, "POWERTOOLS_LOG_LEVEL": "WARNING"},
            port=0,
            state_dir=ROOT / ".local" / "bench",
            function_log_dir=ROOT / ".local" / "bench" / "logs",
        ).start()
        try:
            with httpx.Client(base_url=gateway.url, timeout=30) as api:
                print(table(warm(api, args.n, backing)))
        finally:
            gateway.stop()
            drop_database(database_url)


if __name__ == "__main__":
    main()
