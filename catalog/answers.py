"""What a query resolves to. Renderers (Slack, terminal, JSON) switch on ``kind``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from .diagnosis import Diagnosis
from .models import CodeTable, FailureCode, FailureSource, Family, PlatformCode


class _Answer(BaseModel):
    # Validators are built on first use: ``birdwatch explain`` builds the one answer it shows.
    model_config = ConfigDict(defer_build=True)


class Match(_Answer):
    """One entry in a ranked list; ``query`` opens its full explanation."""

    kind: Literal["code", "source", "platform_code", "family"]
    query: str
    label: str
    summary: str


class CodeAnswer(_Answer):
    kind: Literal["code"] = "code"
    code: FailureCode
    family: Family


class SourceAnswer(_Answer):
    kind: Literal["source"] = "source"
    source: FailureSource
    table: CodeTable | None = None


class PlatformCodeAnswer(_Answer):
    kind: Literal["platform_code"] = "platform_code"
    entry: PlatformCode
    table: CodeTable
    source: FailureSource
    usual_codes: list[FailureCode] = []


class FamilyAnswer(_Answer):
    kind: Literal["family"] = "family"
    family: Family
    codes: list[FailureCode]


class DiagnosisAnswer(_Answer):
    kind: Literal["diagnosis"] = "diagnosis"
    diagnosis: Diagnosis


class MatchesAnswer(_Answer):
    kind: Literal["matches"] = "matches"
    query: str
    matches: list[Match]


class NotFoundAnswer(_Answer):
    """Nothing matched; still say what the input implies and what is close."""

    kind: Literal["not_found"] = "not_found"
    query: str
    message: str
    family: Family | None = None
    source: FailureSource | None = None
    did_you_mean: Match | None = None
    nearest: list[Match] = []


class UsageAnswer(_Answer):
    kind: Literal["usage"] = "usage"
    problem: str | None = None
    examples: list[str]


Answer = (
    CodeAnswer
    | SourceAnswer
    | PlatformCodeAnswer
    | FamilyAnswer
    | DiagnosisAnswer
    | MatchesAnswer
    | NotFoundAnswer
    | UsageAnswer
)
