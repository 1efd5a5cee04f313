"""Plain-text rendering of catalog answers for ``birdwatch explain``."""

from __future__ import annotations

import textwrap

from catalog.answers import (
    Answer,
    CodeAnswer,
    DiagnosisAnswer,
    FamilyAnswer,
    MatchesAnswer,
    MessageIdAnswer,
    NotFoundAnswer,
    PlatformCodeAnswer,
    SourceAnswer,
    StatusAnswer,
    UsageAnswer,
)
from catalog.diagnosis import Diagnosis
from catalog.labels import OWNER_LABELS, RETRY_LABELS, STAGE_LABELS, confidence_label
from catalog.models import FailureCode

WIDTH = 88


def render(answer: Answer) -> str:
    text = _render_kind(answer)
    note = getattr(answer, "note", None)
    return f"{_wrap(note)}\n\n{text}" if note else text


def _render_kind(answer: Answer) -> str:
    if isinstance(answer, CodeAnswer):
        return _code(answer.code, f"{answer.family.prefix}XXX {answer.family.name}")
    if isinstance(answer, SourceAnswer):
        s = answer.source
        lines = [f"source {s.name}: {s.title}", "", _wrap(s.what_failed), "", f"Where: {STAGE_LABELS[s.stage]}"]
        lines.append(_wrap(f"Codes: {s.code_note}"))
        if answer.table:
            lines.append(f"Code table: {answer.table.name} ({answer.table.docs_url})")
        return "\n".join([*lines, f"Docs: {s.docs_url}"])
    if isinstance(answer, PlatformCodeAnswer):
        e = answer.entry
        lines = [f"{answer.source.name} {e.code}: {e.name}", f"({answer.table.name})", "", _wrap(e.meaning), ""]
        if e.causes:
            lines += ["Likely causes:", *(_wrap(f"- {c}", indent="  ") for c in e.causes), ""]
        lines += ["What to do now:", *_steps(e.fix), ""]
        lines.append(_wrap(f"{RETRY_LABELS[e.retry]}: {e.retry_note}" if e.retry_note else f"{RETRY_LABELS[e.retry]}."))
        if e.owners:
            lines.append(_wrap("Who acts: " + ", ".join(OWNER_LABELS[o] for o in e.owners)))
        lines.append(f"Entry: {confidence_label(e)}.")
        if answer.usual_codes:
            lines.append(
                _wrap("Usually comes with Bird codes: " + ", ".join(f"{c.code} {c.name}" for c in answer.usual_codes))
            )
        return "\n".join([*lines, f"Docs: {e.docs_url or answer.table.docs_url}"])
    if isinstance(answer, StatusAnswer):
        return _status(answer)
    if isinstance(answer, MessageIdAnswer):
        lines = [
            f"{answer.message_id} is a Bird message id. To see why this message failed, look it up in Slack:",
            f"  {answer.command}",
        ]
        if answer.workspace_id is None:
            lines.append(
                _wrap(
                    "(<workspace> is a workspace id or alias; in a channel with a default workspace, "
                    f"/message {answer.message_id} is enough.)"
                )
            )
        return "\n".join(lines)
    if isinstance(answer, FamilyAnswer):
        lines = [f"{answer.family.prefix}XXX: {answer.family.name}", _wrap(answer.family.meaning), ""]
        return "\n".join(lines + [f"  {c.code} {c.name}: {c.title}" for c in answer.codes])
    if isinstance(answer, DiagnosisAnswer):
        return _diagnosis(answer.diagnosis)
    if isinstance(answer, MatchesAnswer):
        rows = [f"  {m.label}: {m.summary}\n      birdwatch explain {m.query}" for m in answer.matches]
        return "\n".join([f"{answer.how_many} “{answer.query}”:", *rows])
    if isinstance(answer, NotFoundAnswer):
        lines = [answer.message]
        if answer.did_you_mean:
            lines.append(f"Did you mean {answer.did_you_mean.label}? birdwatch explain {answer.did_you_mean.query}")
        lines += [f"  near: {m.label}: {m.summary}" for m in answer.nearest]
        return "\n".join(lines)
    assert isinstance(answer, UsageAnswer)
    lines = [answer.problem, ""] if answer.problem else []
    lines += ["Explain a Bird message failure. Examples:", *[f"  birdwatch explain {e}" for e in answer.examples]]
    return "\n".join(lines)


def _status(answer: StatusAnswer) -> str:
    status = answer.status
    lines = [f"status {status.name}: {status.plain}", "", _wrap(status.meaning), ""]
    if status.failed:
        lines.append(
            _wrap(
                "The message failed and this status is final. Why it failed is in the message's failure "
                "object and reason: explain those, or look the message up in Slack with:"
            )
        )
        lines.append("  /message <workspace> <message-id>")
    else:
        lines.append("Final: this status will not change." if status.final else "In progress: it may still change.")
    return "\n".join(lines)


def _code(code: FailureCode, family: str) -> str:
    lines = [f"{code.code} {code.name}: {code.title}", f"({family})", "", _wrap(code.meaning), "", "Likely causes:"]
    lines += [_wrap(f"- {c}", indent="  ") for c in code.causes]
    lines += ["", "What to do now:", *_steps(code.actions), ""]
    lines.append(_wrap(f"{RETRY_LABELS[code.retry]}: {code.retry_note}"))
    lines.append(_wrap("Who acts: " + ", ".join(OWNER_LABELS[o] for o in code.owners)))
    if code.related_codes or code.related_sources:
        lines.append(_wrap("Related: " + ", ".join([*map(str, code.related_codes), *code.related_sources])))
    return "\n".join([*lines, f"Docs: {code.docs_url}"])


def _diagnosis(d: Diagnosis) -> str:
    lines = []
    if d.status_raw:
        lines.append(f"Status: {d.status_raw}" + (f" ({d.status.plain})" if d.status else ""))
    if d.code:
        lines += [_code(d.code, f"{d.code.family_prefix}XXX"), ""]
    elif d.code_raw is not None:
        lines.append(f"Failure code {d.code_raw} is not in the catalog.")
    if d.source_raw:
        lines.append(f"Source: {d.source_raw}" + (f": {d.source.what_failed}" if d.source else ""))
    if d.platform_code and d.table:
        lines.append(f"Platform code {d.platform_code.code} ({d.table.name}): {d.platform_code.name}")
        lines.append(_wrap(d.platform_code.meaning, indent="  "))
    elif d.platform_code_raw:
        lines.append(f"Platform code: {d.platform_code_raw}")
    if d.reason:
        parts = {"details": d.reason.details, "reason": d.reason.reason, "code": d.reason.code}
        shown = [f"{k}={v}" for k, v in parts.items() if v]
        lines.append("Reason: " + ("; ".join(shown) if shown else d.reason.raw))
    if d.unknown_parts:
        lines.append("Not in the catalog: " + ", ".join(d.unknown_parts))
    return "\n".join(lines) or "Nothing to explain."


def _steps(steps: list[str]) -> list[str]:
    return [_wrap(f"{i}. {step}", indent="   ") for i, step in enumerate(steps, 1)]


def _wrap(text: str, indent: str = "") -> str:
    return textwrap.fill(text, WIDTH, subsequent_indent=indent)
