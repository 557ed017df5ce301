"""Lambda-like execution environments: one subprocess per environment, reused while warm.

Each function gets its own pool of worker processes (created lazily = cold start, reused = warm,
another one spawned when all are busy, up to a cap). A worker sees only the function's template
environment plus the local overrides, imports its handler from `<CodeUri>/<module>.py` once, and
is killed when an invocation exceeds the function's Timeout, exactly like a Lambda sandbox.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from messenger_local.template import ACCOUNT_ID, REGION, Function, Template

log = logging.getLogger("messenger_local.runtime")

WORKER_SCRIPT = Path(__file__).with_name("_worker.py")
DEFAULT_MAX_CONCURRENCY = 4
# Lambda's reserved variables; the AWS credentials are dummies for the local stand-ins.
BASE_ENV = {
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    "LANG": "en_US.UTF-8",
    "TZ": ":UTC",
    "PYTHONUNBUFFERED": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
}


@dataclass(frozen=True)
class InvokeResult:
    """What the Invoke API returns: a payload, or a function error (type + message)."""

    function: str
    request_id: str
    payload: Any = None
    error_type: str | None = None
    error_message: str | None = None
    stack_trace: list[str] | None = None
    duration_ms: float = 0.0
    handler_ms: float = 0.0  # the handler call alone, measured inside the environment
    cold_start: bool = False

    @property
    def ok(self) -> bool:
        return self.error_type is None

    def error_payload(self) -> dict[str, Any]:
        return {
            "errorMessage": self.error_message,
            "errorType": self.error_type,
            "stackTrace": self.stack_trace or [],
        }


class _InitError(Exception):
    def __init__(self, reply: dict[str, Any]) -> None:
        super().__init__(reply.get("errorMessage", "init failed"))
        self.reply = reply


class _ClosedError(RuntimeError):
    pass


class _Worker:
    """One execution environment (a child python) and the two pipes it talks over."""

    def __init__(self, function: Function, env: dict[str, str], log_file: IO[bytes] | None):
        req_r, self._req_w = os.pipe()
        self._resp_r, resp_w = os.pipe()
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(WORKER_SCRIPT),
                str(function.handler_file),
                function.handler_name,
                str(req_r),
                str(resp_w),
                str(os.getpid()),
            ],
            env=env,
            cwd=str(function.code_uri),
            pass_fds=(req_r, resp_w),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT if log_file else None,
            start_new_session=True,  # Ctrl-C in a terminal reaches the parent only
        )
        os.close(req_r)
        os.close(resp_w)
        self._buffer = b""

    def _read_line(self, deadline: float) -> dict[str, Any] | None:
        """Next JSON line, or None on timeout/EOF."""
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self._resp_r], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(self._resp_r, 1 << 16)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line)  # type: ignore[no-any-return]

    def wait_ready(self, timeout: float) -> None:
        reply = self._read_line(time.monotonic() + timeout)
        if reply is None:
            self.kill()
            raise _InitError(
                {"errorType": "Runtime.InitError", "errorMessage": "init did not complete"}
            )
        if not reply.get("ready"):
            self.kill()
            raise _InitError(reply)

    def invoke(self, event: Any, request_id: str, timeout: float) -> dict[str, Any] | None:
        deadline_ms = int((time.time() + timeout) * 1000)
        message = json.dumps({"event": event, "request_id": request_id, "deadline_ms": deadline_ms})
        os.write(self._req_w, (message + "\n").encode())
        return self._read_line(time.monotonic() + timeout)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for fd in (self._req_w, self._resp_r):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._req_w = self._resp_r = -1


class _Pool:
    """The execution environments of one function."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.idle: list[_Worker] = []
        self.all: set[_Worker] = set()
        self.count = 0
        self.cond = threading.Condition()


