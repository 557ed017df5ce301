"""The committed OpenAPI document is the one the handlers generate (run `make openapi`)."""

from __future__ import annotations

import pytest

from messenger_local import openapi
from tests.support import ROOT, template

pytestmark = pytest.mark.unit


def test_committed_openapi_is_current() -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text()
    assert committed == openapi.render(openapi.build()), "run `make openapi` and commit"


def test_every_route_is_documented_with_its_security() -> None:
    document = openapi.build()
    for route in template().routes:
        path = route.path
        operation = document["paths"][path][route.method.lower()]
        assert operation["x-lambda-function"] == route.function
        assert ("security" in operation) == (route.authorizer is not None)
