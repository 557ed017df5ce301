"""Profile views and the profile PATCH body (the users context's events: messenger.users.events)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from messenger.kernel.fields import TEXT_RULE, Nickname, Text, Timestamp


class Profile(BaseModel):
    user_id: uuid.UUID
    nickname: str
    description: str | None
    avatar_url: str | None
    created_at: Timestamp


class OwnProfile(Profile):
    """The owner's view adds the email and whether it is verified."""

    email: str
    email_verified: bool = Field(
        default=False, description="Whether the account confirmed its address (the mail's link)."
    )


def _https_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in value):
        raise ValueError("must be an https:// URL")
    return value


AvatarUrl = Annotated[
    Text,
    Field(max_length=2048, description=f"An https:// URL, at most 2048 characters. {TEXT_RULE}"),
    AfterValidator(_https_url),
]
Description = Annotated[
    Text, Field(max_length=500, description=f"At most 500 characters. {TEXT_RULE}")
]


def _string_only(schema: dict[str, Any]) -> None:
    """The nickname's schema without its null branch: absent means unchanged and null is refused
    (the validator below), so the document must not offer null. (Typing the field
    `Nickname | SkipJsonSchema[None]` would make it a tagged union, whose errors name
    `nickname.constrained-str` instead of `nickname`.)"""
    branches = [branch for branch in schema.pop("anyOf", []) if branch.get("type") != "null"]
    for branch in branches:
        schema.update(branch)


class ProfilePatch(BaseModel):
    """PATCH semantics: an absent field stays as it is, null clears it (nickname cannot be null)."""

    model_config = ConfigDict(extra="forbid")

    nickname: Nickname | None = Field(default=None, json_schema_extra=_string_only)
    description: Description | None = None
    avatar_url: AvatarUrl | None = None
    avatar_upload_id: uuid.UUID | None = Field(
        default=None,
        json_schema_extra=_string_only,
        description="An upload of purpose avatar (POST /v1/uploads, an image of at most 5 MiB):"
        " avatar_url becomes a stable URL of it. Not together with avatar_url.",
    )

    @field_validator("nickname", "avatar_upload_id", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null")
        return value

    @model_validator(mode="after")
    def _one_avatar(self) -> ProfilePatch:
        if {"avatar_url", "avatar_upload_id"} <= self.model_fields_set:
            raise ValueError("give avatar_url or avatar_upload_id, not both")
        return self

    def changes(self) -> dict[str, Any]:
        """The profile's columns to set (an avatar upload becomes avatar_url in the service)."""
        return {
            name: getattr(self, name)
            for name in self.model_fields_set
            if name != "avatar_upload_id"
        }


CONFIRMATION = "DELETE"
# Any string, as at login: a wrong one is the same 401 whatever its shape.
Password = Annotated[Text, Field(min_length=1, max_length=1024, description=TEXT_RULE)]


class DeleteAccountRequest(BaseModel):
    """`password` for an account that has one; `{"confirm": "DELETE"}` for an OAuth-only one."""

    model_config = ConfigDict(extra="forbid")

    password: Password | None = None
    confirm: Literal["DELETE"] | None = Field(
        default=None, description='"DELETE": confirms deleting an account without a password'
    )

    @model_validator(mode="after")
    def _one_credential(self) -> DeleteAccountRequest:
        if self.password is None and self.confirm is None:
            raise ValueError('give "password" (or "confirm": "DELETE" without a password)')
        return self


class AccountDeletion(BaseModel):
    """DELETE /v1/users/me's 202: the account is gone, the erasure of its data under way."""

    user_id: uuid.UUID
    status: Literal["deleting"] = "deleting"


class ExportStatus(BaseModel):
    """A data export: `url` (signed, valid until `expires_at`) once it is ready."""

    export_id: uuid.UUID
    status: Literal["pending", "ready"]
    url: str | None = Field(default=None, description="Signed download URL (when ready)")
    expires_at: Timestamp | None = Field(default=None, description="When `url` stops working")
