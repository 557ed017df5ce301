"""Helpers every test tier shares: handlers loaded as Lambda loads them, sample events, polling."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
import time
import uuid
from collections.abc import Callable
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from messenger_local.template import Template, load_template

ROOT = Path(__file__).resolve().parents[1]
TOPICS = ("user-events", "friendship-events", "chat-events")
EVENTS = ROOT / "events"
T = TypeVar("T")

# Template parameter overrides that lift the per-user rate limits (API.md "Per-user rate
# limits") out of the way of tests and benchmarks that send fast on purpose. The defaults stay
# as they are; tests/e2e/test_limits_http.py runs a gateway with them and proves they hold.
RELAXED_LIMITS = {
    "SendMessageRateLimitPerSecond": "100000",
    "SendMessageRateLimitBurst": "100000",
    "CreateChatRateLimitPerMinute": "100000",
    "FriendRequestRateLimitPerHour": "100000",
    "UploadRateLimitPerMinute": "100000",
    "ReportRateLimitPerHour": "100000",
}


@cache
def template() -> Template:
    return load_template(ROOT / "template.yaml")


@cache
def handler_module(logical_id: str) -> ModuleType:
    """The function's handler module, loaded from its CodeUri by file path (no sys.path games)."""
    function = template().functions[logical_id]
    spec = importlib.util.spec_from_file_location(f"fn_{logical_id}", function.handler_file)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as Lambda's import does; type hints resolve through it
    spec.loader.exec_module(module)
    return module


class LambdaContext:
    """Enough of Lambda's context object for Powertools."""

    def __init__(self, function_name: str = "test") -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:000000000000:function:{function_name}"
        )
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def invoke(logical_id: str, event: dict[str, Any]) -> Any:
    module = handler_module(logical_id)
    handler = getattr(module, template().functions[logical_id].handler_name)
    return handler(event, LambdaContext(logical_id))


@cache
def _samples_index() -> dict[str, list[str]]:
    index: dict[str, list[str]] = json.loads((EVENTS / "index.json").read_text())
    return index


def sample_event(logical_id: str, name: str | None = None) -> dict[str, Any]:
    """A deep copy of the function's sample event from events/ (the `sam local invoke -e` file)."""
    files = _samples_index()[logical_id]
    chosen = name or files[0]
    assert chosen in files, f"{chosen} is not a sample of {logical_id}"
    event: dict[str, Any] = json.loads((EVENTS / chosen).read_text())
    return copy.deepcopy(event)


def unique(prefix: str = "u") -> str:
    """A short unique nickname-safe suffix."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def poll(check: Callable[[], T | None], timeout: float = 15.0, interval: float = 0.1) -> T:
    """Wait, boundedly, for `check` to return something other than None/False."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def ensure_topics(bootstrap_servers: str, topics: tuple[str, ...] = TOPICS) -> None:
    """Create the topics the template's producers and consumers use, where missing (3
    partitions each; a broker that kept its state may have them all already)."""
    from messenger_local.kafka_triggers import DEFAULT_PARTITIONS
    from messenger_local.kafka_triggers import ensure_topics as create_missing

    create_missing(bootstrap_servers, list(topics), DEFAULT_PARTITIONS)


def prepare_backing(services: Any, prefix: str, redis_url: str | None = None) -> dict[str, str]:
    """A fresh migrated Postgres database and Mongo database, the topics and the template's
    tables and buckets on `services` (a LocalServices); the environment the functions read to
    use them."""
    from messenger.bootstrap import apply_mongo_indexes
    from messenger.platform.migrate import apply_migrations
    from messenger_local.dynamodb import ensure_tables
    from messenger_local.mail import ensure_identity
    from messenger_local.s3 import ensure_buckets

    database_url = services.create_database(prefix)
    apply_migrations(database_url)
    mongo_database = f"{prefix}_{uuid.uuid4().hex[:8]}"
    apply_mongo_indexes(services.mongodb_uri, mongo_database)
    ensure_topics(services.kafka_bootstrap_servers)
    ensure_tables(template().tables, services.dynamodb_endpoint)
    ensure_buckets(template().buckets, services.dynamodb_endpoint)  # moto serves S3 too
    ensure_identity(  # and SES: mail from the template's identity (messenger_local.mail)
        services.dynamodb_endpoint,
        str(template().parameters["MailIdentity"]),
        str(template().parameters["MailConfigurationSet"]),
    )
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url or services.redis_url,
        "KAFKA_BOOTSTRAP_SERVERS": services.kafka_bootstrap_servers,
        "KAFKA_SECURITY_PROTOCOL": "PLAINTEXT",
        "KAFKA_SASL_MECHANISM": "",
        "DATABASE_SECRET_ARN": "",
        "DYNAMODB_ENDPOINT": services.dynamodb_endpoint,
        "S3_ENDPOINT": services.dynamodb_endpoint,
        "SES_ENDPOINT": services.dynamodb_endpoint,
        "MONGODB_URI": services.mongodb_uri,
        "MONGODB_DATABASE": mongo_database,
        "MONGODB_SECRET_ARN": "",
    }
