"""catalog.scanner: what counts as a code, platform code or message id in free text."""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.bird_context import DISTINCTIVE_NAMES
from catalog.loader import Catalog, default_catalog
from catalog.models import CatalogData
from catalog.scanner import Hit, Rule, scan

MESSAGE_ID = "0d7b6c1e-5f3a-4c2b-9e8d-7a6b5c4d3e2f"
OTHER_ID = "9f0c1d2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f"
SOURCED = {"sources": ["https://example.com/docs"], "checked": "2026-12-01"}


def _code(code: int, name: str, aliases: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "aliases": list(aliases),
        "title": "t",
        "meaning": "m",
        "causes": ["c"],
        "actions": ["a"],
        "retry": "never",
        "retry_note": "r",
        "owners": ["your_team"],
        "docs_url": "https://example.com/codes",
        **SOURCED,
    }


def _source(name: str, aliases: tuple[str, ...], table: str | None) -> dict[str, Any]:
    return {
        "name": name,
        "aliases": list(aliases),
        "title": "t",
        "what_failed": "w",
        "stage": "after_handoff",
        "code_table": table,
        "code_note": "n",
        "docs_url": "https://example.com/sources",
        **SOURCED,
    }


def _platform_code(table: str, code: str) -> dict[str, Any]:
    return {
        "table": table,
        "code": code,
        "name": "n",
        "meaning": "m",
        "causes": ["c"],
        "fix": ["f"],
        "retry": "never",
        "retry_note": "r",
        "owners": ["platform"],
        "confidence": "platform",
        "authority": "Meta",
        "docs_url": "https://example.com/codes",
        **SOURCED,
    }


def make_catalog() -> Catalog:
    """A small catalog with just what these tests need (the real data is still being written)."""
    families = [{"prefix": p, "name": "f", "meaning": "m", "usual_owners": ["your_team"], **SOURCED} for p in (14, 15)]
    data = {
        "families": families,
        "codes": [
            _code(15011, "INVALID_SPAM", ("SPAM_FILTERED",)),
            _code(14001, "EXAMPLE_REJECTED", ("EXPIRED",)),
        ],
        "sources": [
            _source("whatsapp", ("wa", "whatsapp-cloud"), "whatsapp-cloud"),
            _source("sms-messagebird", ("sms messagebird",), "gsm-map"),
            _source("email", (), None),
            _source("line", ("line-messaging",), "line"),
        ],
        "tables": [
            {"id": "whatsapp-cloud", "name": "WhatsApp", "docs_url": "https://example.com/wa", **SOURCED},
            {"id": "gsm-map", "name": "GSM MAP", "docs_url": "https://example.com/gsm", **SOURCED},
            {"id": "line", "name": "LINE", "docs_url": "https://example.com/line", **SOURCED},
        ],
        "platform_codes": [
            _platform_code("whatsapp-cloud", "131047"),
            _platform_code("whatsapp-cloud", "131026"),
            _platform_code("gsm-map", "34"),
            _platform_code("gsm-map", "21-1"),
            _platform_code("line", "404"),
            _platform_code("line", "500"),
        ],
        "statuses": [
            {"name": name, "failed": True, "final": True, "plain": "p", "meaning": "m", **SOURCED}
            for name in ("delivery_failed", "sending_failed")
        ],
    }
    return Catalog(CatalogData.model_validate(data))


CATALOG = make_catalog()


def keys(text: str, *, from_integration: bool = False, limit: int = 20, rule: Rule = "asked") -> list[str]:
    return [hit.key for hit in scan(CATALOG, text, from_integration=from_integration, limit=limit, rule=rule)]


def unasked(text: str, *, rule: Rule = "bird_context", from_integration: bool = True) -> list[str]:
    return keys(text, from_integration=from_integration, rule=rule)


