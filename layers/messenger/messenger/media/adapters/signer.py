"""Signed download URLs (S3 SigV4 query signing), computed here: no call to S3.

Every read of a message with files signs its URLs afresh, so this is on the read path of history
and chat lists: a page of 50 files is 50 signatures. botocore's S3 query signer takes about half a
millisecond per URL (URL parsing and re-encoding, a signing key derived with four HMACs each
time), more than the rest of the page; this signs the one request shape we need (GET, the `host`
header, UNSIGNED-PAYLOAD) as that signer does, with the day's signing key kept, in a few
microseconds. A unit test holds every URL equal, byte for byte, to what boto3's
`generate_presigned_url("get_object")` gives for the same time and credentials (path-style on a
local endpoint, the virtual host in AWS, session tokens).

The credentials are botocore's (the chain boto3 uses: Lambda's role, SnapStart's container
credentials), refreshed by botocore; botocore is imported by the first URL signed, so a reader
that never meets a file never loads it. A URL signed with temporary credentials stops working
when they expire, whatever its own expiry (decision log, "Media").
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from messenger.platform.settings import ConfigurationError

ALGORITHM = "AWS4-HMAC-SHA256"
_UNRESERVED = "-_.~"


def _encode(value: str) -> str:
    return quote(value, safe=_UNRESERVED)


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


class S3UrlSigner:
    def __init__(
        self,
        bucket: str | None,
        region: str,
        endpoint: str | None,
        expires_in: int,
        credentials: Any = None,
    ) -> None:
        self.region = region
        self.expires_in = expires_in
        if not bucket:
            self.base = ""  # a deployment defect, reported by the first URL asked for
        elif endpoint:
            self.base = f"{endpoint.rstrip('/')}/{bucket}"
        else:  # as botocore resolves it: us-east-1 is the global endpoint
            host = "s3" if region == "us-east-1" else f"s3.{region}"
            self.base = f"https://{bucket}.{host}.amazonaws.com"
        parts = urlsplit(self.base)
        self.host = parts.netloc  # botocore signs host[:port] (no port when it is the default)
        self.path = parts.path
        self._credentials = credentials
        self._signing_keys: dict[tuple[str, str], bytes] = {}

    def _frozen_credentials(self) -> Any:
        if self._credentials is None:
            from messenger.platform import aws

            self._credentials = aws.session().get_credentials()
            if self._credentials is None:
                raise ConfigurationError("no AWS credentials to sign download URLs with")
        return self._credentials.get_frozen_credentials()

    def _signing_key(self, secret_key: str, day: str) -> bytes:
        """SigV4's derived key: the same for a whole UTC day (and the same credentials)."""
        found = self._signing_keys.get((secret_key, day))
        if found is None:
            key = _hmac(("AWS4" + secret_key).encode("utf-8"), day)
            for part in (self.region, "s3", "aws4_request"):
                key = _hmac(key, part)
            self._signing_keys = {(secret_key, day): key}  # yesterday's is no longer needed
            found = key
        return found

    def url(self, key: str) -> str:
        if not self.base:
            raise ConfigurationError("MEDIA_BUCKET is not set for this function")
        credentials = self._frozen_credentials()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        day = stamp[:8]
        scope = f"{day}/{self.region}/s3/aws4_request"
        path = f"{self.path}/{quote(key, safe='/~')}"
        query = [
            ("X-Amz-Algorithm", ALGORITHM),
            ("X-Amz-Credential", f"{credentials.access_key}/{scope}"),
            ("X-Amz-Date", stamp),
            ("X-Amz-Expires", str(self.expires_in)),
            ("X-Amz-SignedHeaders", "host"),
        ]
        if credentials.token:
            query.append(("X-Amz-Security-Token", credentials.token))
        encoded = [(_encode(k), _encode(v)) for k, v in query]
        canonical_request = "\n".join(
            (
                "GET",
                path,
                "&".join(f"{k}={v}" for k, v in sorted(encoded)),
                f"host:{self.host}\n",
                "host",
                "UNSIGNED-PAYLOAD",
            )
        )
        string_to_sign = "\n".join(
            (ALGORITHM, stamp, scope, hashlib.sha256(canonical_request.encode()).hexdigest())
        )
        signature = hmac.new(
            self._signing_key(credentials.secret_key, day),
            string_to_sign.encode("utf-8"),
            hashlib.sha256,
        ).hexdigest()
        query_string = "&".join(f"{k}={v}" for k, v in encoded)
        return f"{self.base}/{quote(key, safe='/~')}?{query_string}&X-Amz-Signature={signature}"


def configured_signer() -> S3UrlSigner:
    """The signer of the deployment's bucket, from the settings."""
    from messenger.platform.settings import get_settings

    settings = get_settings()
    return S3UrlSigner(
        settings.media_bucket,
        settings.aws_region,
        settings.s3_endpoint,
        settings.download_url_ttl_seconds,
    )
