"""The media bucket and who may touch it (template.yaml), the URL signer and the S3 error map."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from messenger.kernel.errors import is_unavailable
from tests.unit.sam_template import functions, resources

pytestmark = pytest.mark.unit

BUCKET_ARN = {"Fn::GetAtt": ["MediaBucket", "Arn"]}


def bucket() -> dict[str, Any]:
    (found,) = resources("AWS::S3::Bucket").values()
    return found


def test_one_private_encrypted_bucket_that_outlives_the_stack() -> None:
    found = bucket()
    assert found["DeletionPolicy"] == found["UpdateReplacePolicy"] == "Retain"
    props = found["Properties"]
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]


def test_unused_uploads_expire_after_a_day_and_partial_uploads_are_aborted() -> None:
    rules = {r["Id"]: r for r in bucket()["Properties"]["LifecycleConfiguration"]["Rules"]}
    expire = rules["ExpireUploads"]
    assert (expire["Status"], expire["Prefix"], expire["ExpirationInDays"]) == (
        "Enabled",
        "uploads/",
        1,
    )
    abort = rules["AbortIncompleteMultipartUploads"]
    assert abort["Status"] == "Enabled"
    assert "Prefix" not in abort  # the whole bucket
    assert abort["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    # Nothing that is in use expires: only uploads and data exports (a week, decision 51).
    expiring = {
        r["Prefix"]: r["ExpirationInDays"] for r in rules.values() if "ExpirationInDays" in r
    }
    assert expiring == {"uploads/": 1, "exports/": 7}


def test_the_bucket_policy_refuses_plain_http_and_lets_the_cdn_read_avatars_only() -> None:
    (policy,) = resources("AWS::S3::BucketPolicy").values()
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    tls = statements["TlsOnly"]
    assert (tls["Effect"], tls["Condition"]) == (
        "Deny",
        {"Bool": {"aws:SecureTransport": "false"}},
    )
    cdn = statements["AvatarsThroughTheCdn"]
    assert cdn["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert (cdn["Action"], cdn["Resource"]) == (
        "s3:GetObject",
        {"Fn::Sub": "${MediaBucket.Arn}/avatars/*"},
    )
    assert "AWS:SourceArn" in cdn["Condition"]["StringEquals"]
    assert [s for s in statements.values() if s["Effect"] == "Allow"] == [cdn]


def test_the_cdn_serves_the_avatars_prefix_through_origin_access_control() -> None:
    (cdn,) = resources("AWS::CloudFront::Distribution").values()
    config = cdn["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["OriginPath"] == "/avatars"
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["AvatarsOriginAccessControl", "Id"]}
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    assert behaviour["ViewerProtocolPolicy"] in ("https-only", "redirect-to-https")


def _s3_grants(name: str) -> dict[str, set[str]]:
    """Action -> the resources (as JSON) a function's inline statements grant on the bucket."""
    grants: dict[str, set[str]] = {}
    for policy in functions()[name].get("Policies") or []:
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            actions = statement["Action"]
            for action in [actions] if isinstance(actions, str) else actions:
                if action.startswith("s3:"):
                    resource = json.dumps(statement["Resource"])
                    grants.setdefault(action, set()).add(resource)
    return grants


def _prefix(prefix: str) -> str:
    return json.dumps({"Fn::Sub": f"${{MediaBucket.Arn}}/{prefix}/*"})


# Least privilege: exactly these actions on exactly these prefixes.
EXPECTED: dict[str, dict[str, set[str]]] = {
    "CreateUpload": {"s3:PutObject": {_prefix("uploads")}},
    "SendMessage": {
        "s3:GetObject": {_prefix("uploads"), _prefix("attachments")},
        "s3:PutObject": {_prefix("attachments")},
        "s3:DeleteObject": {_prefix("attachments")},
    },
    "GetChatHistory": {"s3:GetObject": {_prefix("attachments")}},
    "GetChat": {"s3:GetObject": {_prefix("attachments")}},
    "EditMessage": {"s3:GetObject": {_prefix("attachments")}},
    "ListChats": {"s3:GetObject": {_prefix("attachments")}},
    "UpdateMyProfile": {
        "s3:GetObject": {_prefix("uploads")},
        "s3:PutObject": {_prefix("avatars")},
        "s3:DeleteObject": {_prefix("avatars")},
    },
    "RemoveMessageAttachments": {
        "s3:ListBucket": {json.dumps(BUCKET_ARN)},
        "s3:DeleteObject": {_prefix("attachments")},
    },
    # Account deletion and data exports (decisions 50, 51).
    "EraseMediaOnUserDeleted": {
        "s3:ListBucket": {json.dumps(BUCKET_ARN)},
        "s3:DeleteObject": {_prefix("avatars"), _prefix("uploads"), _prefix("exports")},
    },
    "GetExport": {"s3:GetObject": {_prefix("exports")}},
    "BuildExportOnExportRequested": {
        "s3:PutObject": {_prefix("exports")},
        "s3:GetObject": {_prefix("attachments")},
    },
}