class TestFalseAlarmRule:
    def test_human_mentioning_a_number_is_not_an_alert(self) -> None:
        assert keys("order 15011 shipped") == []

    @pytest.mark.parametrize(
        "text",
        [
            "getting failure 15011 on whatsapp",
            "15011 errors since noon",
            "Bird says code 15011",
            "status=delivery_failed 15011",
            "errorCode: 15011",
            "MessageBird rejected it with 15011",
            "15011 FAILED",
        ],
    )
    def test_human_with_an_alert_word_nearby(self, text: str) -> None:
        assert keys(text) == ["15011"]

    def test_alert_word_too_far_away(self) -> None:
        assert keys("failure " + "x " * 40 + "order 15011 shipped") == []

    @pytest.mark.parametrize("text", ["15011 was delivered", "birdseed 15011", "failover 15011"])
    def test_look_alike_words_are_not_alert_words(self, text: str) -> None:
        assert keys(text) == []

    def test_integration_needs_no_alert_word(self) -> None:
        assert keys("15011", from_integration=True) == ["15011"]

    def test_specific_forms_count_without_context(self) -> None:
        text = f"INVALID_SPAM, whatsapp 131047, message {MESSAGE_ID}"
        assert keys(text) == ["15011", "whatsapp:131047", MESSAGE_ID]


class TestCodes:
    def test_unknown_codes_are_ignored(self) -> None:
        assert keys("failure 15012 and 99999", from_integration=True) == []

    @pytest.mark.parametrize(
        "text",
        ["115011", "150111", "x15011", "15011x", "15011.5", "1.15011", "2024-15011", "15011-2024", "ref_15011"],
    )
    def test_codes_must_stand_alone(self, text: str) -> None:
        assert keys(f"failure {text}", from_integration=True) == []

    @pytest.mark.parametrize("text", ["(15011)", "code=15011.", '"code":15011', "15011,", "15011: spam"])
    def test_codes_in_punctuation(self, text: str) -> None:
        assert keys(text, from_integration=True) == ["15011"]

    @pytest.mark.parametrize("text", ["PR #15011 merged", "PROJ-15011 moved to Done", "Issue #14001 closed"])
    def test_references_in_a_bots_post_are_not_codes(self, text: str) -> None:
        assert keys(text, from_integration=True) == []

    @pytest.mark.parametrize("text", ["ERR-15011 delivery failed", "failure #15011", "[FIRING:1] ERR-15011"])
    def test_references_near_an_alert_word_are_codes(self, text: str) -> None:
        assert keys(text, from_integration=True) == ["15011"]

    def test_full_width_digits_are_not_codes(self) -> None:
        assert keys("failure １５０１１", from_integration=True) == []


class TestNames:
    @pytest.mark.parametrize(
        "text", ["INVALID_SPAM", "invalid_spam", "Invalid_Spam", "SPAM_FILTERED", "`INVALID_SPAM`"]
    )
    def test_names_and_aliases_any_case(self, text: str) -> None:
        assert keys(f"we see {text} today") == ["15011"]

    def test_name_inside_a_longer_identifier_is_not_a_name(self) -> None:
        assert keys("ERR_INVALID_SPAM_V2") == []

    def test_one_word_alias_needs_upper_case_and_context(self) -> None:
        assert keys("my passport expired") == []
        assert keys("EXPIRED") == []
        assert keys("delivery EXPIRED") == ["14001"]
        assert keys("EXPIRED", from_integration=True) == ["14001"]

    def test_name_and_code_dedupe_to_one_hit(self) -> None:
        assert scan(CATALOG, "INVALID_SPAM (15011)", from_integration=True) == [Hit("code", "15011", "15011")]


