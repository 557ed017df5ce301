"""events/: a sample for every function, in the shape AWS sends, matching template.yaml.

The samples are what `sam local invoke -e` and the integration tests feed the handlers, so they
must stay in step with the template: routes, path parameters, authorizer context, topics.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from typing import Any

import pytest

from tests.unit.sam_template import (
    EVENTS,
    event_index,
    events_of,
    functions,
    http_routes,
    load_event,
    parameter_default,
    template,
)

pytestmark = pytest.mark.unit

SAMPLES = sorted(p.name for p in EVENTS.glob("*.json") if p.name != "index.json")


def _samples_of(function: str) -> list[dict[str, Any]]:
    return [load_event(name) for name in event_index()[function]]


def _public(props: dict[str, Any]) -> bool:
    return (props.get("Auth") or {}).get("Authorizer") == "NONE"


def _authorizer_function() -> str:
    (api,) = [r for r in template()["Resources"].values() if r["Type"].endswith("HttpApi")]
    auth = api["Properties"]["Auth"]
    arn = auth["Authorizers"][auth["DefaultAuthorizer"]]["FunctionArn"]["Ref"]
    return str(arn).split(".", 1)[0]


# ------------------------------------------------------------------------------------------------
# Index and README
# ------------------------------------------------------------------------------------------------
def test_every_function_has_a_sample() -> None:
    index = event_index()
    missing = sorted(set(functions()) - set(index))
    assert not missing, f"no sample in events/index.json for {missing}"
    assert not set(index) - set(functions()), "index.json names functions the template lacks"
    for function, names in index.items():
        assert names, function


def test_every_sample_is_indexed_exists_and_is_listed_in_the_readme() -> None:
    indexed = {name for names in event_index().values() for name in names}
    assert indexed == set(SAMPLES)
    readme = (EVENTS / "README.md").read_text(encoding="utf-8")
    for name in SAMPLES:
        assert f"`{name}`" in readme, f"{name} is not in events/README.md"


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_is_a_json_object(name: str) -> None:
    assert isinstance(load_event(name), dict)


# ------------------------------------------------------------------------------------------------
# HTTP API v2
# ------------------------------------------------------------------------------------------------
def _http_cases() -> list[tuple[str, str, str, dict[str, Any]]]:
    return [
        (function, method, path, props)
        for function, routes in sorted(http_routes().items())
        for method, path, props in routes
    ]


@pytest.mark.parametrize(("function", "method", "path", "props"), _http_cases())
def test_http_sample_matches_its_route(
    function: str, method: str, path: str, props: dict[str, Any]
) -> None:
    route_key = f"{method} {path}"
    samples = [s for s in _samples_of(function) if s.get("routeKey") == route_key]
    assert samples, f"{function}: no sample with routeKey {route_key!r}"
    params = re.findall(r"\{(\w+)\+?\}", path)
    segments = [
        "[^/]+" if re.fullmatch(r"\{\w+\+?\}", seg) else re.escape(seg) for seg in path.split("/")
    ]
    pattern = "^" + "/".join(segments) + "$"
    for event in samples:
        assert event["version"] == "2.0"
        context = event["requestContext"]
        assert context["routeKey"] == route_key
        assert context["http"]["method"] == method
        assert re.match(pattern, event["rawPath"]), event["rawPath"]
        assert context["http"]["path"] == event["rawPath"]
        assert sorted(event.get("pathParameters") or {}) == sorted(params)
        for name, value in (event.get("pathParameters") or {}).items():
            assert value in event["rawPath"], name
        if event.get("body") is not None and not event.get("isBase64Encoded"):
            json.loads(event["body"])
        headers = event["headers"]
        assert all(k == k.lower() for k in headers), "HTTP API v2 lower-cases header names"
        if _public(props):
            assert "authorizer" not in context
        else:
            assert headers["authorization"].startswith("Bearer ")
            uuid.UUID(context["authorizer"]["lambda"]["user_id"])


def test_register_sample_has_a_valid_body() -> None:
    (event,) = _samples_of("Register")
    body = json.loads(event["body"])
    assert set(body) == {"email", "password", "nickname"}
    assert re.match(r"^[A-Za-z0-9_.]{3,32}$", body["nickname"])
    assert len(body["password"]) >= 8


# ------------------------------------------------------------------------------------------------
# Authorizer, MSK, schedule, migrations
# ------------------------------------------------------------------------------------------------
def test_authorizer_sample_is_a_v2_request_authorizer_event() -> None:
    routes = {f"{m} {p}" for found in http_routes().values() for m, p, _ in found}
    for event in _samples_of(_authorizer_function()):
        assert event["version"] == "2.0"
        assert event["type"] == "REQUEST"
        assert event["routeArn"].startswith("arn:aws:execute-api:")
        assert event["routeKey"] in routes
        authorization = event["headers"]["authorization"]
        assert event["identitySource"] == [authorization]
        assert "authorizer" not in event["requestContext"]


def _msk_consumers() -> list[str]:
    return [name for name in sorted(functions()) if events_of(name, "MSK")]


@pytest.mark.parametrize("function", _msk_consumers())
def test_msk_sample_is_an_aws_kafka_batch_of_envelopes(function: str) -> None:
    topics = {
        parameter_default(t["Ref"]) if isinstance(t, dict) else t
        for mapping in events_of(function, "MSK")
        for t in mapping["Topics"]
    }
    for event in _samples_of(function):
        # One event source mapping reads one topic: a real batch never mixes topics.
        assert len({r["topic"] for rs in event["records"].values() for r in rs}) == 1
        assert event["eventSource"] == "aws:kafka"
        assert event["eventSourceArn"] == parameter_default("MskClusterArn")
        assert event["records"]
        for partition_key, records in event["records"].items():
            for record in records:
                assert record["topic"] in topics
                assert partition_key == f"{record['topic']}-{record['partition']}"
                base64.b64decode(record["key"], validate=True)
                envelope = json.loads(base64.b64decode(record["value"], validate=True))
                assert set(envelope) == {"id", "type", "version", "occurred_at", "data"}
                uuid.UUID(envelope["id"])
                assert envelope["version"] == 1
                for header in record["headers"]:
                    for value in header.values():
                        assert all(isinstance(b, int) and 0 <= b < 256 for b in value)


def test_user_registered_sample_carries_the_event_the_consumer_expects() -> None:
    event = load_event("user_registered_msk.json")
    (record,) = [r for records in event["records"].values() for r in records]
    envelope = json.loads(base64.b64decode(record["value"]))
    assert envelope["type"] == "user.registered"
    assert set(envelope["data"]) == {"user_id", "email", "nickname", "registered_at"}
    assert base64.b64decode(record["key"]).decode() == envelope["data"]["user_id"]
    headers = {k: bytes(v).decode() for h in record["headers"] for k, v in h.items()}
    uuid.UUID(headers["correlation_id"])


def test_schedule_sample() -> None:
    for function in functions():
        if events_of(function, "ScheduleV2") or events_of(function, "Schedule"):
            for event in _samples_of(function):
                assert event["detail-type"] == "Scheduled Event"
                assert event["source"] in ("aws.scheduler", "aws.events")


def test_migration_samples_cover_direct_invoke_and_the_codedeploy_hook() -> None:
    samples = _samples_of("MigrateDatabase")
    assert {} in samples
    hooks = [s for s in samples if s]
    assert hooks
    for hook in hooks:
        assert set(hook) == {"DeploymentId", "LifecycleEventHookExecutionId"}