class LambdaRuntime:
    """Invokes the template's functions in subprocess execution environments."""

    def __init__(
        self,
        template: Template,
        env_overrides: dict[str, str] | None = None,
        log_dir: Path | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    ) -> None:
        self.template = template
        self.env_overrides = dict(env_overrides or {})
        self.log_dir = log_dir
        self.max_concurrency = max_concurrency
        self._pools: dict[str, _Pool] = {}
        self._lock = threading.Lock()
        self._log_files: dict[str, IO[bytes]] = {}
        self._closed = False
        # URL prefixes of the template's AWS endpoints served locally (e.g. a WebSocket API's
        # @connections endpoint) -> the local URL: rewritten in the functions' variables.
        self.url_rewrites: dict[str, str] = {}
        # Called with the function id after every invocation (the MSK pollers' wake-up hint).
        self._listeners: list[Callable[[str], None]] = []

    @property
    def closed(self) -> bool:
        return self._closed

    # -- environment -------------------------------------------------------------------------
    def function(self, function_id: str) -> Function:
        try:
            return self.template.functions[function_id]
        except KeyError:
            raise KeyError(f"no function {function_id!r} in {self.template.path}") from None

    def function_arn(self, function_id: str) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_id}"

    def environment(self, function: Function) -> dict[str, str]:
        """What the sandbox sees: reserved vars, the template's variables, then local overrides."""
        env = {k: os.environ[k] for k in ("PATH", "HOME", "TMPDIR") if k in os.environ}
        env.update(BASE_ENV)
        env.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": function.logical_id,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.logical_id}",
                "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{uuid.uuid4().hex}",
                "LAMBDA_TASK_ROOT": str(function.code_uri),
                "_HANDLER": function.handler,
                "LOCAL_LAMBDA_FUNCTION_ARN": self.function_arn(function.logical_id),
            }
        )
        env.update(function.system_env)
        env.update(function.env)
        for name, value in function.env.items():
            for prefix, local in self.url_rewrites.items():
                if value.startswith(prefix):
                    env[name] = local + value[len(prefix) :]
        env.update(self.env_overrides)
        return env

    def _pool(self, function: Function) -> _Pool:
        with self._lock:
            if self._closed:
                raise _ClosedError("the local runtime is shut down")
            pool = self._pools.get(function.logical_id)
            if pool is None:
                cap = self.max_concurrency
                if function.reserved_concurrency is not None:
                    cap = max(1, min(cap, function.reserved_concurrency))
                pool = self._pools[function.logical_id] = _Pool(cap)
            return pool

    def _log_file(self, function: Function) -> IO[bytes] | None:
        if self.log_dir is None:
            return None
        with self._lock:
            if function.logical_id not in self._log_files:
                self.log_dir.mkdir(parents=True, exist_ok=True)
                path = self.log_dir / f"{function.logical_id}.log"
                self._log_files[function.logical_id] = path.open("ab", buffering=0)
            return self._log_files[function.logical_id]

    def _spawn(self, function: Function) -> _Worker:
        if self._closed:  # shut down while this invocation waited for an environment
            raise _ClosedError("the local runtime is shut down")
        worker = _Worker(function, self.environment(function), self._log_file(function))
        # Lambda allows 10 s of init on top of nothing; locally we are generous but bounded.
        worker.wait_ready(max(10.0, function.timeout))
        return worker

    def _acquire(self, function: Function) -> tuple[_Worker, bool]:
        pool = self._pool(function)
        with pool.cond:
            while True:
                while pool.idle:
                    worker = pool.idle.pop()
                    if worker.alive:
                        return worker, False
                    worker.kill()
                    pool.all.discard(worker)
                    pool.count -= 1
                if pool.count < pool.cap:
                    pool.count += 1
                    break
                pool.cond.wait()
        try:
            worker = self._spawn(function)
        except BaseException:
            with pool.cond:
                pool.count -= 1
                pool.cond.notify()
            raise
        with pool.cond:
            pool.all.add(worker)
        if self._closed:
            worker.process.kill()
        return worker, True

    def _release(self, function: Function, worker: _Worker, reuse: bool) -> None:
        pool = self._pools[function.logical_id]
        with pool.cond:
            if reuse and worker.alive and not self._closed:
                pool.idle.append(worker)
            else:
                worker.kill()
                pool.all.discard(worker)
                pool.count -= 1
            pool.cond.notify()

    # -- public API --------------------------------------------------------------------------
    def prewarm(self, function_id: str, count: int = 1) -> None:
        """Create `count` environments now so the first invocations are warm."""
        function = self.function(function_id)
        workers = [self._acquire(function)[0] for _ in range(count)]
        for worker in workers:
            self._release(function, worker, reuse=True)

    def add_listener(self, listener: Callable[[str], None]) -> None:
        """Call `listener(function_id)` after every invocation, whatever its outcome.

        Whatever a function produced to Kafka is acknowledged by then (publishing is synchronous),
        so the MSK pollers use it to fetch right away instead of polling the broker constantly.
        """
        self._listeners.append(listener)

    def invoke(self, function_id: str, event: Any, timeout: float | None = None) -> InvokeResult:
        """Synchronous (RequestResponse) invoke; errors come back in the result, never raised."""
        try:
            return self._invoke(function_id, event, timeout)
        finally:
            for listener in self._listeners:
                try:
                    listener(function_id)
                except Exception:  # an observer never breaks an invocation
                    log.exception("invocation listener failed")

    def _invoke(self, function_id: str, event: Any, timeout: float | None) -> InvokeResult:
        function = self.function(function_id)
        timeout = function.timeout if timeout is None else timeout
        request_id = str(uuid.uuid4())
        started = time.monotonic()

        def result(reply: dict[str, Any], cold: bool) -> InvokeResult:
            duration = (time.monotonic() - started) * 1000
            if reply.get("ok"):
                return InvokeResult(
                    function_id,
                    request_id,
                    payload=json.loads(reply["payload"]),
                    duration_ms=duration,
                    handler_ms=float(reply.get("handlerMs", 0.0)),
                    cold_start=cold,
                )
            return InvokeResult(
                function_id,
                request_id,
                error_type=reply.get("errorType", "Unhandled"),
                error_message=reply.get("errorMessage", ""),
                stack_trace=reply.get("stackTrace"),
                duration_ms=duration,
                handler_ms=float(reply.get("handlerMs", 0.0)),
                cold_start=cold,
            )

        try:
            worker, cold = self._acquire(function)
        except _InitError as exc:
            return result(exc.reply, True)
        except _ClosedError as exc:
            return result({"errorType": "Runtime.Closed", "errorMessage": str(exc)}, False)
        try:
            reply = worker.invoke(event, request_id, timeout)
        except OSError as exc:  # the worker died between invocations
            reply = {"errorType": "Runtime.ExitError", "errorMessage": str(exc)}
            self._release(function, worker, reuse=False)
            return result(reply, cold)
        if reply is None:
            if worker.alive:
                message = f"Task timed out after {timeout:.2f} seconds"
                reply = {"errorType": "Sandbox.Timedout", "errorMessage": message}
            else:
                code = worker.process.returncode
                message = f"Runtime exited with error: exit status {code}"
                reply = {"errorType": "Runtime.ExitError", "errorMessage": message}
            if not self._closed:
                log.error("%s %s: %s", function_id, request_id, message)
            self._release(function, worker, reuse=False)
            return result(reply, cold)
        self._release(function, worker, reuse=True)
        return result(reply, cold)

    def environments(self, function_id: str) -> int:
        """How many execution environments the function has (idle + busy)."""
        pool = self._pools.get(function_id)
        return pool.count if pool else 0

    def close(self) -> None:
        """Kill every environment (busy ones too: their invocations report an exit error)."""
        with self._lock:
            self._closed = True
            pools = list(self._pools.values())
        for pool in pools:
            with pool.cond:
                idle, pool.idle = pool.idle, []
                busy = pool.all - set(idle)
                pool.all = busy
                pool.count -= len(idle)
                pool.cond.notify_all()
            for worker in idle:
                worker.kill()
            for worker in busy:  # their invoking threads see EOF and release them
                worker.process.kill()
        for fh in self._log_files.values():
            fh.close()