class TestPlatformCodes:
    @pytest.mark.parametrize(
        "text",
        [
            "whatsapp 131047",
            "WhatsApp: 131047",
            "source: whatsapp, code: 131047",
            '"source":{"name":"whatsapp","code":"131047"}',
            "Source\nwhatsapp\nSource code\n131047",
            "wa 131047",
            "whatsapp-cloud error 131047",
            "`whatsapp` / `131047`",
        ],
    )
    def test_source_then_code(self, text: str) -> None:
        assert scan(CATALOG, text, from_integration=False) == [
            Hit("platform_code", "whatsapp:131047", "whatsapp 131047")
        ]

    def test_hyphenated_and_multi_word_aliases(self) -> None:
        assert keys("sms-messagebird 34") == ["sms-messagebird:34"]
        assert keys("SMS MessageBird returned 34") == ["sms-messagebird:34"]
        assert keys("sms-messagebird 21-1") == ["sms-messagebird:21-1"]

    def test_code_not_in_that_sources_table(self) -> None:
        assert keys("whatsapp 34") == []
        assert keys("sms-messagebird 131047") == []

    def test_source_without_code_table(self) -> None:
        assert keys("email 34") == []

    def test_only_the_first_number_after_the_source(self) -> None:
        assert keys("whatsapp 2 messages with 131047") == []

    def test_code_too_far_from_the_source(self) -> None:
        assert keys("whatsapp" + " " * 41 + "131047") == []
        assert keys("whatsapp" + " " * 40 + "131047") == ["whatsapp:131047"]

    def test_code_before_source_is_not_recognised(self) -> None:
        assert keys("131047 from whatsapp") == []

    def test_bird_code_after_a_source_is_still_a_code(self) -> None:
        assert keys('{"failure":{"source":{"name":"whatsapp"},"code":15011}}') == ["15011"]

    def test_alias_as_part_of_a_word(self) -> None:
        assert keys("wax 131047") == []
        assert keys("swa 131047") == []


class TestMessageIds:
    @pytest.mark.parametrize(
        "label",
        ["message ", "msg:", "messageId=", "message_id: ", "Message ID ", '"messageId": "', "/messages/", "msg "],
    )
    def test_labelled_uuid(self, label: str) -> None:
        assert keys(f"{label}{MESSAGE_ID}") == [MESSAGE_ID]

    def test_upper_case_uuid_is_keyed_in_lower_case(self) -> None:
        assert scan(CATALOG, f"message {MESSAGE_ID.upper()}", from_integration=False) == [
            Hit("message_id", MESSAGE_ID, MESSAGE_ID)
        ]

    @pytest.mark.parametrize(
        "text",
        [
            MESSAGE_ID,
            f"trace_id {MESSAGE_ID}",
            f"request id: {MESSAGE_ID}",
            f"message failed, trace id {MESSAGE_ID}",
            f"message {'.' * 31}{MESSAGE_ID}",
        ],
    )
    def test_unlabelled_or_otherwise_labelled(self, text: str) -> None:
        assert keys(text, from_integration=True) == []

    def test_bird_message_url(self) -> None:
        url = f"https://app.bird.com/workspaces/{OTHER_ID}/channels/{OTHER_ID[::-1]}/messages/{MESSAGE_ID}"
        assert keys(url) == [MESSAGE_ID]

    def test_a_label_labels_only_the_next_uuid(self) -> None:
        assert keys(f"message {MESSAGE_ID} {OTHER_ID}") == [MESSAGE_ID]

    def test_not_part_of_a_longer_hex_run(self) -> None:
        assert keys(f"message a{MESSAGE_ID}") == []
        assert keys(f"message {MESSAGE_ID}0") == []


class TestOrderAndLimit:
    def test_distinct_hits_in_order_of_first_appearance(self) -> None:
        text = f"msg {MESSAGE_ID} code 14001, whatsapp 131047, 15011, INVALID_SPAM, 14001, message {MESSAGE_ID.upper()}"
        assert keys(text) == [MESSAGE_ID, "14001", "whatsapp:131047", "15011"]

    def test_limit(self) -> None:
        text = "failure 15011 14001 whatsapp 131047"
        assert keys(text, limit=2) == ["15011", "14001"]
        assert keys(text, limit=0) == []

    def test_empty_catalog(self) -> None:
        empty = Catalog(CatalogData(families=[], codes=[], sources=[], tables=[], platform_codes=[], statuses=[]))
        assert scan(empty, "failure 15011 whatsapp 131047", from_integration=True) == []
        assert scan(empty, f"message {MESSAGE_ID}", from_integration=False) == [
            Hit("message_id", MESSAGE_ID, MESSAGE_ID)
        ]


