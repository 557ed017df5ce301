"""Settings and the environment: every variable the template sets is a setting someone reads.

A variable nobody reads is a knob that does nothing (MONGODB_RETRY_WRITES was one); a setting
nobody reads is dead configuration. Powertools reads its own POWERTOOLS_* variables.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from messenger.platform.settings import Settings, get_settings
from tests.unit.sam_template import functions

ROOT = Path(__file__).resolve().parents[2]
READ_BY_POWERTOOLS = {
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_LOG_LEVEL",
    "POWERTOOLS_METRICS_NAMESPACE",
}
FIELDS = sorted(Settings.model_fields)


def template_variables() -> dict[str, set[str]]:
    """Variable name -> the functions it is set for (Globals merged in)."""
    found: dict[str, set[str]] = {}
    for name, props in functions().items():
        for variable in (props.get("Environment") or {}).get("Variables") or {}:
            found.setdefault(variable, set()).add(name)
    return found


@cache
def source() -> str:
    """The code that may read settings: the package (but settings.py) and the handlers."""
    files = [
        *(ROOT / "layers" / "messenger" / "messenger").rglob("*.py"),
        *(ROOT / "functions").glob("*/*/app.py"),
    ]
    return "\n".join(p.read_text() for p in files if p.name != "settings.py")


def test_every_template_variable_is_a_setting() -> None:
    settings = {f.upper() for f in FIELDS} | READ_BY_POWERTOOLS
    assert sorted(set(template_variables()) - settings) == []


@pytest.mark.parametrize("field", FIELDS)
def test_every_setting_is_read(field: str) -> None:
    """As an attribute (`settings.x`) or by name (`settings.require("x")`)."""
    assert re.search(rf"\.{field}\b|[\"']{field}[\"']", source()), f"nobody reads {field}"


def test_mongodb_retry_writes_reaches_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """The template's MONGODB_RETRY_WRITES=false is what the MongoDB client is made with."""
    from messenger.platform import mongo

    made: dict[str, object] = {}

    class Client:
        def __init__(self, uri: str, **options: object) -> None:
            made.update(options, uri=uri)

    monkeypatch.setattr(mongo.pymongo, "MongoClient", Client)
    monkeypatch.setattr(mongo, "mongodb_uri", lambda: "mongodb://db.internal")
    monkeypatch.setattr(mongo, "_client", None)
    for value, expected in (("true", True), ("false", False)):
        monkeypatch.setenv("MONGODB_RETRY_WRITES", value)
        get_settings.cache_clear()
        mongo._client = None
        mongo.client()
        assert made["retryWrites"] is expected
    get_settings.cache_clear()
    mongo._client = None
