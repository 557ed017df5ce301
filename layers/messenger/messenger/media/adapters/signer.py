"""Signed download URLs (S3 SigV4 query signing), computed here: no call to S3.

Every read of a message with files signs its URLs afresh, so this is on the read path of history
and chat lists. It uses botocore's own S3 query signer with the execution environment's
credentials (the same chain boto3 uses: Lambda's role, or SnapStart's container credentials),
but not an S3 client: building one loads the whole S3 service model, which the readers never
need. The URL is the one `generate_presigned_url("get_object")` gives (a unit test holds the two
equal): path-style on the local endpoint, the bucket's virtual host in AWS.

A URL signed with temporary credentials stops working when they expire, whatever its own
expiry; Lambda's role credentials outlive the execution environment's use of them by hours, and
botocore refreshes them before they run out (decision log, "Media").
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import botocore.session
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest

from messenger.platform.settings import ConfigurationError


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
        self._credentials = credentials

    def _frozen_credentials(self) -> Any:
        if self._credentials is None:
            self._credentials = botocore.session.get_session().get_credentials()
            if self._credentials is None:
                raise RuntimeError("no AWS credentials to sign download URLs with")
        return self._credentials.get_frozen_credentials()

    def url(self, key: str) -> str:
        if not self.base:
            raise ConfigurationError("MEDIA_BUCKET is not set for this function")
        request = AWSRequest(method="GET", url=f"{self.base}/{quote(key, safe='/~')}")
        auth = S3SigV4QueryAuth(self._frozen_credentials(), "s3", self.region, self.expires_in)
        auth.add_auth(request)
        return str(request.url)
