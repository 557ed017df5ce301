"""Fixtures of the integration tier beyond the session's services (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from messenger_local.gateway import LocalGateway
from tests.support import ROOT, template


@pytest.fixture(scope="module")
def realtime_env(in_process_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """What the realtime functions (and Logout, which closes connections) read beyond the
    services: the connection tables and a local @connections endpoint (no clients: 410)."""
    import os

    from messenger.bootstrap import session_connections
    from messenger.platform.settings import get_settings
    from messenger.realtime.adapters import store, stream

    gateway = LocalGateway(
        ROOT / "template.yaml",
        env=in_process_env,
        port=0,
        ws_port=0,
        state_dir=ROOT / ".local" / "integration-realtime",
        enable_kafka=False,
        enable_schedules=False,
    ).start()
    function_env = template().functions["PushRealtimeEvents"].env
    extra = {
        "CONNECTIONS_TABLE": function_env["CONNECTIONS_TABLE"],
        "USER_CONNECTIONS_TABLE": function_env["USER_CONNECTIONS_TABLE"],
        "USER_STREAMS_TABLE": function_env["USER_STREAMS_TABLE"],
        "WEBSOCKET_MANAGEMENT_ENDPOINT": f"http://127.0.0.1:{gateway.ws_port}/dev",
        # Dummies for the local stand-ins (moto, the gateway), as the local runtime sets them.
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    os.environ.update(extra)
    get_settings.cache_clear()
    store.configure.cache_clear()
    stream.configure.cache_clear()
    session_connections.cache_clear()  # built against this module's gateway
    try:
        yield {**in_process_env, **extra}
    finally:
        gateway.stop()
        for name in extra:
            os.environ.pop(name, None)
        get_settings.cache_clear()
        session_connections.cache_clear()
