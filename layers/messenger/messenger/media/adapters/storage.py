"""The media bucket through botocore's S3 client (messenger.platform.aws): presigned POSTs,
HEAD, copy, delete.

The client lives as long as the execution environment. Locally S3 is the moto server
(S3_ENDPOINT, path-style addressing, as a client on this machine reaches it); in AWS the bucket's
regional virtual-hosted endpoint. Calls are bounded (1 s to connect, 3 s to answer, no retry:
the client retries a 503) and none starts unless the invocation has that much time left. S3
unreachable, timing out or answering 5xx/SlowDown is `unavailable` (503); a refusal stays an
error (a missing permission is a deployment defect, logged as such).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    ReadTimeoutError,
)

from messenger.kernel.errors import register_unavailable, register_unavailable_check
from messenger.media.models import ObjectInfo, UploadForm
from messenger.platform import aws, deadline
from messenger.platform.observability import logger
from messenger.platform.settings import ConfigurationError

CONNECT_TIMEOUT_SECONDS = 1
READ_TIMEOUT_SECONDS = 3
CALL_SECONDS = CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS
DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys

# S3's "not now" answers, as opposed to "not this request".
RETRYABLE_CODES = frozenset(
    {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "503", "500"}
)

register_unavailable(
    EndpointConnectionError,
    ConnectTimeoutError,
    ReadTimeoutError,
    ConnectionClosedError,
    HTTPClientError,
)


def s3_unavailable(exc: BaseException) -> bool:
    """S3 could not serve (not: the request was refused)."""
    if not isinstance(exc, ClientError):
        return False
    error = exc.response.get("Error", {})
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return status >= 500 or str(error.get("Code")) in RETRYABLE_CODES


register_unavailable_check(s3_unavailable)


def make_client(endpoint: str | None, region: str) -> Any:
    return aws.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path" if endpoint else "virtual"},
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            read_timeout=READ_TIMEOUT_SECONDS,
            retries={"mode": "standard", "total_max_attempts": 1},
            max_pool_connections=10,
            tcp_keepalive=True,
        ),
    )


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


class S3Storage:
    """The ObjectStorage port on one bucket. `client` is made on first use unless given."""

    def __init__(
        self, bucket: str | None, endpoint: str | None, region: str, client: Any = None
    ) -> None:
        self._bucket = bucket
        self.endpoint = endpoint
        self.region = region
        self._client = client

    @property
    def bucket(self) -> str:
        if not self._bucket:
            raise ConfigurationError("MEDIA_BUCKET is not set for this function")
        return self._bucket

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = make_client(self.endpoint, self.region)
        return self._client

    def presigned_post(self, key: str, content_type: str, size: int, expires_in: int) -> UploadForm:
        """Signed here (no call to S3): the policy pins the key, the type and the exact size."""
        post = self.client.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", size, size]],
            ExpiresIn=expires_in,
        )
        return UploadForm(url=post["url"], fields={k: str(v) for k, v in post["fields"].items()})

    def head(self, key: str) -> ObjectInfo | None:
        deadline.require(CALL_SECONDS)
        try:
            found = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _status(exc) == 404:
                return None
            if _status(exc) == 403:
                # Without s3:ListBucket, S3 answers 403 for a missing key too (we do not grant
                # it: listing would reveal every upload's key).
                logger.info("HEAD refused (missing object, or a permission)", extra={"key": key})
                return None
            raise
        return ObjectInfo(
            size=int(found["ContentLength"]),
            content_type=str(found.get("ContentType") or ""),
            etag=str(found["ETag"]),
        )

    def copy(self, source: str, destination: str, etag: str) -> bool:
        deadline.require(CALL_SECONDS)
        try:
            self.client.copy_object(
                Bucket=self.bucket,
                Key=destination,
                CopySource={"Bucket": self.bucket, "Key": source},
                CopySourceIfMatch=etag,
                MetadataDirective="COPY",
            )
        except ClientError as exc:
            if _status(exc) in (404, 412):  # gone, or replaced since the HEAD
                return False
            raise
        return True

    def put(self, key: str, body: bytes, content_type: str) -> None:
        deadline.require(CALL_SECONDS)
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def delete(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), DELETE_BATCH):
            deadline.require(CALL_SECONDS)
            batch = keys[start : start + DELETE_BATCH]
            answer = self.client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True},
            )
            refused = answer.get("Errors") or []
            if refused:  # per-key refusals (e.g. a permission): never silently kept
                first = refused[0]
                raise RuntimeError(
                    f"S3 kept {len(refused)} of {len(batch)} objects: {first.get('Key')}:"
                    f" {first.get('Code')} {first.get('Message')}"
                )

    def delete_prefix(self, prefix: str) -> int:
        deleted = 0
        token: str | None = None
        while True:
            deadline.require(CALL_SECONDS)
            params: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
            if token:
                params["ContinuationToken"] = token
            page = self.client.list_objects_v2(**params)
            keys = [o["Key"] for o in page.get("Contents", [])]
            if keys:
                self.delete(keys)
                deleted += len(keys)
            if not page.get("IsTruncated"):
                return deleted
            token = page.get("NextContinuationToken")
