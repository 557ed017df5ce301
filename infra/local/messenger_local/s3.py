"""S3 buckets from template.yaml, created on the local S3 (the moto server), and the CloudFront
distributions in front of them, served by the local HTTP gateway.

A bucket gets the name the functions see locally (its BucketName, else its logical id, which is
what `!Ref` resolves to in the local template loader) and the configuration the template gives
it: default encryption, the public access block, lifecycle rules and CORS (moto stores them; it
does not run lifecycle expirations). Clients reach S3 path-style at S3_ENDPOINT
(http://127.0.0.1:<moto port>/<bucket>/<key>), so presigned URLs work from this machine.

A distribution is served at `<gateway>/_cdn/<logical id>/<path>`: the object `<OriginPath>/<path>`
of its origin bucket, read with credentials as CloudFront's origin access control does, and 403
for a missing one (S3's answer to a reader without s3:ListBucket). The functions see that URL
where the template says `https://${<Distribution>.DomainName}`.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from messenger_local.template import REGION, Bucket, Distribution

log = logging.getLogger("messenger_local.s3")

CDN_PREFIX = "/_cdn/"


def client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto accepts any
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """An AWS::S3::Bucket lifecycle rule in PutBucketLifecycleConfiguration's shape."""
    converted: dict[str, Any] = {"ID": rule.get("Id", ""), "Status": rule["Status"]}
    converted["Filter"] = {"Prefix": rule.get("Prefix", "")}
    if "ExpirationInDays" in rule:
        converted["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    abort = rule.get("AbortIncompleteMultipartUpload")
    if abort:
        converted["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(abort["DaysAfterInitiation"])
        }
    return converted


def _configure(s3: Any, bucket: Bucket) -> None:
    props = bucket.properties
    encryption = props.get("BucketEncryption")
    if encryption:
        rules = [
            {
                "ApplyServerSideEncryptionByDefault": r["ServerSideEncryptionByDefault"],
                **({"BucketKeyEnabled": r["BucketKeyEnabled"]} if "BucketKeyEnabled" in r else {}),
            }
            for r in encryption["ServerSideEncryptionConfiguration"]
        ]
        s3.put_bucket_encryption(
            Bucket=bucket.name, ServerSideEncryptionConfiguration={"Rules": rules}
        )
    block = props.get("PublicAccessBlockConfiguration")
    if block:
        s3.put_public_access_block(Bucket=bucket.name, PublicAccessBlockConfiguration=block)
    rules = (props.get("LifecycleConfiguration") or {}).get("Rules")
    if rules:
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket.name,
            LifecycleConfiguration={"Rules": [_lifecycle_rule(r) for r in rules]},
        )
    cors = (props.get("CorsConfiguration") or {}).get("CorsRules")
    if cors:
        s3.put_bucket_cors(
            Bucket=bucket.name,
            CORSConfiguration={
                "CORSRules": [
                    {
                        k: v
                        for k, v in {
                            "AllowedMethods": r["AllowedMethods"],
                            "AllowedOrigins": r["AllowedOrigins"],
                            "AllowedHeaders": r.get("AllowedHeaders"),
                            "ExposeHeaders": r.get("ExposedHeaders"),
                            "MaxAgeSeconds": r.get("MaxAge"),
                        }.items()
                        if v is not None
                    }
                    for r in cors
                ]
            },
        )


def ensure_buckets(buckets: list[Bucket], endpoint: str) -> list[str]:
    """Create the missing buckets with their configuration; the names created."""
    s3 = client(endpoint)
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    created = []
    for bucket in buckets:
        if bucket.name in existing:
            continue
        try:
            s3.create_bucket(Bucket=bucket.name)
        except s3.exceptions.BucketAlreadyOwnedByYou:
            continue
        _configure(s3, bucket)
        created.append(bucket.name)
        log.info("created S3 bucket %s (%s)", bucket.name, bucket.logical_id)
    return created


class LocalCdn:
    """CloudFront in front of S3, as far as GET and HEAD of an object go."""

    def __init__(self, distributions: list[Distribution], endpoint: str | None) -> None:
        self.distributions = {d.logical_id: d for d in distributions}
        self.endpoint = endpoint
        self._client: Any = None

    def serves(self, path: str) -> bool:
        return bool(self.distributions) and path.startswith(CDN_PREFIX)

    def _fetch(self, bucket: str, key: str, head: bool) -> tuple[int, bytes, dict[str, str]]:
        if self._client is None:
            if not self.endpoint:
                return 503, b"no S3_ENDPOINT: the CDN has no origin locally", {}
            self._client = client(self.endpoint)
        try:
            call = self._client.head_object if head else self._client.get_object
            found = call(Bucket=bucket, Key=key)
        except self._client.exceptions.ClientError as exc:
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 500)
            return (403 if status in (403, 404) else 502), b"", {}
        headers = {
            "content-type": str(found.get("ContentType") or "application/octet-stream"),
            "etag": str(found.get("ETag") or ""),
            "cache-control": "public, max-age=86400",
            "x-cache": "Miss from cloudfront (local)",
        }
        body = b"" if head else found["Body"].read()
        return 200, body, headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        name, _, path = request.url.path[len(CDN_PREFIX) :].partition("/")
        distribution = self.distributions.get(name)
        if distribution is None or not path:
            response = Response(b"", status_code=404)
        elif request.method not in ("GET", "HEAD"):
            response = Response(b"", status_code=403)
        else:
            key = f"{distribution.origin_path.lstrip('/')}/{path}".lstrip("/")
            status, body, headers = await anyio.to_thread.run_sync(
                self._fetch, distribution.bucket, key, request.method == "HEAD"
            )
            response = Response(body, status_code=status, headers=headers)
        await response(scope, receive, send)
