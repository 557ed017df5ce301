"""The template's S3 buckets on the local S3 and its CloudFront distributions on the gateway."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from messenger_local.gateway import LocalGateway
from messenger_local.s3 import client, ensure_buckets
from messenger_local.services import LocalServices
from messenger_local.template import load_template

from .conftest import REAL_TEMPLATE

pytestmark = pytest.mark.integration


def test_buckets_and_distributions_are_read_from_the_template() -> None:
    template = load_template(REAL_TEMPLATE)
    assert [b.name for b in template.buckets] == ["MediaBucket"]  # what !Ref gives locally
    ((cdn),) = template.distributions
    assert (cdn.logical_id, cdn.bucket, cdn.origin_path) == (
        "AvatarsCdn",
        "MediaBucket",
        "/avatars",
    )
    # What the functions see before the gateway rewrites it to its own /_cdn/ URL.
    env = template.functions["UpdateMyProfile"].env
    assert env["AVATARS_BASE_URL"] == cdn.url_prefix() == "https://AvatarsCdn"


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with LocalServices(
        state_dir=tmp_path_factory.mktemp("s3"), services=["dynamodb"], env={}
    ) as running:
        yield running.env()["S3_ENDPOINT"]


@pytest.fixture
def fresh_s3(tmp_path: Path) -> Iterator[str]:
    """A moto server of this test's own: no other test (nor a gateway) made its buckets. Not
    the environment's DYNAMODB_ENDPOINT either, which the integration tier's in-process
    functions leave set when it runs first."""
    with LocalServices(state_dir=tmp_path, services=["dynamodb"], env={}) as running:
        yield running.env()["S3_ENDPOINT"]


def test_buckets_are_created_once_with_their_configuration(fresh_s3: str) -> None:
    s3_endpoint = fresh_s3
    buckets = load_template(REAL_TEMPLATE).buckets
    assert ensure_buckets(buckets, s3_endpoint) == ["MediaBucket"]
    assert ensure_buckets(buckets, s3_endpoint) == []
    s3 = client(s3_endpoint)
    rules = s3.get_bucket_lifecycle_configuration(Bucket="MediaBucket")["Rules"]
    assert {r["ID"] for r in rules} == {
        "ExpireUploads",
        "ExpireExports",
        "AbortIncompleteMultipartUploads",
    }
    block = s3.get_public_access_block(Bucket="MediaBucket")["PublicAccessBlockConfiguration"]
    assert all(block.values())
    encryption = s3.get_bucket_encryption(Bucket="MediaBucket")
    (rule,) = encryption["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_the_gateway_serves_a_distribution_from_its_bucket(
    s3_endpoint: str, tmp_path: Path
) -> None:
    gateway = LocalGateway(
        REAL_TEMPLATE,
        env={"S3_ENDPOINT": s3_endpoint},
        port=0,
        ws_port=0,
        state_dir=tmp_path,
        enable_kafka=False,
        enable_schedules=False,
    )
    with gateway:
        s3 = client(s3_endpoint)
        s3.put_object(Bucket="MediaBucket", Key="avatars/u/1", Body=b"img", ContentType="image/png")
        s3.put_object(Bucket="MediaBucket", Key="attachments/c/m/a", Body=b"secret")
        base = f"{gateway.url}/_cdn/AvatarsCdn"
        assert gateway.runtime.url_rewrites["https://AvatarsCdn"] == base
        found = httpx.get(f"{base}/u/1")
        assert (found.status_code, found.content, found.headers["content-type"]) == (
            200,
            b"img",
            "image/png",
        )
        assert httpx.head(f"{base}/u/1").status_code == 200
        assert httpx.get(f"{base}/u/2").status_code == 403  # missing, as S3 answers CloudFront
        assert httpx.get(f"{base}/../attachments/c/m/a").status_code in (403, 404)
        assert httpx.get(f"{gateway.url}/_cdn/Nope/u/1").status_code == 404
        assert httpx.post(f"{base}/u/1").status_code == 403
        # Anonymous reads of the bucket itself are refused: it is private.
        assert httpx.get(f"{s3_endpoint}/MediaBucket/avatars/u/1").status_code == 403
