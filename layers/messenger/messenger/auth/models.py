"""Requests, responses and events of the auth context."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, EmailStr, Field

from messenger.fields import Nickname, Timestamp


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _lower(value: str) -> str:
    return value.lower()


Email = Annotated[
    EmailStr,
    BeforeValidator(_strip),
    Field(max_length=254),
    AfterValidator(_lower),
]
Password = Annotated[str, Field(min_length=8, max_length=128)]


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
    email: Annotated[str, Field(min_length=1, max_length=254)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class LoginResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    expires_at: Timestamp
    user_id: uuid.UUID


class Account(BaseModel):
    user_id: uuid.UUID
    email: str
    password_hash: str | None
    created_at: datetime


class UserRegistered(BaseModel):
    """Data of the `user.registered` event."""

    user_id: uuid.UUID
    email: str
    nickname: str
    registered_at: Timestamp


class OAuthStartResponse(BaseModel):
    authorization_url: str


class OAuthCallbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, Field(min_length=1, max_length=2048)]
    state: Annotated[str, Field(min_length=1, max_length=512)]
