"""SASL/OAUTHBEARER tokens for MSK IAM auth (used only in AWS; imports boto3 via the signer)."""

from __future__ import annotations

from aws_msk_iam_sasl_signer import MSKAuthTokenProvider


class MskIamTokenProvider:
    def __init__(self, region: str) -> None:
        self.region = region

    def token(self) -> str:
        token, _expiry_ms = MSKAuthTokenProvider.generate_auth_token(self.region)
        return str(token)
