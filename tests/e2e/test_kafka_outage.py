"""Kafka down during registration: 201 anyway, and the profile appears once Kafka is back.

Runs with its own broker, database and gateway: stopping the broker disturbs no other test, and
no other gateway's outbox relay can publish this test's events to a broker that is up.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from messenger.platform.migrate import apply_migrations
from messenger_local.gateway import LocalGateway
from messenger_local.services import LocalServices, ManagedProcess, drop_database, port_open
from tests.e2e.conftest import start_gateway
from tests.e2e.flows import bearer, login, register, wait_for_profile
from tests.support import ROOT, ensure_topics, poll

pytestmark = pytest.mark.e2e


class Broker:
    """A tansu broker we can stop and start again on the same address."""

    def __init__(self, services: LocalServices) -> None:
        self.services = services
        self.proc = next(p for p in services.processes if p.name == "kafka")
        self.argv = [str(a) for a in self.proc.process.args]
        self.address = services.kafka_bootstrap_servers

    def stop(self) -> None:
        self.proc.stop()
        host, port = self.address.split(":")
        poll(lambda: not port_open(host, int(port)), timeout=10)

    def start(self) -> None:
        self.proc = ManagedProcess("kafka", self.argv, Path(self.proc.log_path))
        self.services.processes.append(self.proc)
        host, port = self.address.split(":")
        poll(lambda: port_open(host, int(port)), timeout=15)
        ensure_topics(self.address)


@pytest.fixture(scope="module")
def outage(
    services: LocalServices, backing_env: dict[str, str]
) -> Iterator[tuple[Broker, LocalGateway]]:
    database_url = services.create_database("outage")
    apply_migrations(database_url)
    # env={}: a broker of its own, even when the environment names one (this test stops it)
    with LocalServices(state_dir=ROOT / ".local" / "outage", services=("kafka",), env={}) as kafka:
        ensure_topics(kafka.kafka_bootstrap_servers)
        env = {
            **backing_env,
            "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP_SERVERS": kafka.kafka_bootstrap_servers,
        }
        gateway = start_gateway(env, "outage")
        try:
            yield Broker(kafka), gateway
        finally:
            gateway.stop()
            drop_database(database_url)


def test_registration_survives_a_kafka_outage(outage: tuple[Broker, LocalGateway]) -> None:
    broker, gateway = outage
    with httpx.Client(base_url=gateway.url, timeout=15) as api:
        broker.stop()
        account = register(api)  # 201: the event waits in the outbox
        token = login(api, account["email"])["access_token"]
        response = api.get("/v1/users/me", headers=bearer(token))
        assert response.json()["code"] == "profile_not_ready"

        broker.start()
        profile = wait_for_profile(api, token, timeout=45)
        assert profile["user_id"] == account["user_id"]
