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
