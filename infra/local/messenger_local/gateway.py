"""LocalGateway: the template's HTTP and WebSocket APIs, MSK triggers and schedules, one runtime.

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

from messenger_local.dynamodb import ensure_tables
from messenger_local.http_gateway import HttpApi
from messenger_local.kafka_triggers import KafkaTriggers
from messenger_local.mail import ensure_identity
from messenger_local.runtime import DEFAULT_MAX_CONCURRENCY, InvokeResult, LambdaRuntime
from messenger_local.s3 import CDN_PREFIX, ensure_buckets
from messenger_local.schedules import Schedules
from messenger_local.sns import ensure_platform_applications
from messenger_local.template import Template, load_template
from messenger_local.websocket_gateway import WebSocketGateway

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
        ws_port: int = 3001,
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
        self.ws_port = ws_port
        if len(self.template.websocket_apis) > 1:
            log.warning("only the first WebSocket API is served locally")
        self.websocket = (
            WebSocketGateway(self.template.websocket_apis[0], self.runtime)
            if self.template.websocket_apis
            else None
        )
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
        self._ws_server: uvicorn.Server | None = None
        self._ws_thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str | None:
        """The WebSocket API (its @connections endpoint is on the same port, as in AWS)."""
        return f"ws://{self.host}:{self.ws_port}" if self.websocket else None

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

    def _serve(
        self, app: Any, port: int, name: str, timeout: float
    ) -> tuple[uvicorn.Server, threading.Thread, int]:
        config = uvicorn.Config(
            app,
            host=self.host,
            port=port,
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
            # API Gateway's WebSocket APIs negotiate no permessage-deflate: neither does this one
            # (it cost the gateway a zlib pass per frame, and clients would see compression
            # here that they never get in AWS).
            ws_per_message_deflate=False,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name=name, daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                raise RuntimeError(f"{name} did not start on {self.host}:{port}")
            time.sleep(0.02)
        return server, thread, int(server.servers[0].sockets[0].getsockname()[1])

    def start(self, startup_timeout: float = 15.0) -> LocalGateway:
        endpoint = self.env.get("DYNAMODB_ENDPOINT")
        if self.template.tables:
            if endpoint:
                ensure_tables(self.template.tables, endpoint)
            else:
                log.warning("no DYNAMODB_ENDPOINT in env: the template's tables are not created")
        if endpoint:  # moto serves SNS too: the push platforms' applications, and SNS itself
            self.runtime.env_overrides.setdefault("SNS_ENDPOINT", endpoint)
            for name, arn in ensure_platform_applications(endpoint).items():
                self.runtime.env_overrides.setdefault(name, arn)
        s3_endpoint = self.env.get("S3_ENDPOINT")
        if self.template.buckets:
            if s3_endpoint:
                ensure_buckets(self.template.buckets, s3_endpoint)
            else:
                log.warning("no S3_ENDPOINT in env: the template's buckets are not created")
        ses_endpoint = self.env.get("SES_ENDPOINT")
        identity = self.template.parameters.get("MailIdentity")
        if ses_endpoint and identity:
            ensure_identity(
                ses_endpoint, str(identity), self.template.parameters.get("MailConfigurationSet")
            )
        try:
            self._server, self._thread, self.port = self._serve(
                self.http, self.port, "http-api", startup_timeout
            )
            if self.websocket is not None:
                self._ws_server, self._ws_thread, self.ws_port = self._serve(
                    self.websocket, self.ws_port, "websocket-api", startup_timeout
                )
                # The functions reach @connections here instead of execute-api in AWS.
                self.runtime.url_rewrites[self.websocket.api.management_prefix()] = (
                    f"http://{self.host}:{self.ws_port}"
                )
            # CloudFront distributions are served here (`https://<Distribution>` locally).
            for distribution in self.template.distributions:
                self.runtime.url_rewrites[distribution.url_prefix()] = (
                    f"{self.url}{CDN_PREFIX}{distribution.logical_id}"
                )
        except BaseException:
            self.stop()
            raise
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
        for server in (self._server, self._ws_server):
            if server is not None:
                server.should_exit = True
        for thread in (self._thread, self._ws_thread):
            if thread is not None:
                thread.join(10)
        self._server = self._thread = self._ws_server = self._ws_thread = None

    def __enter__(self) -> LocalGateway:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
