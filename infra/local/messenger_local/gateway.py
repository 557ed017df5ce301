"""LocalGateway: the template's HTTP API, MSK triggers and schedules over one Lambda runtime.

Usable in-process from pytest (port=0 picks a free port) and by `python -m messenger_local dev`.
The backing services are not its business: pass their URLs in `env` (see LocalServices.env()).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from messenger_local.http_gateway import HttpApi
from messenger_local.kafka_triggers import KafkaTriggers
from messenger_local.runtime import DEFAULT_MAX_CONCURRENCY, InvokeResult, LambdaRuntime
from messenger_local.schedules import Schedules
from messenger_local.template import Template, load_template

log = logging.getLogger("messenger_local.gateway")

# What differs locally whatever the caller passes: no IAM auth on the local broker.
LOCAL_ENV = {"KAFKA_SECURITY_PROTOCOL": "PLAINTEXT", "KAFKA_SASL_MECHANISM": ""}


class LocalGateway:
    """Serve the template locally. `start()` returns once HTTP is accepting connections."""

    def __init__(
        self,
        template: str | Path = "template.yaml",
        parameters: dict[str, str] | None = None,
        env: dict[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 3000,
        state_dir: str | Path = ".local",
        function_log_dir: str | Path | None = None,
        enable_kafka: bool = True,
        enable_schedules: bool = True,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        kafka_options: dict[str, Any] | None = None,
    ) -> None:
        self.template: Template = load_template(template, parameters)
        self.env = {**LOCAL_ENV, **(env or {})}
        self.host = host
        self.port = port
        self.state_dir = Path(state_dir).resolve()
        self.dead_letter_dir = self.state_dir / "dead-letters"
        self.runtime = LambdaRuntime(
            self.template,
            self.env,
            log_dir=Path(function_log_dir) if function_log_dir else None,
            max_concurrency=max_concurrency,
        )
        self.http = HttpApi(self.template, self.runtime)
        self.kafka: KafkaTriggers | None = None
        bootstrap = self.env.get("KAFKA_BOOTSTRAP_SERVERS")
        if enable_kafka and self.template.msk_mappings:
            if bootstrap:
                self.kafka = KafkaTriggers(
                    self.template.msk_mappings,
                    self.runtime,
                    bootstrap,
                    self.dead_letter_dir,
                    **(kafka_options or {}),
                )
            else:
                log.warning("no KAFKA_BOOTSTRAP_SERVERS in env: MSK triggers are not started")
        self.schedules = (
            Schedules(self.template.schedules, self.runtime) if enable_schedules else None
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def invoke(self, function_id: str, event: Any) -> InvokeResult:
        """Direct invoke (like `aws lambda invoke`), through the same execution environments."""
        return self.runtime.invoke(function_id, event)

    def prewarm(self, *function_ids: str, count: int = 1) -> None:
        """Cold-start environments now (in parallel), e.g. every route's function before a bench."""
        ids = function_ids or tuple(self.template.functions)
        threads = [
            threading.Thread(target=self.runtime.prewarm, args=(fid, count), daemon=True)
            for fid in ids
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def start(self, startup_timeout: float = 15.0) -> LocalGateway:
        config = uvicorn.Config(
            self.http,
            host=self.host,
            port=self.port,
            lifespan="off",
            log_level="warning",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="http-api", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + startup_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"HTTP API did not start on {self.host}:{self.port}")
            time.sleep(0.02)
        self.port = int(self._server.servers[0].sockets[0].getsockname()[1])
        try:
            if self.kafka:
                self.kafka.start()
            if self.schedules:
                self.schedules.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop pollers and timers, close the environments (in-flight runs end), then HTTP."""
        if self.kafka:
            self.kafka.signal_stop()
        if self.schedules:
            self.schedules.signal_stop()
        self.runtime.close()
        if self.kafka:
            self.kafka.stop()
        if self.schedules:
            self.schedules.stop()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self._server = self._thread = None

    def __enter__(self) -> LocalGateway:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