class TestBoundaries:
    """Where a match meets the ends of the text, punctuation or another match."""

    @pytest.mark.parametrize("text", ["15011 failed", "delivery failed: 15011", "failed\n15011"])
    def test_code_at_either_end_of_the_text(self, text: str) -> None:
        assert keys(text) == ["15011"]

    @pytest.mark.parametrize(
        "text",
        [
            "(INVALID_SPAM)",
            "[INVALID_SPAM]:",
            '"INVALID_SPAM"',
            "INVALID_SPAM.",
            "reason=INVALID_SPAM;",
            "/invalid_spam/",
        ],
    )
    def test_names_next_to_punctuation(self, text: str) -> None:
        assert keys(text) == ["15011"]

    @pytest.mark.parametrize("text", ["failure via whatsapp", "whatsapp", "code 131047, whatsapp:"])
    def test_source_at_the_end_of_the_text(self, text: str) -> None:
        assert keys(text, from_integration=True) == []

    @pytest.mark.parametrize("text", ["via-whatsapp 131047", "(whatsapp) 131047", "src=WhatsApp;code=131047"])
    def test_source_next_to_punctuation(self, text: str) -> None:
        assert keys(text) == ["whatsapp:131047"]

    @pytest.mark.parametrize("text", ["whatsapp 5 131047", "whatsapp 34 131047", "whatsapp 21-1 131047"])
    def test_a_number_between_source_and_code(self, text: str) -> None:
        assert keys(text) == []

    @pytest.mark.parametrize("text", ["whatsapp 2024-11-05 131047", "whatsapp v1.2.3 131047", "whatsapp 0.5s 131047"])
    def test_dates_versions_and_decimals_are_not_numbers_in_between(self, text: str) -> None:
        assert keys(text) == ["whatsapp:131047"]

    def test_only_the_first_code_after_a_source(self) -> None:
        assert keys("whatsapp 131047 131026") == ["whatsapp:131047"]

    def test_a_later_source_takes_over(self) -> None:
        assert keys("sms-messagebird whatsapp 131047") == ["whatsapp:131047"]
        assert keys("whatsapp sms-messagebird 34") == ["sms-messagebird:34"]

    @pytest.mark.parametrize("label", ["MESSAGE_ID=", "MSG ", "Message: ", "MsgId="])
    def test_upper_case_labels_and_uuids(self, label: str) -> None:
        assert keys(f"{label}{MESSAGE_ID.upper()}") == [MESSAGE_ID]

    def test_label_window_is_30_characters(self) -> None:
        assert keys("message" + "." * 23 + MESSAGE_ID) == [MESSAGE_ID]
        assert keys("message" + "." * 24 + MESSAGE_ID) == []

    def test_one_message_id_among_many_trace_ids(self) -> None:
        traces = " ".join(f"trace_id={uuid.UUID(int=n)}" for n in range(200))
        assert keys(f"{traces} messageId={MESSAGE_ID} {traces}") == [MESSAGE_ID]

    def test_adjacent_matches_keep_their_order(self) -> None:
        text = f"INVALID_SPAM whatsapp 131047 msg {MESSAGE_ID} 14001"
        assert keys(text, from_integration=True) == ["15011", "whatsapp:131047", MESSAGE_ID, "14001"]

    def test_text_around_is_not_ascii(self) -> None:
        text = f"💥 échec\ud800 INVALID_SPAM, WhatsApp 131047 — message {MESSAGE_ID} ✓"
        assert keys(text) == ["15011", "whatsapp:131047", MESSAGE_ID]


class TestBoundedCost:
    def test_scans_40_kb_quickly(self) -> None:
        rng = random.Random(7)
        words = ["failure", "order", "whatsapp", "131047", "15011", "2024-11-05", "v1.2.3", "message", MESSAGE_ID, "<"]
        text = " ".join(rng.choice(words) for _ in range(10_000))[:40_000]
        best = min(_timed(lambda: scan(CATALOG, text, from_integration=False, limit=10_000)) for _ in range(3))
        assert best < 0.04  # under 1 ms per KB; typically ~0.3 ms per KB

    def test_reads_a_40_kb_alert_without_reading_every_word(self) -> None:
        # Mostly ordinary words, numbers and trace ids: reading each token in Python took ~10 ms.
        rng = random.Random(7)
        words = ["latency", "above", "threshold", "on", "pod", "restarted", "12", "2024-11-05T10:00:00Z", "took=35ms"]
        lines = [" ".join(rng.choices(words, k=12)) + f" trace_id={uuid.UUID(int=n)}" for n in range(400)]
        text = "\n".join(lines)[:40_000] + " failure code 15011"
        best = min(_timed(lambda: scan(CATALOG, text, from_integration=False)) for _ in range(3))
        assert best < 0.005  # typically ~0.3 ms

    @pytest.mark.parametrize("text", ["<" * 100_000, "1" * 100_000, "1-" * 50_000, "a_" * 50_000, "whatsapp " * 20_000])
    def test_pathological_text(self, text: str) -> None:
        best = min(_timed(lambda: scan(CATALOG, text, from_integration=False)) for _ in range(3))
        assert best < 0.1

    @pytest.mark.parametrize(
        "text",
        ["<" * 100_000, "failure " * 12_000, "MessageBird " * 8_000, "15011 errors " * 7_000, "line 404 " * 10_000],
    )
    def test_pathological_text_when_unasked(self, text: str) -> None:
        best = min(_timed(lambda: scan(CATALOG, text, from_integration=True, rule="bird_context")) for _ in range(3))
        assert best < 0.1

    def test_text_beyond_the_cap_is_ignored(self) -> None:
        assert keys(" " * 100_000 + "15011", from_integration=True) == []


