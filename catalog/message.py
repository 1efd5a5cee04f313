"""The Channels API message, as far as diagnosing a failure needs it.

Bird documents some fields loosely, so every model accepts unknown fields and treats
everything but the id as optional: a message that arrives in a new shape is still explained.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

FAILED_STATUSES = frozenset({"sending_failed", "delivery_failed"})


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class FailureSourceRef(_Tolerant):
    name: str | None = None
    code: str | None = None

    @field_validator("code", mode="before")
    @classmethod
    def _code_as_text(cls, value: Any) -> Any:
        # Bird sends a string; accept a number too rather than fail on it.
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


class Failure(_Tolerant):
    code: int | None = None
    source: FailureSourceRef | None = None

    @field_validator("code", mode="before")
    @classmethod
    def _code_as_int(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        return value


class Contact(_Tolerant):
    id: str | None = None
    identifier_key: str | None = Field(default=None, alias="identifierKey")
    identifier_value: str | None = Field(default=None, alias="identifierValue")
    platform_address: str | None = Field(default=None, alias="platformAddress")
    type: str | None = None


class Receiver(_Tolerant):
    contacts: list[Contact] = []


class Connector(_Tolerant):
    id: str | None = None
    identifier_value: str | None = Field(default=None, alias="identifierValue")


class Sender(_Tolerant):
    connector: Connector | None = None
    contact: Contact | None = None


class Body(_Tolerant):
    type: str | None = None


class Message(_Tolerant):
    """A message from ``GET /workspaces/{ws}/channels/{ch}/messages/{id}``."""

    id: str
    channel_id: str | None = Field(default=None, alias="channelId")
    status: str | None = None
    reason: str | None = None
    details: str | None = None
    failure: Failure | None = None
    direction: str | None = None
    sender: Sender | None = None
    receiver: Receiver | None = None
    body: Body | None = None
    reference: str | None = None
    created_at: datetime | None = Field(default=None, alias="createdAt")
    updated_at: datetime | None = Field(default=None, alias="updatedAt")
    last_status_at: datetime | None = Field(default=None, alias="lastStatusAt")

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES

    @property
    def final(self) -> bool:
        return self.status in FAILED_STATUSES or self.status == "delivered"


LookupErrorKind = Literal[
    "unauthorized", "forbidden", "not_found", "rate_limited", "unavailable", "timeout", "malformed", "bad_request"
]
DETAIL_LIMIT = 300
_KIND_TEXT: dict[str, str] = {
    "unauthorized": "Bird rejected the access key",
    "forbidden": "the access key may not read this",
    "not_found": "Bird has no such message",
    "rate_limited": "Bird is limiting the request rate",
    "unavailable": "Bird is unavailable",
    "timeout": "Bird did not answer in time",
    "malformed": "Bird sent a response birdwatch cannot read",
    "bad_request": "Bird rejected the request",
}


class BirdError(Exception):
    """A message lookup failed; ``kind`` tells the caller which explanation to give."""

    def __init__(self, kind: LookupErrorKind, *, status: int | None = None, detail: str | None = None) -> None:
        super().__init__(kind)
        self.kind: LookupErrorKind = kind
        self.status = status
        self.detail = detail[:DETAIL_LIMIT] if detail else None

    def __str__(self) -> str:
        text = f"Bird API: {_KIND_TEXT[self.kind]}"
        if self.status is not None:
            text += f" (HTTP {self.status})"
        if self.detail:
            text += f": {self.detail}"
        return text


@dataclass(frozen=True)
class FoundMessage:
    """A message and the channel that holds it; ``from_cache`` when no request was made for it.
    ``platform`` is the channel's platform (e.g. ``sms-messagebird``) when birdwatch knows it."""

    message: Message
    channel_id: str
    from_cache: bool
    platform: str | None = None
