"""The local HTTP API serves docs/openapi.json as is and a Swagger UI explorer of it, offline."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from messenger_local.gateway import LocalGateway
from tests.gateway.conftest import REAL_TEMPLATE

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    state = tmp_path_factory.mktemp("explorer")
    gateway = LocalGateway(
        REAL_TEMPLATE,
        port=0,
        ws_port=0,
        state_dir=state,
        enable_kafka=False,
        enable_schedules=False,
    )
    with gateway, httpx.Client(base_url=gateway.url, timeout=10) as client:
        yield client


def test_openapi_json_is_the_committed_file_as_is(api: httpx.Client) -> None:
    response = api.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.content == (Path(REAL_TEMPLATE).parent / "docs" / "openapi.json").read_bytes()


def test_docs_is_a_swagger_ui_of_that_document_with_local_assets(api: httpx.Client) -> None:
    page = api.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'url: "/openapi.json"' in page.text
    assert "validatorUrl: null" in page.text  # nothing is fetched from swagger.io
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert asset.startswith("/docs/static/"), f"{asset} is not served locally"
        fetched = api.get(asset)
        assert fetched.status_code == 200, asset
        assert fetched.content, asset
    bundle = api.get("/docs/static/swagger-ui-bundle.js")
    assert "javascript" in bundle.headers["content-type"]
    # Swagger UI 5 or later: the first major version that renders OpenAPI 3.1 documents.
    assert (
        re.search(rb'version:"([5-9]|\d\d)\.', bundle.content) or b"OpenAPI 3.1" in bundle.content
    )


def test_explorer_paths_do_not_hide_the_api(api: httpx.Client) -> None:
    assert api.post("/openapi.json").status_code == 404  # only GET is the explorer's
    assert api.get("/docs/static/nope.js").status_code == 404
    assert api.get("/v1/users/me").status_code == 401  # the API still answers beside it
