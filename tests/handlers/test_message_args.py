"""parse_message_query: the three command forms, and no input that can crash it or forge an id."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from catalog.ids import canonical_uuid as as_uuid
from handlers.message_args import USAGE, MessageQuery, MessageQueryError, parse_message_query

MSG = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
CH = "0d3c9f1e-8a5b-4c1e-9a43-0c6c1c5b7e01"
WS = "6a1e1f5c-3b7d-4c59-9d2e-7f0a1b2c3d4e"
_HEX = re.compile(r"[0-9a-f]")


# --- the forms ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (MSG, MessageQuery(message_id=MSG)),
        (f"prod {MSG}", MessageQuery(message_id=MSG, workspace="prod")),
        (f"{WS} {MSG}", MessageQuery(message_id=MSG, workspace=WS)),
        (f"prod {CH} {MSG}", MessageQuery(message_id=MSG, workspace="prod", channel_id=CH)),
        # Upper case, no hyphens, Slack-ish wrapping and stray whitespace are all tolerated...
        (f"  prod\t{CH.upper()}\n {MSG.replace('-', '')} ", MessageQuery(MSG, "prod", CH)),
        (f"`{MSG}`", MessageQuery(message_id=MSG)),
        ("{" + MSG.upper() + "}", MessageQuery(message_id=MSG)),  # as uuid.UUID prints in some tools
        (f"<{MSG}>", MessageQuery(message_id=MSG)),
        (f"'prod', \"{MSG}\";", MessageQuery(message_id=MSG, workspace="prod")),
        (f"my-ws.eu_1 {MSG}", MessageQuery(message_id=MSG, workspace="my-ws.eu_1")),
    ],
)
def test_accepted_forms(text: str, expected: MessageQuery) -> None:
    # ...and the ids always come out canonical: lower case with hyphens.
    assert parse_message_query(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "help", "HELP", "?", "``", "<>"])
def test_empty_or_help_gives_usage(text: str) -> None:
    assert parse_message_query(text) == MessageQueryError(USAGE)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not-a-uuid", "`not-a-uuid` is not a message id"),
        (f"prod {MSG[:-1]}", "is not a message id"),
        (f"prod {MSG}0", "is not a message id"),
        (f"prod {MSG}/../x", "is not a message id"),
        (f"prod {CH} {MSG} {MSG}", "That is 4 words; expected at most three"),
        (f"prod/x {MSG}", "`prod/x` is not a workspace id or alias"),
        (f"-prod {MSG}", "`-prod` is not a workspace id or alias"),
        (f"{'w' * 65} {MSG}", "is not a workspace id or alias"),
        (f"prod ../channels {MSG}", "`../channels` is not a channel id"),
        (f"prod {CH[:-1]} {MSG}", "is not a channel id"),
    ],
)
def test_rejected_forms_say_what_is_wrong(text: str, problem: str) -> None:
    result = parse_message_query(text)
    assert isinstance(result, MessageQueryError)
    assert problem in result.problem
    assert USAGE in result.problem


@pytest.mark.parametrize(
    "text",
    [
        "+" + "1" * 31,  # uuid.UUID reads a sign...
        "1111111_" + "1" * 24,  # ...underscores...
        "٣" * 32,  # ...Arabic-Indic digits...
        "１" * 32,  # ...full-width digits...
        "urn:uuid:" + MSG,  # ...and URN prefixes
        "{" + MSG,
        "{{" + MSG + "}}",
        "uuid:" + MSG.replace("-", ""),
        MSG.replace("-", "") + "-",
        "-" * 4 + MSG.replace("-", ""),
        MSG.replace("-", "--"),
        "\u200b" + MSG,  # zero-width space is not whitespace to str.split
    ],
)
def test_only_hex_uuids_are_ids(text: str) -> None:
    assert as_uuid(text) is None
    assert isinstance(parse_message_query(text), MessageQueryError)


def test_problem_quotes_at_most_80_characters_of_the_input() -> None:
    result = parse_message_query("x" * 5000)
    assert isinstance(result, MessageQueryError)
    assert "x" * 80 in result.problem
    assert "x" * 81 not in result.problem


# --- properties --------------------------------------------------------------------------------

uuids = st.uuids().map(str)
spellings: list[Callable[[str], str]] = [str, str.upper, lambda u: u.replace("-", "")]
id_forms = st.tuples(uuids, st.sampled_from(spellings)).map(lambda p: p[1](p[0]))
words = st.one_of(
    id_forms,
    st.sampled_from(["prod", "help", "?", "<!channel>", "`", "../..", "%2e%2e", "\x00", "\u202e", "ws.eu-1"]),
    st.text(min_size=1, max_size=40),
)
command_texts = st.one_of(
    st.text(max_size=300),
    st.lists(words, max_size=5).map(" ".join),
    st.tuples(st.lists(words, max_size=5), st.sampled_from(["\t", "\n", " \u3000 ", "\r\n", "\x1f"])).map(
        lambda parts: parts[1].join(parts[0])
    ),
    st.builds(lambda w, n: (w + " ") * n, words, st.integers(min_value=1, max_value=400)),  # up to ~16 KB
)


def _is_canonical(value: str) -> bool:
    return str(uuid.UUID(value)) == value


def _hex_digits(text: str) -> str:
    return "".join(_HEX.findall(text.lower()))


@settings(max_examples=200, deadline=None)
@given(command_texts)
@example("\x00" * 10_240)
@example("é" * 10_240)
@example(("prod " + MSG + " ") * 500)
@example(f"{WS}\u00a0{MSG}")
@example(f"prod\u2028{CH}\u2029{MSG}")
@example("prod +" + "1" * 31)
@example(f"prod {'٣' * 32} {MSG}")
def test_any_text_parses_to_a_query_with_canonical_ids_or_an_error(text: str) -> None:
    result = parse_message_query(text)

    assert isinstance(result, MessageQuery | MessageQueryError)
    if isinstance(result, MessageQueryError):
        assert result.problem
        return
    ids = [result.message_id] + ([result.channel_id] if result.channel_id is not None else [])
    for value in ids:
        assert _is_canonical(value), value
        # The id is exactly what the user typed, digit for digit: never padded, converted or made up.
        typed = [w for w in text[:1000].split() if _hex_digits(w) == value.replace("-", "")]
        assert typed, (value, text)
    if result.workspace is not None:
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", result.workspace), result.workspace


workspace_names = st.from_regex(r"[a-z][a-z0-9_-]{0,20}", fullmatch=True).filter(lambda w: w != "help")


@settings(max_examples=200, deadline=None)
@given(uuids, st.one_of(st.none(), uuids), st.one_of(st.none(), workspace_names))
def test_every_valid_command_round_trips(message_id: str, channel_id: str | None, workspace: str | None) -> None:
    if channel_id is not None and workspace is None:
        workspace = "prod"  # a channel id needs a workspace before it
    parts = [p for p in (workspace, channel_id, message_id.upper()) if p is not None]

    assert parse_message_query(" ".join(parts)) == MessageQuery(message_id, workspace, channel_id)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
@example("+" + "1" * 31)
@example("1111111_" + "1" * 24)
@example("{" + MSG + "}")
@example("{" + MSG)
def test_as_uuid_accepts_exactly_the_32_hex_digit_forms(text: str) -> None:
    result = as_uuid(text)
    bare = text[1:-1] if text.startswith("{") and text.endswith("}") else text
    looks_right = re.fullmatch(r"[0-9a-fA-F]{8}(-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}", bare) is not None
    assert (result is not None) == looks_right
    if result is not None:
        assert _is_canonical(result)
        assert result.replace("-", "") == bare.replace("-", "").lower()
