"""What a query resolves to. Renderers (Slack, terminal, JSON) switch on ``kind``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, computed_field

from .diagnosis import Diagnosis
from .models import CodeTable, FailureCode, FailureSource, Family, PlatformCode, Status


class _Answer(BaseModel):
    # Validators are built on first use: ``birdwatch explain`` builds the one answer it shows.
    model_config = ConfigDict(defer_build=True)


class Match(_Answer):
    """One entry in a ranked list; ``query`` opens its full explanation."""

    kind: Literal["code", "source", "platform_code", "family", "status"]
    query: str
    label: str
    summary: str


# ``note`` on an answer says how the query was read when that was not literal ("Read “whatsap” as
# whatsapp."), so a corrected typo or a fallback to a broader entry is never silent.


class CodeAnswer(_Answer):
    kind: Literal["code"] = "code"
    code: FailureCode
    family: Family
    note: str | None = None


class SourceAnswer(_Answer):
    kind: Literal["source"] = "source"
    source: FailureSource
    table: CodeTable | None = None
    note: str | None = None


class PlatformCodeAnswer(_Answer):
    kind: Literal["platform_code"] = "platform_code"
    entry: PlatformCode
    table: CodeTable
    source: FailureSource
    usual_codes: list[FailureCode] = []
    note: str | None = None


class StatusAnswer(_Answer):
    """A message ``status`` value: what it means and where to look next."""

    kind: Literal["status"] = "status"
    status: Status
    note: str | None = None


class MessageIdAnswer(_Answer):
    """A Bird message id: /failure explains codes, ``/message`` looks a message up."""

    kind: Literal["message_id"] = "message_id"
    message_id: str
    channel_id: str | None = None
    workspace_id: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def command(self) -> str:
        """The ``/message`` command to type, as complete as the query allows."""
        workspace = self.workspace_id or "<workspace>"
        channel = f" {self.channel_id}" if self.channel_id else ""
        return f"/message {workspace}{channel} {self.message_id}"


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
    note: str | None = None

    @property
    def how_many(self) -> str:
        """ "3 entries match" or, for a single one, "1 entry matches"."""
        count = len(self.matches)
        return "1 entry matches" if count == 1 else f"{count} entries match"


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
    | StatusAnswer
    | MessageIdAnswer
    | FamilyAnswer
    | DiagnosisAnswer
    | MatchesAnswer
    | NotFoundAnswer
    | UsageAnswer
)
