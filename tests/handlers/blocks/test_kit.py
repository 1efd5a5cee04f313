"""handlers.blocks.kit: Slack's limits enforced and outside text made inert."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from handlers.blocks import kit
from handlers.blocks.kit import (
    ELLIPSIS,
    actions,
    button,
    code_block,
    context,
    escape,
    fields,
    header,
    link,
    message,
    section,
    truncate,
)

from .limits import assert_within_slack_limits

MRKDWN_SPECIALS = [
    "<!channel>",
    "<!here|here>",
    "<@U123>",
    "<https://evil|click>",
    "&",
    "&amp;",
    "```",
    "*_~`",
    "<",
    ">",
]
mrkdwn_text = st.lists(st.one_of(st.sampled_from(MRKDWN_SPECIALS), st.text(max_size=8)), max_size=40).map("".join)


def _no_partial_entity_or_link(text: str) -> None:
    body = text.removesuffix(ELLIPSIS)
    # Every "&" starts a whole entity, every "<" a closed token.
    for match in re.finditer("&", body):
        assert re.match(r"&(amp|lt|gt);", body[match.start() :]), f"partial entity in {text!r}"
    assert re.search(r"<[^>]*\Z", body) is None, f"unclosed '<' in {text!r}"


# -- escape, link, code_block ----------------------------------------------------------------------


def test_escape_replaces_only_the_three_control_characters() -> None:
    assert escape("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    assert escape("<!channel> <@U1> <https://x|y>") == "&lt;!channel&gt; &lt;@U1&gt; &lt;https://x|y&gt;"
    assert escape("*bold* _it_ `code` ~s~ \"q\" 'a' é") == "*bold* _it_ `code` ~s~ \"q\" 'a' é"
    assert escape("&amp;") == "&amp;amp;"
    assert escape(42) == "42"


@given(st.text(max_size=500))
def test_escaped_text_has_no_control_characters_left(text: str) -> None:
    escaped = escape(text)
    assert "<" not in escaped
    assert ">" not in escaped
    _no_partial_entity_or_link(escaped)
    assert escaped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == text


def test_link_escapes_url_and_label() -> None:
    assert link("https://docs.bird.com/x", "Bird docs") == "<https://docs.bird.com/x|Bird docs>"
    assert link("https://x.com/?a=1&b=2|<!here>", "A <b> & | c") == (
        "<https://x.com/?a=1&amp;b=2%7C&lt;!here&gt;|A &lt;b&gt; &amp; / c>"
    )


@given(url=st.text(max_size=100), label=st.text(max_size=100))
def test_link_is_always_one_well_formed_token(url: str, label: str) -> None:
    token = link(url, label)
    assert token.startswith("<")
    assert token.endswith(">")
    inner = token[1:-1]
    assert "<" not in inner
    assert ">" not in inner
    assert inner.count("|") == 1


def test_code_block_wraps_escaped_text() -> None:
    assert code_block("a <b> & c") == "```a &lt;b&gt; &amp; c```"


@pytest.mark.parametrize("text", ["x```y", "```", "a``````b", "`", "``a", "a``", "` `", "```\n<!channel>\n```"])
def test_code_block_cannot_be_closed_early(text: str) -> None:
    block = code_block(text)
    assert block.startswith("```")
    assert block.endswith("```")
    inner = block[3:-3]
    assert "`" not in inner[:1] + inner[-1:]
    assert "```" not in inner
    assert "<" not in inner


@settings(max_examples=300)
@given(st.one_of(st.text(max_size=300), mrkdwn_text), st.integers(min_value=0, max_value=400))
@example("a" * 50 + "``", 20)
@example("", 10)
def test_code_block_is_always_one_closed_block(text: str, limit: int) -> None:
    block = code_block(text, limit)
    assert re.fullmatch(r"```(?:(?!```).)+```", block, re.DOTALL), block
    inner = block[3:-3]
    assert not inner.startswith("`")
    assert not inner.endswith("`")
    assert len(inner) <= max(limit, 1)
    assert "<" not in inner


def test_code_block_is_cut_to_its_limit() -> None:
    block = code_block("x" * 5000, limit=100)
    assert len(block) == 106
    assert block.endswith(ELLIPSIS + "```")


# -- truncate --------------------------------------------------------------------------------------


def test_truncate_leaves_short_text_alone() -> None:
    assert truncate("abc", 3) == "abc"
    assert truncate("", 0) == ""


def test_truncate_cuts_with_an_ellipsis() -> None:
    assert truncate("abcdef", 4) == "abc" + ELLIPSIS


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("ab &amp; cd", 5, "ab " + ELLIPSIS),  # "ab &" would end in half an entity
        ("ab &amp; cd", 7, "ab " + ELLIPSIS),  # "ab &am"
        ("ab &amp; cd", 8, "ab " + ELLIPSIS),  # "ab &amp" still lacks its ";"
        ("ab &amp; cd", 9, "ab &amp;" + ELLIPSIS),
        ("ab &lt;x&gt;", 6, "ab " + ELLIPSIS),
        ("see <https://docs.bird.com/x|docs> now", 20, "see " + ELLIPSIS),
        ("hi <@U123> there", 7, "hi " + ELLIPSIS),
    ],
)
def test_truncate_never_leaves_half_an_entity_or_link(text: str, limit: int, expected: str) -> None:
    assert truncate(text, limit) == expected


@settings(max_examples=300)
@given(st.one_of(st.text(max_size=300), mrkdwn_text), st.integers(min_value=0, max_value=300))
def test_truncate_respects_the_limit_and_cuts_cleanly(text: str, limit: int) -> None:
    escaped = escape(text)
    cut = truncate(escaped, limit)
    assert len(cut) <= limit
    if len(escaped) <= limit:
        assert cut == escaped
    else:
        assert cut.endswith(ELLIPSIS) or cut == ""
        assert escaped.startswith(cut.removesuffix(ELLIPSIS))
        _no_partial_entity_or_link(cut)


@given(st.lists(st.sampled_from(["word ", "&amp; ", "<https://docs.bird.com/x|docs> ", "<@U1> "]), max_size=30))
def test_truncate_keeps_builder_markup_whole_or_drops_it(parts: list[str]) -> None:
    text = "".join(parts)
    for limit in range(1, len(text) + 1):
        _no_partial_entity_or_link(truncate(text, limit))


# -- each Slack limit ------------------------------------------------------------------------------


def test_header_is_plain_text_cut_to_150() -> None:
    block = header("h" * 400)
    assert block["text"]["type"] == "plain_text"
    assert len(block["text"]["text"]) == 150
    assert block["text"]["text"].endswith(ELLIPSIS)


def test_section_text_cut_to_3000() -> None:
    block = section("s" * 5000)
    assert block["text"]["type"] == "mrkdwn"
    assert len(block["text"]["text"]) == 3000
    assert block["text"]["text"].endswith(ELLIPSIS)
    assert section("short")["text"]["text"] == "short"


def test_section_accessory_is_kept() -> None:
    accessory = button("Explain", "explain_query", "15011")
    assert section("x", accessory=accessory)["accessory"] == accessory


def test_fields_cut_to_ten_of_2000_each() -> None:
    block = fields(["f" * 2500] * 12)
    assert len(block["fields"]) == 10
    for item in block["fields"]:
        assert len(item["text"]) == 2000
        assert item["text"].endswith(ELLIPSIS)


def test_context_cut_to_ten_elements() -> None:
    block = context(*[f"e{i}" for i in range(15)])
    assert [e["text"] for e in block["elements"]] == [f"e{i}" for i in range(10)]


def test_context_element_text_cut() -> None:
    (element,) = context("c" * 4000)["elements"]
    assert len(element["text"]) == 3000
    assert element["text"].endswith(ELLIPSIS)


def test_button_text_cut_to_75() -> None:
    element = button("b" * 100, "id", "v")
    assert len(element["text"]["text"]) == 75
    assert element["text"]["text"].endswith(ELLIPSIS)
    assert element["text"]["type"] == "plain_text"


def test_button_value_and_action_id_cut_without_changing_their_start() -> None:
    # Machine-read, so cut rather than decorated with an ellipsis.
    element = button("b", "a" * 300, "v" * 2500)
    assert element["action_id"] == "a" * 255
    assert element["value"] == "v" * 2000


def test_button_style_only_when_asked() -> None:
    assert "style" not in button("b", "id", "v")
    assert button("b", "id", "v", style="primary")["style"] == "primary"


def test_actions_cut_to_25_elements() -> None:
    block = actions(*[button(str(i), f"a{i}", str(i)) for i in range(30)], block_id="answer")
    assert len(block["elements"]) == 25
    assert block["block_id"] == "answer"


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_texts_become_a_single_space(text: str) -> None:
    # Slack rejects empty text objects.
    assert section("")["text"]["text"] == " "
    assert header("")["text"]["text"] == " "
    assert message([section("x")], "")["text"] == " "


# -- message(): count and total budget -------------------------------------------------------------


def test_sixty_blocks_are_cut_to_fifty_with_a_note() -> None:
    payload = message([section(f"block {i}") for i in range(60)], "fallback")
    blocks = payload["blocks"]
    assert len(blocks) == 50
    assert [b["text"]["text"] for b in blocks[:49]] == [f"block {i}" for i in range(49)]
    assert blocks[-1]["type"] == "context"
    assert blocks[-1]["elements"][0]["text"] == f"{ELLIPSIS} 11 more blocks not shown"
    assert_within_slack_limits(payload)


def test_exactly_fifty_blocks_are_all_kept() -> None:
    payload = message([section(f"block {i}") for i in range(50)], "fallback")
    assert [b["text"]["text"] for b in payload["blocks"]] == [f"block {i}" for i in range(50)]


def test_fifty_one_blocks_say_two_more() -> None:
    blocks = message([section(f"block {i}") for i in range(51)], "fallback")["blocks"]
    assert len(blocks) == 50
    assert blocks[-1]["elements"][0]["text"] == f"{ELLIPSIS} 2 more blocks not shown"


def test_total_text_budget_is_enforced() -> None:
    # Five full sections are 15,000 characters, over the budget of what Slack accepts in one message.
    payload = message([section("x" * 3000) for _ in range(5)] + [{"type": "divider"}], "fallback")
    blocks = payload["blocks"]
    kept = [b for b in blocks if b["type"] == "section"]
    assert len(kept) == kit.MAX_TOTAL_TEXT // 3000
    assert blocks[-1]["type"] == "context"
    assert blocks[-1]["elements"][0]["text"] == f"{ELLIPSIS} {6 - len(kept)} more blocks not shown"
    assert_within_slack_limits(payload)


def test_budget_counts_nested_texts() -> None:
    payload = message([fields(["f" * 2000] * 10)], "fallback")
    assert [b["type"] for b in payload["blocks"]] == ["context"]
    assert payload["blocks"][0]["elements"][0]["text"] == f"{ELLIPSIS} 1 more block not shown"


def test_fallback_text_is_escaped_and_cut() -> None:
    payload = message([section("x")], "<!channel> & " + "t" * 5000)
    assert payload["text"].startswith("&lt;!channel&gt; &amp; t")
    assert len(payload["text"]) == 3000
    assert "<" not in payload["text"]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.builds(header, st.text(max_size=300)),
            st.builds(section, st.text(max_size=4000)),
            st.builds(fields, st.lists(st.text(max_size=2500), min_size=1, max_size=12)),
            st.builds(lambda items: context(*items), st.lists(st.text(max_size=100), min_size=1, max_size=12)),
            st.builds(
                lambda t, a, v: actions(button(t, a, v)),
                st.text(max_size=100),
                st.text(min_size=1, max_size=300),
                st.text(max_size=2500),
            ),
            st.just({"type": "divider"}),
        ),
        min_size=1,
        max_size=70,
    ),
    st.text(min_size=1, max_size=4000).filter(str.strip),
)
def test_any_blocks_fit_slack(blocks: list[kit.Block], text: str) -> None:
    assert_within_slack_limits(message(blocks, text))
