"""What a query resolves to. Renderers (Slack, terminal, JSON) switch on ``kind``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from .diagnosis import Diagnosis
from .models import CodeTable, FailureCode, FailureSource, Family, PlatformCode


class Match(BaseModel):
    """One entry in a ranked list; ``query`` opens its full explanation."""

    kind: Literal["code", "source", "platform_code", "family"]
    query: str
    label: str
    summary: str


class CodeAnswer(BaseModel):
    kind: Literal["code"] = "code"
    code: FailureCode
    family: Family


class SourceAnswer(BaseModel):
    kind: Literal["source"] = "source"
    source: FailureSource
    table: CodeTable | None = None


class PlatformCodeAnswer(BaseModel):
    kind: Literal["platform_code"] = "platform_code"
    entry: PlatformCode
    table: CodeTable
    source: FailureSource
    usual_codes: list[FailureCode] = []


class FamilyAnswer(BaseModel):
    kind: Literal["family"] = "family"
    family: Family
    codes: list[FailureCode]


class DiagnosisAnswer(BaseModel):
    kind: Literal["diagnosis"] = "diagnosis"
    diagnosis: Diagnosis


class MatchesAnswer(BaseModel):
    kind: Literal["matches"] = "matches"
    query: str
    matches: list[Match]


class NotFoundAnswer(BaseModel):
    """Nothing matched; still say what the input implies and what is close."""

    kind: Literal["not_found"] = "not_found"
    query: str
    message: str
    family: Family | None = None
    source: FailureSource | None = None
    did_you_mean: Match | None = None
    nearest: list[Match] = []


class UsageAnswer(BaseModel):
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