def _timed(action: Any) -> float:
    # CPU time, so other processes on a shared CI machine don't make the test flaky.
    start = time.process_time()
    action()
    return time.process_time() - start


# Control characters, any plane, and lone surrogates (json.loads can produce them).
ANY_CHAR = st.characters() | st.characters(categories=["Cs"])
_FRAGMENTS = st.sampled_from(
    ["15011", "14001", "whatsapp", "131047", "INVALID_SPAM", "message ", MESSAGE_ID, "-", ".", "_", "\n", "failure"]
)


@settings(max_examples=200, deadline=None)
@given(
    text=st.lists(_FRAGMENTS | st.text(ANY_CHAR, max_size=30), max_size=300).map("".join),
    from_integration=st.booleans(),
    limit=st.integers(-1, 5),
)
def test_scan_never_raises_and_keeps_its_promises(text: str, from_integration: bool, limit: int) -> None:
    hits = scan(CATALOG, text, from_integration=from_integration, limit=limit)
    assert len(hits) <= max(limit, 0)
    assert len({(hit.kind, hit.key) for hit in hits}) == len(hits)
    for hit in hits:
        if hit.kind == "code":
            assert int(hit.key) in CATALOG.codes


@settings(max_examples=30, deadline=None)
@given(
    text=st.text(ANY_CHAR, min_size=1, max_size=1_000).map(
        lambda sample: (sample * (10_000 // len(sample) + 1))[:10_000]  # Hypothesis can't draw 10 KB at once
    )
)
def test_scan_arbitrary_10_kb_text(text: str) -> None:
    scan(CATALOG, text, from_integration=True)


# --- alerts nobody asked about ------------------------------------------------------------------

BIRD = "MessageBird alert:"


class TestFiguresAreNotCodes:
    """In an unasked scan a number that counts, locates or names something is never a code, even in
    Bird context and in a channel that carries only Bird alerts."""

    @pytest.mark.parametrize(
        "figure",
        [
            "15011 errors in the last 5m",
            "15011 ms",
            "latency 15011 ms",
            "p99 15011",
            "latency_ms=15011",
            "queue depth 15011",
            "queue depth is 15011",
            "> 15011",
            ">= 15011",
            "15011 failed messages",
            "15011 per minute",
            "15011 msg/min",
            "15011%",
            "sent 15011, delivered 20",
            "dashboard shows 15011 sent, 20 delivered",
            "15011 messages delivered today",
            "SDK 15011 released?",
            "5xx: 15011 in 10m on POST /messages",
            "15011 in 5 minutes",
            "callback queue: 15011 pending, 0 failed",
            "bird.messages.failed{service:notify} = 15011",
            "bird.messages.failed = 15011",
            "$15011",
            "10.1.2.3:15011",
            "localhost:15011",
            "redis-main:15011",
            "15011/tcp",
            "/orders/15011",
            "https://shop.example.com/orders?id=15011",
            "#15011",
            "Build #15011 failed",
            "job sms-worker #15011",
            "run 15011",
            "pipeline 15011",
            "incident 15011",
            "PROJ-15011",
            "api-7d9f-15011",
            "pod 15011-abc restarted",
            "sshd[15011]",
            'File "/app/x.py", line 15011, in send',
            "at Service.send(Service.java:15011)",
            "at handler (/app/index.js:15011:12)",
            "15011:12",
            "version 15011",
            "release 15011",
            "build.log 15011.log",
            '"GET /x HTTP/1.1" 200 15011 "-"',
            "**Firing** Value: A=15011, C=1",
            "Values: B0=12, A=15011",
            'bird_messages_total{status="delivery_failed"} 15011',
            "Sent: 120433 · Delivered: 105422 · Failed: 15011 · Delivery rate 87.5%",
            "delivered=20 failed=15011",
        ],
    )
    @pytest.mark.parametrize("rule", ["bird_context", "bird_channel"])
    def test_figure(self, figure: str, rule: Rule) -> None:
        assert unasked(f"{BIRD} {figure}", rule=rule) == []

    @pytest.mark.parametrize(
        "text",
        [
            "failure code 15011",
            "code:15011",
            '"code":15011',
            "failure.code=15011",
            "errorCode: 15011",
            "rejected it with 15011",
            "failure code is 15011",
            "*Failure code*\n15011",
            "what does 15011 mean?",
            "15011 keeps coming back",
            "failures by code: 15011: 340, 14001: 12",
            "top codes: 15011 (770x), 14001 (27x)",
            "failure code | count\n15011 | 340",
            "240 messages failed with failure code 15011 in the last hour",
            "error 15011 - what now?",
            'bird_failure_code{code="15011"} 340',
            "avg:bird.failures{failure_code:15011} > 100",
            "15011 x 340, 14001 x 12 since 01:00",
            "failed: 15011",
            "failed: 15011\nsent: 340",
            "Value: A=3, C=1 failure_code = 15011",
        ],
    )
    def test_codes_beside_figures_still_count(self, text: str) -> None:
        assert "15011" in unasked(f"{BIRD} {text}")

    def test_a_code_counted_times_n_is_still_a_code_but_n_times_alone_is_a_figure(self) -> None:
        assert unasked(f"{BIRD} 15011 x 340, 14001 x 12") == ["15011", "14001"]
        assert unasked(f"{BIRD} 15011 x") == []

    def test_a_title_line_labels_the_number_below_it_but_a_sentence_does_not(self) -> None:
        assert unasked(f"{BIRD}\n*Failed messages*\n15011") == []
        assert unasked(f"{BIRD} we looked at all the messages\n15011 INVALID_SPAM") == ["15011"]


class TestBirdContext:
    @pytest.mark.parametrize(
        "signal",
        [
            "Bird",
            "MessageBird",
            "messagebird",
            "api.bird.com",
            "birdMessageId",
            "sms-messagebird",
            "delivery_failed",
            "sending_failed",
            "INVALID_SPAM",
            "failure.code",
            "failure code",
            "failureCode",
            "failure_code",
            "failure.source",
            '"failure": {',
            f"/workspaces/{OTHER_ID}/channels/{OTHER_ID}/messages/",
        ],
    )
    def test_signal_lets_a_bare_code_count(self, signal: str) -> None:
        assert "14001" in unasked(f"{signal} ... code 14001")

    @pytest.mark.parametrize(
        "text",
        [
            "code 14001",
            "birdwatch says code 14001",
            "blackbird deploy: code 14001",
            "birds: code 14001",
            "failure rate up, code 14001",
            "delivery failed: code 14001",
            "whatsapp webhook verify failed: code 14001",
        ],
    )
    def test_without_context_a_bare_code_is_silent(self, text: str) -> None:
        assert unasked(text) == []
        assert unasked(text, rule="bird_channel") == ["14001"]
        assert keys(text, from_integration=True) == ["14001"]

    def test_generic_names_need_context_distinctive_ones_do_not(self) -> None:
        assert "EXAMPLE_REJECTED" not in DISTINCTIVE_NAMES
        assert unasked("EXAMPLE_REJECTED from the tax API") == []
        assert unasked("Bird: EXAMPLE_REJECTED") == ["14001"]
        assert unasked("EXAMPLE_REJECTED from the tax API", rule="bird_channel") == ["14001"]
        assert unasked("INVALID_SPAM on the promo campaign") == ["15011"]

    def test_one_word_names_need_context(self) -> None:
        assert unasked("EXPIRED") == []
        assert unasked("Bird: EXPIRED") == ["14001"]

    def test_message_ids_need_context(self) -> None:
        assert unasked(f"kafka: failed to process message {MESSAGE_ID}") == []
        assert unasked(f"Bird: failed to send message {MESSAGE_ID}") == [MESSAGE_ID]
        assert unasked(f"failed message {MESSAGE_ID}", rule="bird_channel") == [MESSAGE_ID]

    def test_every_distinctive_name_is_a_name_in_the_real_catalog(self) -> None:
        assert set(default_catalog().codes_by_name) >= DISTINCTIVE_NAMES


class TestOrdinaryWordSources:
    @pytest.mark.parametrize(
        "text",
        [
            'Bird failure. File "/app/api.py", line 404, in handler',
            "Bird failure: see line 500 of the config",
            "Bird failure via line 404",
            "Bird: wa 131047 pods restarting",
            "LINE 404: SELECT * FROM orders",  # psql's error layout, no Bird context
            "whatsapp 131047 messages queued",
        ],
    )
    def test_not_a_source(self, text: str) -> None:
        assert unasked(text) == []

    @pytest.mark.parametrize(
        "text",
        [
            "Bird failure, source: line, code 404",
            'Bird failure {"source":{"name":"line","code":"404"}}',
            "failure.source.name=line failure.source.code=404",
            "Bird failure via LINE 404",
            "Bird delivery_failed\nSource\nline\nSource code\n404",
        ],
    )
    def test_clearly_named_source(self, text: str) -> None:
        assert unasked(text) == ["line:404"]

    def test_brand_names_need_no_label_but_bird_context(self) -> None:
        assert unasked("Bird: whatsapp 131047 again on the promo", from_integration=False) == ["whatsapp:131047"]
        assert unasked("whatsapp 131047 again on the promo", from_integration=False) == []
        assert unasked("whatsapp 131047 again on the promo", rule="bird_channel") == ["whatsapp:131047"]

    def test_when_asked_the_old_rules_hold(self) -> None:
        assert keys('File "/app/api.py", line 404, in handler') == ["line:404"]
        assert keys("wa 131047") == ["whatsapp:131047"]


@settings(max_examples=200, deadline=None)
@given(
    text=st.lists(
        _FRAGMENTS | st.sampled_from(["Bird ", "line ", "404", " errors", "#", ":", "source: ", "EXPIRED"]), max_size=80
    ).map("".join),
    from_integration=st.booleans(),
)
def test_unasked_rules_only_ever_remove_hits(text: str, from_integration: bool) -> None:
    asked = set(keys(text, from_integration=from_integration))
    channel = set(keys(text, from_integration=from_integration, rule="bird_channel"))
    context = set(keys(text, from_integration=from_integration, rule="bird_context"))
    assert context <= channel <= asked


_TRAPS = [
    "{n} errors in the last 5m",
    "latency {n} ms",
    "queue depth {n}",
    "> {n}",
    "{ip}:{n}",
    "/orders/{n}",
    "Build #{n} failed",
    "run {n}",
    "api-7d9f-{n}",
    'File "/app/x.py", line {n}, in f',
    "at Foo.java:{n}",
    "version {n}",
    "{n} messages delivered",
]


@settings(max_examples=200, deadline=None)
@given(
    prefix=st.sampled_from(["", "Bird ", "MessageBird failure: ", "delivery_failed ", "failure.code "]),
    trap=st.sampled_from(_TRAPS),
    number=st.sampled_from(["15011", "14001"]),
    ip=st.ip_addresses(v=4).map(str),
    rule=st.sampled_from(["bird_context", "bird_channel"]),
    tail=st.text(st.characters(categories=["Zs", "Po"]), max_size=3),
)
def test_a_figure_is_never_a_code_whatever_surrounds_it(
    prefix: str, trap: str, number: str, ip: str, rule: Rule, tail: str
) -> None:
    text = prefix + trap.format(n=number, ip=ip) + tail
    assert number not in unasked(text, rule=rule), text
