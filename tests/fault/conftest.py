"""The fault tier: a private set of every backing service, and a gateway on them, to break.

Nothing here touches the machine's Postgres or Redis: Postgres is a private cluster (initdb as an
unprivileged user), Redis a private `redis-server`, Kafka, MongoDB and DynamoDB private too. A
test stops, restarts or pauses (SIGSTOP/SIGCONT, the whole process group) one of them under
requests. Everything started here stops at the end of the tier, paused processes included.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from messenger.bootstrap import apply_mongo_indexes
from messenger_local.dynamodb import ensure_tables
from messenger_local.gateway import LocalGateway
from messenger_local.s3 import ensure_buckets
from messenger_local.services import LocalServices, ManagedProcess, port_open, wait_until
from tests.e2e.conftest import start_gateway
from tests.support import ROOT, prepare_backing, template

FUNCTION_TIMEOUT = 10.0  # template.yaml Globals: every HTTP function's Timeout
PREWARMED = (
    "Register",
    "Login",
    "GetMyProfile",
    "GetFriends",
    "ListChats",
    "SendMessage",
    "GetChatHistory",
    "CreateUpload",
    "WebSocketConnect",
    "SendFriendRequest",
    "AcceptFriendRequest",
    "CreateChat",
)
STATE = ROOT / ".local" / "fault"


class Service:
    """One private backing service we can stop, start again on the same address, or pause."""

    def __init__(self, services: LocalServices, name: str, ready: Callable[[], bool]) -> None:
        self.services = services
        self.name = name
        self.ready = ready
        self.proc = next(p for p in services.processes if p.name == name)
        self.argv = [str(a) for a in self.proc.process.args]  # type: ignore[union-attr]
        self.paused = False

    @property
    def pid(self) -> int:
        return self.proc.process.pid

    def _signal_all(self, signum: int) -> None:
        """The service's process group, and its children that left it (Postgres backends call
        setsid, so a group signal alone would leave every open session working)."""
        os.killpg(self.pid, signum)
        for child in _descendants(self.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signum)

    def pause(self) -> None:
        self._signal_all(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        if self.paused:
            self._signal_all(signal.SIGCONT)
            self.paused = False

    @contextlib.contextmanager
    def paused_for(self) -> Iterator[None]:
        self.pause()
        try:
            yield
        finally:
            self.resume()

    def stop(self) -> None:
        self.resume()
        if self.name == "postgres":
            # A fast shutdown, as a restart or failover does: every session gets AdminShutdown.
            os.kill(self.pid, signal.SIGINT)
            self.proc.process.wait(15)
        self.proc.stop()
        self.services.processes.remove(self.proc)  # never signal its (reusable) pid again
        wait_until(lambda: not self.ready(), 15, f"{self.name} down")

    def start(self) -> None:
        uid = gid = None
        cwd = None
        if self.name == "postgres":
            data = Path(self.argv[self.argv.index("-D") + 1])
            cwd = self.argv[self.argv.index("-k") + 1]
            if os.geteuid() == 0:
                uid, gid = data.stat().st_uid, data.stat().st_gid
        self.proc = ManagedProcess(
            self.name, self.argv, Path(self.proc.log_path), uid=uid, gid=gid, cwd=cwd
        )
        self.services.processes.append(self.proc)
        wait_until(self.ready, 30, self.name)


def _descendants(pid: int) -> list[int]:
    """Every process below `pid`, from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            # stat: "pid (comm) state ppid ...": comm may hold spaces, so split after ")".
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _pg_ready(url: str) -> Callable[[], bool]:
    def check() -> bool:
        import psycopg

        with contextlib.suppress(Exception), psycopg.connect(url, connect_timeout=2):
            return True
        return False

    return check


def _redis_ready(url: str) -> Callable[[], bool]:
    def check() -> bool:
        import redis

        with contextlib.suppress(Exception):
            return bool(redis.Redis.from_url(url, socket_timeout=0.5).ping())
        return False

    return check


def _port_ready(address: str) -> Callable[[], bool]:
    host, port = address.removeprefix("http://").split("/")[0].split(":")
    return lambda: port_open(host, int(port))


def _mongo_ready(uri: str) -> Callable[[], bool]:
    def check() -> bool:
        import pymongo

        client: Any = pymongo.MongoClient(uri, serverSelectionTimeoutMS=500)
        try:
            return bool(client.admin.command("ping").get("ok"))
        except Exception:
            return False
        finally:
            client.close()

    return check


@dataclass
class Outcome:
    service: str
    fault: str
    route: str
    status: int
    seconds: float


@dataclass
class Stack:
    services: LocalServices
    env: dict[str, str]
    gateway: LocalGateway
    api: httpx.Client
    postgres: Service
    redis: Service
    mongodb: Service
    dynamodb: Service
    matrix: list[Outcome] = field(default_factory=list)

    def record(
        self, service: str, fault: str, route: str, response: httpx.Response, seconds: float
    ) -> None:
        self.matrix.append(Outcome(service, fault, route, response.status_code, round(seconds, 2)))

    def restore_mongodb_indexes(self) -> None:
        apply_mongo_indexes(self.env["MONGODB_URI"], self.env["MONGODB_DATABASE"])

    def restore_dynamodb_tables(self) -> None:
        """The moto server keeps nothing across a restart: its tables, and the bucket (S3)."""
        ensure_tables(template().tables, self.env["DYNAMODB_ENDPOINT"])
        ensure_buckets(template().buckets, self.env["S3_ENDPOINT"])


@pytest.fixture(scope="package")
def stack() -> Iterator[Stack]:
    with LocalServices(
        state_dir=STATE,
        env={},  # never the environment's (or the machine's) services: these get broken
        use_machine_services=False,
        startup_timeout=60,
    ) as services:
        # Production's DynamoDB read timeout: these services serve this tier alone, and the
        # outage answers are measured against the real policy (decision 55).
        env = {**prepare_backing(services, "fault"), "DYNAMODB_READ_TIMEOUT_SECONDS": "1"}
        database_url = env["DATABASE_URL"]
        controls = {
            "postgres": Service(services, "postgres", _pg_ready(database_url)),
            "redis": Service(services, "redis", _redis_ready(services.redis_url)),
            "mongodb": Service(services, "mongodb", _mongo_ready(services.mongodb_uri)),
            "dynamodb": Service(services, "dynamodb", _port_ready(services.dynamodb_endpoint)),
        }
        gateway = start_gateway(env, "fault")
        # Cold starts are not what is measured: every function the requests reach (the tests
        # send up to three authorized requests at once; the local cap is 4 per function).
        gateway.prewarm(*PREWARMED)
        gateway.prewarm("Authorizer", count=3)
        try:
            with httpx.Client(base_url=gateway.url, timeout=30) as api:
                running = Stack(services, env, gateway, api, **controls)
                yield running
                _write_matrix(running.matrix)
        finally:
            for control in controls.values():
                control.resume()  # a stopped process cannot take SIGTERM
            gateway.stop()


def _write_matrix(matrix: list[Outcome]) -> None:
    STATE.mkdir(parents=True, exist_ok=True)
    rows = [o.__dict__ for o in matrix]
    (STATE / "matrix.json").write_text(json.dumps(rows, indent=1))


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started
