"""Pydantic models for the failure catalog.

The catalog's knowledge lives in TOML files under ``catalog/data``; these models
validate every entry at load, so a typo in the data fails the tests instead of a user.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Steps = Annotated[list[NonEmpty], Field(min_length=1)]


class Retry(StrEnum):
    """Whether sending the same message again can succeed."""

    NEVER = "never"
    AFTER_FIX = "after_fix"
    BACKOFF = "backoff"


class Owner(StrEnum):
    """Who has to act to resolve a failure."""

    YOUR_TEAM = "your_team"
    END_USER = "end_user"
    BIRD_SUPPORT = "bird_support"
    PLATFORM = "platform"


class Stage(StrEnum):
    """Where a failure source sits relative to the hand-off to the downstream platform."""

    BEFORE_HANDOFF = "before_handoff"
    AFTER_HANDOFF = "after_handoff"


class Confidence(StrEnum):
    """How sure a platform-code entry is, by where its meaning comes from."""

    BIRD = "bird"  # documented by Bird
    PLATFORM = "platform"  # documented by the platform itself (Meta, LINE, Apple, SparkPost, ...)
    STANDARD = "standard"  # documented by a published standard (an RFC, ITU-T Q.850, 3GPP)
    INDUSTRY = "industry"  # the usual industry meaning, documented by nobody for Bird's traffic


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


Url = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^https://\S+$")]


class _Sourced(_Entry):
    """An entry that records where its facts come from (URLs) and when they were last checked."""

    sources: Annotated[list[Url], Field(min_length=1)]
    checked: date


class Family(_Sourced):
    """A block of failure codes sharing their first two digits (11XXX, 12XXX, ...)."""

    prefix: Annotated[int, Field(ge=10, le=99)]
    name: NonEmpty
    meaning: NonEmpty
    usual_owners: Annotated[list[Owner], Field(min_length=1)]


class FailureCode(_Sourced):
    """One Bird failure code, as found in ``failure.code``."""

    code: Annotated[int, Field(ge=10000, le=99999)]
    name: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]*$")]
    aliases: list[Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]*$")]] = []
    title: NonEmpty
    meaning: NonEmpty
    causes: Steps
    actions: Steps
    retry: Retry
    retry_note: NonEmpty
    owners: Annotated[list[Owner], Field(min_length=1)]
    related_codes: list[int] = []
    related_sources: list[NonEmpty] = []
    keywords: list[NonEmpty] = []
    docs_url: NonEmpty

    @property
    def family_prefix(self) -> int:
        return self.code // 1000


class FailureSource(_Sourced):
    """One ``failure.source.name`` value."""

    name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*$")]
    aliases: list[NonEmpty] = []
    title: NonEmpty
    what_failed: NonEmpty
    stage: Stage
    code_table: str | None = None
    code_note: NonEmpty
    usual_codes: list[int] = []
    keywords: list[NonEmpty] = []
    docs_url: NonEmpty


class CodeTable(_Sourced):
    """A platform's own error table, which ``failure.source.code`` follows for some sources."""

    id: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*$")]
    name: NonEmpty
    docs_url: NonEmpty
    # Sources whose failure.source.code may follow this table besides the ones naming it as their
    # code_table (email carries SparkPost bounce classes and SMTP status codes; voice SIP and Q.850).
    used_by: list[NonEmpty] = []


class PlatformCode(_Sourced):
    """One platform error code as it appears in ``failure.source.code``."""

    table: NonEmpty
    # "131047", Messenger's "code-subcode" ("100-2018001"), SMTP enhanced status codes ("5.1.1").
    code: Annotated[str, StringConstraints(pattern=r"^[0-9]+(-[0-9]+|(\.[0-9]+){2})?$")]
    name: NonEmpty
    meaning: NonEmpty
    causes: Steps
    fix: Steps
    retry: Retry
    retry_note: NonEmpty
    owners: Annotated[list[Owner], Field(min_length=1)]
    usual_codes: list[int] = []
    confidence: Confidence
    authority: NonEmpty  # who documents the meaning: "Bird", "Meta", "RFC 3463", ...
    docs_url: NonEmpty  # the platform's page for this code, or for its table
    keywords: list[NonEmpty] = []
    # Replaced by a current code the platform documents (WhatsApp's On-Premises 470 by Cloud API
    # 131047); still reported by older integrations, so kept, but ranked below current codes.
    legacy: bool = False


class Status(_Sourced):
    """A message ``status`` value."""

    name: Annotated[str, StringConstraints(pattern=r"^[a-z_]+$")]
    failed: bool
    final: bool
    plain: NonEmpty
    meaning: NonEmpty


class CatalogData(_Entry):
    """Everything the data files hold, before cross-references are checked."""

    families: list[Family]
    codes: list[FailureCode]
    sources: list[FailureSource]
    tables: list[CodeTable]
    platform_codes: list[PlatformCode]
    statuses: list[Status]
