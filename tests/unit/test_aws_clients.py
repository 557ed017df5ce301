"""One botocore session per process (decision 59): what it may and may not change."""

from __future__ import annotations

import threading

import botocore.session
import pytest
from botocore.exceptions import UnknownServiceError
from botocore.loaders import Loader

from messenger.platform import aws

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("service", aws.SERVICES)
def test_every_listed_service_is_one_botocore_ships(service: str) -> None:
    assert service in Loader().list_available_services("service-2")
    made = aws.client(service, region_name="eu-west-1")
    assert made.meta.service_model.service_name == service
    assert made.meta.region_name == "eu-west-1"


def test_an_unlisted_service_still_fails_loudly() -> None:
    with pytest.raises(UnknownServiceError):
        aws.session().create_client("dynamodbb", region_name="eu-west-1")


def test_clients_share_the_session_and_its_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    first = aws.client("dynamodb", region_name="eu-west-1", endpoint_url="http://127.0.0.1:1")
    second = aws.client("sns", region_name="eu-west-1", endpoint_url="")
    assert first.meta.endpoint_url == "http://127.0.0.1:1"
    assert second.meta.endpoint_url == "https://sns.eu-west-1.amazonaws.com"  # "" is unset
    assert aws.session() is aws.session()
    credentials = first._request_signer._credentials
    assert credentials is not None
    assert credentials is second._request_signer._credentials


def test_pynamodb_connections_use_the_process_session() -> None:
    import pynamodb.connection.base

    import messenger.platform.dynamodb  # noqa: F401  (hands the session over)

    connection = pynamodb.connection.base.Connection(region="eu-west-1")
    assert connection.session is aws.session()
    assert isinstance(connection.session, botocore.session.Session)


def test_clients_made_at_once_from_many_threads_all_work() -> None:
    made: list[object] = []
    errors: list[BaseException] = []

    def make() -> None:
        try:
            made.append(aws.client("s3", region_name="us-west-2"))
        except BaseException as exc:  # the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=make) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(made) == 8


def test_one_client_per_service_endpoint_and_options(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every pynamodb model asks for a client with the same options: they get one."""
    import pynamodb.connection.base

    import messenger.platform.dynamodb  # noqa: F401  (hands the session over)

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    host = "http://127.0.0.1:2"
    first, second = (
        pynamodb.connection.base.Connection(region="eu-west-1", host=host, max_pool_connections=7)
        for _ in range(2)
    )
    assert first.client is second.client
    other_options = pynamodb.connection.base.Connection(
        region="eu-west-1", host=host, max_pool_connections=8
    )
    assert other_options.client is not first.client
    other_region = pynamodb.connection.base.Connection(
        region="eu-west-2", host=host, max_pool_connections=7
    )
    assert other_region.client is not first.client


def test_a_client_without_credentials_is_not_handed_out_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(aws, "session", aws.session.__wrapped__)  # a fresh session, uncached
    fresh = aws.session()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    blank = fresh.create_client("sns", "eu-west-1", endpoint_url="http://127.0.0.1:3")
    assert not blank._request_signer._credentials
    assert fresh.create_client("sns", "eu-west-1", endpoint_url="http://127.0.0.1:3") is not blank


def test_the_trimmed_endpoints_data_is_current() -> None:
    """`make template` writes it from the installed botocore; a botocore upgrade fails here."""
    from infra import botocore_endpoints

    assert botocore_endpoints.TARGET.read_text(encoding="utf-8") == botocore_endpoints.render()


def test_the_trimmed_endpoints_resolve_as_botocores_own_for_every_region() -> None:
    import json

    from botocore.regions import EndpointResolver

    from infra import botocore_endpoints

    full = EndpointResolver(Loader().load_data("endpoints"))
    ours = EndpointResolver(json.loads(botocore_endpoints.TARGET.read_text(encoding="utf-8")))
    checked = 0
    for service in aws.SERVICES:
        prefix = Loader().load_service_model(service, "service-2")["metadata"]["endpointPrefix"]
        for partition in full.get_available_partitions():
            regions = full.get_available_endpoints(prefix, partition, allow_non_regional=True)
            for region in [*regions, "us-east-1", "eu-central-2", "xx-nowhere-1"]:
                for fips in (False, True):
                    for dualstack in (False, True):
                        args = (prefix, region, partition, dualstack, fips)
                        try:
                            expected = full.construct_endpoint(*args)
                        except Exception as exc:  # the same error both ways
                            with pytest.raises(type(exc)):
                                ours.construct_endpoint(*args)
                            continue
                        assert ours.construct_endpoint(*args) == expected, args
                        checked += 1
    assert checked > 500
