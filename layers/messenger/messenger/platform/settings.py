"""Configuration, read from the environment and validated once per execution environment.

Nobody else reads `os.environ`: a missing or malformed variable fails at the first use with a
message naming it, instead of as a driver error deep inside a request.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, Json


class ConfigurationError(RuntimeError):
    """A setting a code path needs is missing: a deployment defect, never a client error."""


class OAuthProviderSettings(BaseModel):
    """One OpenID Connect provider (an entry of OAUTH_PROVIDERS, keyed by the provider's name)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    issuer: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    # In AWS the client secret lives in Secrets Manager; `client_secret` is for local runs and
    # tests only. Neither: a public client (PKCE alone, `none` client authentication).
    client_secret_arn: str | None = None
    client_secret: str | None = None
    redirect_uris: tuple[str, ...] = Field(min_length=1)
    scopes: tuple[str, ...] = ("openid", "email", "profile")


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    # Managed endpoints. Locally the runtime in infra/local sets them; in AWS the template does
    # (secrets are resolved from their ARN by messenger.platform.secrets at cold start).
    database_url: str | None = None
    database_secret_arn: str | None = None
    # TLS towards the managed endpoints in AWS (CA bundles from the certs layer, /opt/certs).
    database_host: str | None = None  # the RDS Proxy endpoint; else the secret's host
    database_sslmode: Literal["require", "verify-ca", "verify-full"] = "require"
    database_sslrootcert: str | None = None
    redis_url: str | None = None
    # MongoDB (DocumentDB or Atlas in AWS): a URI locally, a secret in AWS (platform.secrets).
    mongodb_uri: str | None = None
    mongodb_secret_arn: str | None = None
    mongodb_database: str = "messenger"
    mongodb_tls_ca_file: str | None = None
    # DocumentDB has no retryable writes: off unless a deployment on MongoDB proper turns them on.
    mongodb_retry_writes: bool = False
    redis_ssl_ca_certs: str | None = None  # used for rediss:// URLs only
    kafka_bootstrap_servers: str | None = None
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["OAUTHBEARER"] | None = None
    aws_region: str = "us-east-1"
    # The AWS Parameters and Secrets Lambda Extension's port (its own variable; set by the
    # template when the extension layer is attached): secrets come from it over local HTTP,
    # authenticated with the function's session token (set by Lambda). Unset: Powertools/boto3.
    parameters_secrets_extension_http_port: int | None = Field(default=None, ge=1, le=65535)
    aws_session_token: str | None = None

    # Kafka topics, one per aggregate family so one aggregate's events keep their order.
    user_events_topic: str = "user-events"
    friendship_events_topic: str = "friendship-events"
    chat_events_topic: str = "chat-events"
    kafka_publish_timeout_seconds: float = Field(default=2.0, gt=0, le=30)

    # Sessions and login throttling (API.md, Auth): login_max_failures per (email, client IP)
    # within the window, and login_max_failures_per_email across every IP (a ceiling against
    # guessing from many addresses, high enough that one attacker cannot lock the owner out).
    # Access tokens live an hour, refresh tokens 60 days from their issue (each refresh issues a
    # new one: an active client stays signed in; decision 48).
    access_token_ttl_seconds: int = Field(default=3600, ge=60)
    refresh_token_ttl_seconds: int = Field(default=60 * 24 * 3600, ge=60)
    session_cache_ttl_seconds: int = Field(default=3600, ge=1)
    # Mail (messenger.auth.email, decision 49): SES v2 from the verified identity's address, in
    # the configuration set (SES_ENDPOINT only locally: the moto server); links in mails start
    # with mail_link_base_url (the client app's page that posts the token).
    mail_from_address: str = "no-reply@messenger.example"
    mail_configuration_set: str | None = None
    mail_link_base_url: str = "http://127.0.0.1:3000"
    ses_endpoint: str | None = None
    email_verification_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    password_reset_ttl_seconds: int = Field(default=30 * 60, ge=60)
    password_reset_max_mails: int = Field(default=3, ge=1)
    password_reset_window_seconds: int = Field(default=15 * 60, ge=1)
    # A reset request answers no sooner than this, so its time tells nothing about the address.
    password_reset_min_seconds: float = Field(default=0.3, ge=0, le=5)
    login_max_failures: int = Field(default=5, ge=1)
    login_max_failures_per_email: int = Field(default=100, ge=1)
    login_failure_window_seconds: int = Field(default=15 * 60, ge=1)

    # Per-user rate limits (API.md "Per-user rate limits", messenger.platform.ratelimit): a
    # sustained rate and how many may come at once (the burst; the rate itself for all but
    # sending messages).
    rate_limit_send_message_per_second: int = Field(default=10, ge=1)
    rate_limit_send_message_burst: int = Field(default=20, ge=1)
    rate_limit_create_chat_per_minute: int = Field(default=30, ge=1)
    rate_limit_friend_request_per_hour: int = Field(default=30, ge=1)
    rate_limit_upload_per_minute: int = Field(default=20, ge=1)
    rate_limit_report_per_hour: int = Field(default=10, ge=1)

    # Friends: how long a rejected requester waits before asking again (API.md: 24 h).
    friend_request_cooldown_seconds: int = Field(default=24 * 3600, ge=0)

    # OAuth 2.0 / OpenID Connect sign-in (API.md, Auth): the providers as JSON, how long a started
    # sign-in may take, how long provider metadata (discovery, JWKS) is reused.
    oauth_providers: Json[dict[str, OAuthProviderSettings]] = Field(default_factory=dict)
    oauth_state_ttl_seconds: int = Field(default=600, ge=60, le=3600)
    oauth_metadata_ttl_seconds: int = Field(default=3600, ge=0)
    oauth_http_timeout_seconds: float = Field(default=5.0, gt=0, le=30)
    oauth_clock_leeway_seconds: int = Field(default=60, ge=0, le=300)

    # Realtime (WebSocket API): DynamoDB tables of live connections (DYNAMODB_ENDPOINT only
    # locally), the API's @connections management endpoint, how many pushes run at once.
    dynamodb_endpoint: str | None = None
    # How long a DynamoDB call may wait for its answer (messenger.platform.dynamodb). 1 s is
    # ~100x DynamoDB's p99; the local stack's moto server is that much slower (decision 55).
    dynamodb_read_timeout_seconds: float = Field(default=1.0, gt=0, le=5)
    connections_table: str | None = None
    user_connections_table: str | None = None
    # The per-user event stream behind frame cursors and GET /v1/sync (decision 46).
    user_streams_table: str | None = None
    sync_retention_days: int = Field(default=14, ge=1, le=365)
    # Push devices (decision 47): their table, SNS (SNS_ENDPOINT only locally) and the platform
    # applications of APNs, APNs sandbox and FCM (deployment parameters, docs/operations.md).
    devices_table: str | None = None
    sns_endpoint: str | None = None
    apns_platform_application_arn: str | None = None
    apns_sandbox_platform_application_arn: str | None = None
    fcm_platform_application_arn: str | None = None
    websocket_management_endpoint: str | None = None
    # API Gateway closes every WebSocket connection after 2 hours: records live no longer.
    websocket_connection_ttl_seconds: int = Field(default=2 * 3600, ge=60, le=2 * 3600)
    push_concurrency: int = Field(default=32, ge=1, le=256)
    push_timeout_seconds: float = Field(default=2.0, gt=0, le=30)

    # Outbox relay.
    outbox_batch_size: int = Field(default=500, ge=1, le=10_000)
    outbox_retention_days: int = Field(default=7, ge=1)

    # Media (messenger.media): the bucket, S3's endpoint (S3_ENDPOINT only locally: the moto
    # server), the CDN in front of the bucket's avatars/ prefix, how long a presigned POST
    # and a download URL stay valid (API.md: a download URL at least 1 hour).
    media_bucket: str | None = None
    s3_endpoint: str | None = None
    avatars_base_url: str | None = None
    upload_window_seconds: int = Field(default=900, ge=60, le=3600)
    download_url_ttl_seconds: int = Field(default=2 * 3600, ge=3600, le=7 * 24 * 3600)

    def require(self, name: str) -> str:
        value = getattr(self, name)
        if not value:
            raise ConfigurationError(f"{name.upper()} is not set for this function")
        return str(value)


@cache
def get_settings() -> Settings:
    fields = Settings.model_fields
    # An empty variable means "not set": templates declare every variable, locally most are blank.
    values = {k.lower(): v for k, v in os.environ.items() if k.lower() in fields and v != ""}
    return Settings.model_validate(values)
