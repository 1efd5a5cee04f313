"""Block Kit for catalog answers: pure functions from an Answer to a Slack message payload."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from catalog.answers import (
    Answer,
    CodeAnswer,
    DiagnosisAnswer,
    FamilyAnswer,
    Match,
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
from catalog.redaction import scrub

from .kit import (
    MAX_BUTTON_VALUE,
    Block,
    actions,
    button,
    code_block,
    context,
    escape,
    header,
    link,
    message,
    section,
    truncate,
)

ACTION_SHARE = "share_answer"
ACTION_EXPLAIN = "explain_query"
# Like ACTION_EXPLAIN, but always answers in a new message visible to the clicker alone.
ACTION_MORE = "explain_more"
MAX_LISTED_CODES = 20


def answer_message(answer: Answer, *, footer: str | None = None) -> dict[str, Any]:
    """The full reply for an answer. A ``footer`` (mrkdwn the caller wrote) marks a copy visible in
    the channel, which has no Share button."""
    blocks, text = _render(answer)
    share_query = shareable_query(answer)
    if footer is not None:
        blocks.append(context(footer))
    elif share_query is not None:
        blocks.append(actions(button("Share in channel", ACTION_SHARE, share_query, style="primary")))
    return message(blocks, text)


def shared_by(user_id: str, via: str = "/failure") -> str:
    """The footer of an answer someone shared in the channel."""
    return f"Shared by <@{escape(user_id)}> · via {via}"


def asked_by(user_id: str) -> str:
    """The footer of an answer posted where someone asked for it (a mention)."""
    return f"Asked by <@{escape(user_id)}>"


def shareable_query(answer: Answer) -> str | None:
    """A query that re-creates this answer (for buttons); None for answers not worth sharing."""
    if isinstance(answer, CodeAnswer):
        return str(answer.code.code)
    if isinstance(answer, SourceAnswer):
        return answer.source.name
    if isinstance(answer, PlatformCodeAnswer):
        return f"{answer.source.name} {answer.entry.code}"
    if isinstance(answer, FamilyAnswer):
        return f"{answer.family.prefix}xxx"
    if isinstance(answer, StatusAnswer):
        return answer.status.name
    if isinstance(answer, DiagnosisAnswer):
        return diagnosis_query(answer.diagnosis)
    return None


def diagnosis_query(diagnosis: Diagnosis) -> str | None:
    """Compact JSON of the raw failure fields; the explainer reads it back to the same diagnosis.

    It must fit a button value whole (a cut one is broken JSON), so long text is cut further until
    the JSON, escapes included, fits; None if even that fails.
    """
    room = 1200
    while True:
        query = _diagnosis_json(diagnosis, room)
        if len(query) <= MAX_BUTTON_VALUE:
            return query
        if room == 1:
            return None
        room = max(room // 2, 1)


def _diagnosis_json(diagnosis: Diagnosis, room: int) -> str:
    def cut(text: str | None, limit: int) -> str | None:
        return truncate(text, min(limit, room)) if text else text

    raw: dict[str, Any] = {
        "status": cut(diagnosis.status_raw, room),
        "reason": cut(diagnosis.reason.raw, 1200) if diagnosis.reason else None,
        "details": cut(diagnosis.details, 200),
        "failure": {
            "code": diagnosis.code_raw,
            "source": {"name": cut(diagnosis.source_raw, room), "code": cut(diagnosis.platform_code_raw, room)},
        },
    }
    return json.dumps(raw, separators=(",", ":"), ensure_ascii=False)


# -- one renderer per answer kind ---------------------------------------------------------------


def _render(answer: Answer) -> tuple[list[Block], str]:
    blocks, text = _render_kind(answer)
    note = getattr(answer, "note", None)
    if note:
        # How the query was read ("Read “whatsap” as the source whatsapp."), right under the headline.
        blocks.insert(1 if blocks and blocks[0].get("type") == "header" else 0, context(escape(note)))
    return blocks, text


def _render_kind(answer: Answer) -> tuple[list[Block], str]:
    if isinstance(answer, CodeAnswer):
        return _code(answer), f"{answer.code.code} {answer.code.name}: {answer.code.title}"
    if isinstance(answer, SourceAnswer):
        return _source(answer), f"Failure source {answer.source.name}: {answer.source.title}"
    if isinstance(answer, PlatformCodeAnswer):
        return platform_blocks(answer), f"{answer.source.name} code {answer.entry.code}: {answer.entry.name}"
    if isinstance(answer, FamilyAnswer):
        return _family(answer), f"{answer.family.prefix}XXX: {answer.family.name}"
    if isinstance(answer, StatusAnswer):
        return _status(answer), f"Status {answer.status.name}: {answer.status.plain}"
    if isinstance(answer, MessageIdAnswer):
        return _message_id(answer), f"That is a Bird message id: look it up with {answer.command}"
    if isinstance(answer, DiagnosisAnswer):
        code = answer.diagnosis.code
        # diagnosis_blocks leave the code's own header out; without this the code is nowhere in the reply.
        title = f"{code.code} {code.name}" if code is not None else "Failure explained"
        return [header(title), *diagnosis_blocks(answer.diagnosis)], diagnosis_text(answer.diagnosis)
    if isinstance(answer, MatchesAnswer):
        return _matches(answer), f"{answer.how_many} “{answer.query}”"
    if isinstance(answer, NotFoundAnswer):
        return _not_found(answer), answer.message
    return _usage(answer), "How to use /failure"


def code_body(code: FailureCode, family_label: str) -> list[Block]:
    """Everything about a Bird failure code below its headline: causes, steps, the context line
    (family · retry advice · who acts), related entries and the docs link."""
    blocks = [
        section("*Likely causes*\n" + "\n".join(f"• {escape(c)}" for c in code.causes)),
        section("*What to do now*\n" + "\n".join(f"{i}. {escape(a)}" for i, a in enumerate(code.actions, 1))),
        context(
            family_label,
            f"*{RETRY_LABELS[code.retry]}*: {escape(code.retry_note)}",
            "Who acts: " + ", ".join(OWNER_LABELS[o] for o in code.owners),
        ),
    ]
    related = [f"`{c}`" for c in code.related_codes] + [f"`{s}`" for s in code.related_sources]
    if related:
        blocks.append(context("Related: " + " ".join(related)))
    blocks.append(context(link(code.docs_url, "Bird docs: message failure codes")))
    return blocks


def _code(answer: CodeAnswer) -> list[Block]:
    code, family = answer.code, answer.family
    return [
        header(f"{code.code} {code.name}"),
        section(f"*{escape(code.title)}*\n{escape(code.meaning)}"),
        *code_body(code, f"{family.prefix}XXX {escape(family.name)}"),
    ]


def _source(answer: SourceAnswer) -> list[Block]:
    source = answer.source
    table = (
        f"`failure.source.code` follows {link(answer.table.docs_url, answer.table.name)}."
        if answer.table
        else "No platform code table applies."
    )
    blocks = [
        header(f"Failure source: {source.name}"),
        section(f"*{escape(source.title)}*\n{escape(source.what_failed)}"),
        section(f"*Where it failed:* {STAGE_LABELS[source.stage]}\n*Its codes:* {escape(source.code_note)}\n{table}"),
    ]
    if source.usual_codes:
        blocks.append(context("Usually with: " + " ".join(f"`{c}`" for c in source.usual_codes)))
    blocks.append(context(link(source.docs_url, "Bird docs: message failure sources")))
    return blocks


def platform_blocks(answer: PlatformCodeAnswer) -> list[Block]:
    entry = answer.entry
    blocks = [
        header(f"{answer.source.name} {entry.code}: {entry.name}"),
        section(f"*{escape(answer.table.name)}*\n{escape(entry.meaning)}"),
    ]
    if entry.causes:
        blocks.append(section("*Likely causes*\n" + "\n".join(f"• {escape(cause)}" for cause in entry.causes)))
    blocks.append(
        section("*What to do now*\n" + "\n".join(f"{i}. {escape(step)}" for i, step in enumerate(entry.fix, 1)))
    )
    retry = f"*{RETRY_LABELS[entry.retry]}*" + (f": {escape(entry.retry_note)}" if entry.retry_note else "")
    who = ["Who acts: " + ", ".join(OWNER_LABELS[o] for o in entry.owners)] if entry.owners else []
    blocks.append(context(retry, *who, f"Source of this entry: {confidence_label(entry)}"))
    if answer.usual_codes:
        blocks.append(
            context("Usually comes with Bird codes: " + ", ".join(f"`{c.code}` {c.name}" for c in answer.usual_codes))
        )
    blocks.append(context(link(entry.docs_url or answer.table.docs_url, answer.table.name)))
    return blocks


def _family(answer: FamilyAnswer) -> list[Block]:
    family = answer.family
    listed = answer.codes[:MAX_LISTED_CODES]
    lines = [f"`{c.code}` *{c.name}*: {escape(c.title)}" for c in listed]
    return [
        header(f"{family.prefix}XXX: {family.name}"),
        section(escape(family.meaning)),
        section("\n".join(lines) or "No codes documented."),
        context("Usually acted on by: " + ", ".join(OWNER_LABELS[o] for o in family.usual_owners)),
    ]


def _status(answer: StatusAnswer) -> list[Block]:
    status = answer.status
    if status.failed:
        state = "The message failed and this status is final: sending it again is a new message."
        next_step = (
            "*Why it failed* is in the message's `failure` object and `reason`: paste them here, or look the "
            "message up with `/message &lt;workspace&gt; &lt;message-id&gt;`."
        )
    elif status.final:
        state, next_step = "Final: this status will not change.", None
    else:
        state, next_step = "In progress: this status may still change.", None
    blocks = [
        header(f"Status: {status.name}"),
        section(f"*{escape(status.plain)}*\n{escape(status.meaning)}"),
        context(state),
    ]
    if next_step:
        blocks.append(section(next_step))
    return blocks


def _message_id(answer: MessageIdAnswer) -> list[Block]:
    blocks = [
        section(
            f":mag: `{answer.message_id}` is a Bird message id. `/failure` explains failure codes; "
            "to see why this message failed, look it up:\n" + code_block(answer.command)
        )
    ]
    if answer.workspace_id is None:
        blocks.append(
            context(
                "Replace `&lt;workspace&gt;` with a workspace id or alias; in a channel with a default workspace, "
                f"`/message {answer.message_id}` is enough."
            )
        )
    return blocks


def _matches(answer: MatchesAnswer) -> list[Block]:
    blocks: list[Block] = [section(f"*{answer.how_many} “{escape(answer.query[:200])}”*")]
    blocks += [_match_row(match) for match in answer.matches]
    return blocks


def _match_row(match: Match) -> Block:
    return section(
        f"*{escape(match.label)}*\n{escape(match.summary)}",
        accessory=button("Explain", ACTION_EXPLAIN, match.query),
    )


def _not_found(answer: NotFoundAnswer) -> list[Block]:
    blocks: list[Block] = [section(f":mag: {escape(answer.message)}")]
    if answer.family is not None:
        blocks.append(
            context(f"{answer.family.prefix}XXX {escape(answer.family.name)}: {escape(answer.family.meaning)}")
        )
    if answer.source is not None:
        blocks.append(section(f"*Source {answer.source.name}*: {escape(answer.source.what_failed)}"))
    if answer.did_you_mean is not None:
        blocks.append(
            section(
                f"Did you mean *{escape(answer.did_you_mean.label)}*?",
                accessory=button("Explain", ACTION_EXPLAIN, answer.did_you_mean.query),
            )
        )
    if answer.nearest:
        blocks.append(context("Closest entries:"))
        blocks += [_match_row(match) for match in answer.nearest]
    if answer.did_you_mean is None and not answer.nearest and answer.family is None:
        blocks.append(context("Try `/failure help` for the forms it understands."))
    return blocks


def _usage(answer: UsageAnswer) -> list[Block]:
    blocks: list[Block] = []
    if answer.problem:
        blocks.append(section(f":warning: {escape(answer.problem)}"))
    examples = "\n".join(f"• `/failure {escape(example)}`" for example in answer.examples)
    blocks += [
        section(
            "*Explain a Bird message failure.* Give a failure code, a name, a source, a platform code, a status, "
            "a few words, or paste a `reason` or `failure` JSON:\n" + examples
        ),
        context("Answers are visible only to you until you press *Share in channel*."),
    ]
    return blocks


# -- diagnosis (shared with /message) -------------------------------------------------------------


def diagnosis_blocks(
    diagnosis: Diagnosis, *, reveal: bool = False, redact: Callable[[str], str] = scrub
) -> list[Block]:
    """The catalog's view of one failure's raw fields, raw values always shown beside it. Platform
    texts can quote the recipient (an e-mail bounce, a number): every raw text goes through
    ``redact`` (a ``Redactor`` for the message's receiver, or free-text ``scrub``) unless ``reveal``."""
    shown: Callable[[str], str] = (lambda text: text) if reveal else redact
    blocks: list[Block] = []
    if diagnosis.status is not None:
        status = diagnosis.status
        blocks.append(section(f"*Status:* `{status.name}`: {escape(status.plain)}\n{escape(status.meaning)}"))
    elif diagnosis.status_raw:
        blocks.append(section(f"*Status:* `{escape(shown(diagnosis.status_raw))}` (not a status the catalog knows)"))
    if diagnosis.code is not None:
        code = diagnosis.code
        # The caller owns the header, so the code's name heads its section instead.
        blocks.append(section(f"*{code.code} {code.name}: {escape(code.title)}*\n{escape(code.meaning)}"))
        blocks += code_body(code, f"{code.family_prefix}XXX")
    elif diagnosis.code_raw is not None:
        family = diagnosis.family
        implied = f" Its digits place it in {family.prefix}XXX {escape(family.name)}." if family else ""
        blocks.append(section(f"*Failure code {diagnosis.code_raw}* is not in the catalog.{implied}"))
    blocks += _source_and_platform(diagnosis, shown)
    if diagnosis.reason is not None:
        blocks.append(_reason_block(diagnosis, shown))
    if diagnosis.unknown_parts:
        blocks.append(context("Not in the catalog: " + ", ".join(escape(shown(p)) for p in diagnosis.unknown_parts)))
    if not blocks:
        blocks.append(section("There is no failure to explain: no failure code, source or reason was given."))
    return blocks


def _source_and_platform(diagnosis: Diagnosis, shown: Callable[[str], str]) -> list[Block]:
    parts: list[str] = []
    if diagnosis.source is not None:
        parts.append(
            f"*Source:* `{diagnosis.source.name}`: {escape(diagnosis.source.what_failed)} "
            f"(failed {STAGE_LABELS[diagnosis.source.stage]})"
        )
    elif diagnosis.source_raw:
        parts.append(f"*Source:* `{escape(shown(diagnosis.source_raw))}`")
    entry = diagnosis.platform_code
    if entry is not None and diagnosis.table is not None:
        steps = " ".join(f"{i}. {escape(step)}" for i, step in enumerate(entry.fix, 1))
        parts.append(
            f"*Platform code {escape(entry.code)}* ({escape(diagnosis.table.name)}): *{escape(entry.name)}*. "
            f"{escape(entry.meaning)}\n{steps}\n_{RETRY_LABELS[entry.retry]} · {confidence_label(entry)}_"
            + (f"\n_Why: {escape(entry.retry_note)}_" if entry.retry_note else "")
        )
    elif diagnosis.platform_code_raw:
        parts.append(f"*Platform code:* `{escape(shown(diagnosis.platform_code_raw))}`")
    return [section("\n".join(parts))] if parts else []


def _reason_block(diagnosis: Diagnosis, shown: Callable[[str], str]) -> Block:
    reason = diagnosis.reason
    assert reason is not None
    lines = ["*Reason from the platform*"]
    if reason.structured:
        for key, value in (("details", reason.details), ("reason", reason.reason), ("code", reason.code)):
            if value:
                lines.append(f"• {key}: `{escape(truncate(shown(value), 300))}`")
        lines += [f"• {escape(k)}: `{escape(truncate(shown(v), 300))}`" for k, v in list(reason.extra.items())[:5]]
    else:
        lines.append(code_block(shown(reason.raw)))
    if diagnosis.details and diagnosis.details != reason.details:
        lines.append(f"• details field: `{escape(truncate(shown(diagnosis.details), 300))}`")
    return section("\n".join(lines))


def diagnosis_text(diagnosis: Diagnosis, redact: Callable[[str], str] = scrub) -> str:
    """One-line fallback text for notifications and screen readers; the raw reason through ``redact``."""
    if diagnosis.code is not None:
        return f"Failure {diagnosis.code.code} {diagnosis.code.name}: {diagnosis.code.title}"
    if diagnosis.code_raw is not None:
        return f"Failure code {diagnosis.code_raw} (not in the catalog)"
    if diagnosis.reason is not None:
        return "Failure reason: " + truncate(redact(diagnosis.reason.raw), 200)
    return "Failure explained"
