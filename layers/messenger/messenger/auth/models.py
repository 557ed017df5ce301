"""Requests and responses of the auth context (its events: messenger.auth.events)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, EmailStr, Field

from messenger.kernel.fields import TEXT_RULE, Nickname, Text, Timestamp, stripped_text

if TYPE_CHECKING:
    from messenger.auth.session import IssuedTokens


def _lower(value: str) -> str:
    return value.lower()


Email = Annotated[
    EmailStr,
    BeforeValidator(stripped_text),
    Field(max_length=254, description=f"An email address, at most 254 characters. {TEXT_RULE}"),
    AfterValidator(_lower),
]
Password = Annotated[
    Text, Field(min_length=8, max_length=128, description=f"8 to 128 characters. {TEXT_RULE}")
]


class RegisterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Password
    nickname: Nickname


class RegisteredAccount(BaseModel):
    user_id: uuid.UUID
    email: str
    nickname: str


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Any string: a malformed address simply cannot match an account (same 401 as a wrong one).
    email: Annotated[Text, Field(min_length=1, max_length=254, description=TEXT_RULE)]
    password: Annotated[Text, Field(min_length=1, max_length=1024, description=TEXT_RULE)]


class LoginResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    expires_at: Timestamp
    user_id: uuid.UUID
    refresh_token: str
    refresh_expires_in: int = Field(description="Seconds the refresh token stays usable.")

    @classmethod
    def of(cls, tokens: IssuedTokens) -> LoginResponse:
        return cls(
            access_token=tokens.access_token,
            expires_in=tokens.expires_in,
            expires_at=tokens.access_expires_at,
            user_id=tokens.user_id,
            refresh_token=tokens.refresh_token,
            refresh_expires_in=tokens.refresh_expires_in,
        )


# Tokens are our own base64url strings of 43 characters; anything far longer cannot be one.
OpaqueToken = Annotated[Text, Field(min_length=1, max_length=512, description=TEXT_RULE)]


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: OpaqueToken


class SessionItem(BaseModel):
    session_id: str
    created_at: Timestamp
    last_used_at: Timestamp = Field(
        description="The login, or the last refresh: updated when the session refreshes its"
        " access token (at most once per access token lifetime), not on every request."
    )
    user_agent: str | None
    current: bool = Field(description="The session of the token that made this request.")


class SessionPage(BaseModel):
    items: list[SessionItem]
    next_cursor: str | None


class ChangePasswordRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Annotated[Text, Field(min_length=1, max_length=1024, description=TEXT_RULE)]
    new_password: Password


class Account(BaseModel):
    user_id: uuid.UUID
    email: str
    password_hash: str | None
    created_at: datetime
    email_verified: bool = False


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: OpaqueToken


class ResetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Any string: a malformed address simply has no account (the same 202 as an unknown one).
    email: Annotated[Text, Field(min_length=1, max_length=254, description=TEXT_RULE)]


class ResetConfirmRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: OpaqueToken
    new_password: Password


class OAuthStartResponse(BaseModel):
    authorization_url: str


class OAuthCallbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[Text, Field(min_length=1, max_length=2048, description=TEXT_RULE)]
    state: Annotated[Text, Field(min_length=1, max_length=512, description=TEXT_RULE)]