@pytest.mark.parametrize("name", sorted(functions()))
def test_each_function_gets_only_the_bucket_access_it_needs(name: str) -> None:
    assert _s3_grants(name) == EXPECTED.get(name, {})


def test_listing_is_limited_to_the_attachments_prefix() -> None:
    for policy in functions()["RemoveMessageAttachments"]["Policies"]:
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            if statement["Action"] == "s3:ListBucket":
                assert statement["Condition"] == {"StringLike": {"s3:prefix": "attachments/*"}}


def test_every_function_knows_the_bucket_and_the_profile_editor_the_cdn() -> None:
    for name, props in functions().items():
        assert props["Environment"]["Variables"]["MEDIA_BUCKET"] == {"Ref": "MediaBucket"}, name
    variables = functions()["UpdateMyProfile"]["Environment"]["Variables"]
    assert variables["AVATARS_BASE_URL"] == {"Fn::Sub": "https://${AvatarsCdn.DomainName}"}


def test_the_deletion_consumer_receives_only_deletions() -> None:
    (event,) = [
        e["Properties"]
        for e in functions()["RemoveMessageAttachments"]["Events"].values()
        if e["Type"] == "MSK"
    ]
    (pattern,) = event["FilterCriteria"]["Filters"]
    assert json.loads(pattern["Pattern"]) == {"value": {"type": ["message.deleted"]}}


# ------------------------------------------------------------------------------------------------
# Adapters without a network
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("endpoint", "region", "token", "key"),
    [
        ("http://127.0.0.1:5000", "us-east-1", "session/token+=", "attachments/c/m/a"),
        ("https://s3.local.test", "us-east-1", None, "avatars/u/1"),
        (None, "us-east-1", "session-token", "attachments/c/m/a"),
        (None, "eu-west-1", None, "attachments/c/m/a b+ü~x"),
    ],
)
def test_the_url_signer_signs_as_boto3_does(
    endpoint: str | None, region: str, token: str | None, key: str
) -> None:
    from botocore.credentials import Credentials

    from messenger.media.adapters.signer import S3UrlSigner
    from messenger.media.adapters.storage import make_client

    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    signer = S3UrlSigner("media-bucket", region, endpoint, 7200, credentials)
    client = make_client(endpoint, region)
    client._request_signer._credentials = credentials
    for _ in range(5):  # both signed within the same second (X-Amz-Date)
        expected = client.generate_presigned_url(
            "get_object", Params={"Bucket": "media-bucket", "Key": key}, ExpiresIn=7200
        )
        ours = signer.url(key)
        if expected.split("X-Amz-Date=")[1][:16] == ours.split("X-Amz-Date=")[1][:16]:
            break
    assert ours == expected
    assert ("X-Amz-Security-Token=" in ours) == (token is not None)


def test_the_signing_key_is_derived_once_a_day() -> None:
    from botocore.credentials import Credentials

    from messenger.media.adapters.signer import S3UrlSigner

    signer = S3UrlSigner("b", "us-east-1", None, 3600, Credentials("a", "s"))
    signer.url("k1")
    keys = dict(signer._signing_keys)
    signer.url("k2")
    assert signer._signing_keys == keys
    assert len(keys) == 1


def test_the_signer_without_a_bucket_is_a_configuration_error() -> None:
    from messenger.media.adapters.signer import S3UrlSigner
    from messenger.platform.settings import ConfigurationError

    with pytest.raises(ConfigurationError):
        S3UrlSigner(None, "us-east-1", None, 3600).url("k")


def _client_error(status: int, code: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "HeadObject",
    )


def test_s3_out_of_reach_or_overloaded_is_unavailable_a_refusal_is_not() -> None:
    from messenger.media.adapters.storage import s3_unavailable  # registers its checks

    assert is_unavailable(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"))
    assert is_unavailable(_client_error(503, "SlowDown"))
    assert is_unavailable(_client_error(500, "InternalError"))
    assert not is_unavailable(_client_error(403, "AccessDenied"))
    assert not is_unavailable(_client_error(400, "InvalidRequest"))
    # A missing credential is a deployment defect, not an outage, as far as S3's check goes
    # (the realtime context's DynamoDB check, once loaded, counts every botocore error).
    assert not s3_unavailable(NoCredentialsError())


def test_local_lifecycle_rules_translate_the_template() -> None:
    from messenger_local.s3 import _lifecycle_rule

    rules = bucket()["Properties"]["LifecycleConfiguration"]["Rules"]
    assert [_lifecycle_rule(r) for r in rules] == [
        {
            "ID": "ExpireUploads",
            "Status": "Enabled",
            "Filter": {"Prefix": "uploads/"},
            "Expiration": {"Days": 1},
        },
        {
            "ID": "ExpireExports",
            "Status": "Enabled",
            "Filter": {"Prefix": "exports/"},
            "Expiration": {"Days": 7},
        },
        {
            "ID": "AbortIncompleteMultipartUploads",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        },
    ]
