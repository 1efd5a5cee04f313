"""The Channels API message, as far as diagnosing a failure needs it.

Bird documents some fields loosely, so every model accepts unknown fields and treats everything but
the message id as optional and lenient: a value that cannot be read becomes None (a list drops the
items it cannot read), so one odd field never costs the user the whole diagnosis.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

T = TypeVar("T")


def _or_none(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except ValidationError:
        return None


def _readable_items(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except ValidationError as error:
        if not isinstance(value, list):
            return []
        bad = {problem["loc"][0] for problem in error.errors() if problem["loc"]}
        try:
            return handler([item for index, item in enumerate(value) if index not in bad])
        except ValidationError:
            return []


def _number_as_text(value: Any) -> Any:
    # Bird sends a string; accept a number too rather than lose it.
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _digits_as_int(value: Any) -> Any:
    return int(value) if isinstance(value, str) and value.strip().isdigit() else value


# A field whose unreadable value becomes None instead of failing the message.
Lenient = Annotated[T | None, WrapValidator(_or_none)]
# A list that drops the items it cannot read; anything but a list becomes [].
LenientList = Annotated[list[T], WrapValidator(_readable_items)]
# Text that Bird may send as a number.
NumberText = Annotated[str | None, BeforeValidator(_number_as_text), WrapValidator(_or_none)]
# A number that Bird may send as text.
DigitsInt = Annotated[int | None, BeforeValidator(_digits_as_int), WrapValidator(_or_none)]


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class FailureSourceRef(_Tolerant):
    name: Lenient[str] = None
    code: NumberText = None


class Failure(_Tolerant):
    code: DigitsInt = None
    source: Lenient[FailureSourceRef] = None


class Contact(_Tolerant):
    id: Lenient[str] = None
    identifier_key: Lenient[str] = Field(default=None, alias="identifierKey")
    identifier_value: Lenient[str] = Field(default=None, alias="identifierValue")
    platform_address: Lenient[str] = Field(default=None, alias="platformAddress")
    type: Lenient[str] = None


class Receiver(_Tolerant):
    contacts: LenientList[Contact] = []


class Connector(_Tolerant):
    id: Lenient[str] = None
    identifier_value: Lenient[str] = Field(default=None, alias="identifierValue")


class Sender(_Tolerant):
    connector: Lenient[Connector] = None
    contact: Lenient[Contact] = None


class Body(_Tolerant):
    type: Lenient[str] = None


class Message(_Tolerant):
    """A message from ``GET /workspaces/{ws}/channels/{ch}/messages/{id}``; only ``id`` is required."""

    id: str
    channel_id: Lenient[str] = Field(default=None, alias="channelId")
    status: Lenient[str] = None
    reason: Lenient[str] = None
    details: Lenient[str] = None
    failure: Lenient[Failure] = None
    direction: Lenient[str] = None
    sender: Lenient[Sender] = None
    receiver: Lenient[Receiver] = None
    body: Lenient[Body] = None
    reference: Lenient[str] = None
    created_at: Lenient[datetime] = Field(default=None, alias="createdAt")
    updated_at: Lenient[datetime] = Field(default=None, alias="updatedAt")
    last_status_at: Lenient[datetime] = Field(default=None, alias="lastStatusAt")


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
