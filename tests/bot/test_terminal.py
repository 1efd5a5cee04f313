"""bot.terminal.render and ``birdwatch explain``."""

from __future__ import annotations

import json
from typing import get_args

import pytest

from bot.cli import main
from bot.terminal import render
from catalog import Explainer, default_catalog
from catalog.answers import Answer, DiagnosisAnswer, Match, MatchesAnswer, NotFoundAnswer
from catalog.diagnosis import Diagnosis

# One query per answer kind (and per diagnosis shape), with words its rendering must contain.
KINDS = {
    "code": (
        "15011",
        ["15011 INVALID_SPAM", "15XXX Platform errors", "Likely causes:", "1. ", "Don't retry", "Docs: https://"],
    ),
    "code with alias": ("BILLING_FAILURE", ["12007 BILLING_FALIURE"]),
    "source": ("whatsapp", ["source whatsapp", "Code table: WhatsApp Cloud API error codes", "Docs: https://"]),
    "source without table": ("email", ["source email-messagebird", "Docs: https://"]),
    "platform_code": (
        "whatsapp 131047",
        [
            "whatsapp 131047: Re-engagement required",
            "Likely causes:",
            "What to do now:",
            "Retry only after fixing the cause: Free-form messages are refused",
            "Who acts: your team",
            "Entry: Documented by Meta.",
            "14005",
            "Docs: https://developers.facebook.com/",
        ],
    ),
    "platform_code of industry meaning": (
        "instagram 10-2534022",
        ["Entry: Typical industry meaning, not documented by Bird."],
    ),
    "family": ("14xxx", ["14XXX: Customer errors", "14001 INVALID_BALANCE", "14005 INVALID_SESSION_WINDOW"]),
    "diagnosis from reason": (
        "details: unknown subscriber; reason: unknown_subscriber; code: 1",
        [
            "15005 UNKNOWN_SUBSCRIBER",
            "Platform code 1 (SMS Platform Extended Error Codes)",
            "reason=unknown_subscriber",
        ],
    ),
    "diagnosis from json": (
        '{"status": "delivery_failed", "failure": {"code": 15009, "source": {"name": "whatsapp", "code": "999999"}}}',
        [
            "Status: delivery_failed (Failed after the platform took it)",
            "Failure code 15009 is not in the catalog",
            "Not in the catalog: failure code 15009, whatsapp code 999999",
        ],
    ),
    "matches": ("opted out", ["entries match “opted out”", "15016 OPTEDOUT_RECEIVER", "birdwatch explain 15016"]),
    "not_found": ("15009", ["15009 is not in the catalog", "near: 15008 UNSUPPORTED_ACTION"]),
    "did_you_mean": ("INVALID_SPMA", ["Did you mean 15011 INVALID_SPAM? birdwatch explain 15011"]),
    "status": (
        "delivery_failed",
        ["status delivery_failed: Failed after the platform took it", "/message <workspace> <message-id>"],
    ),
    "message_id": (
        "3fa85f64-5717-4562-b3fc-2c963f66afa6",
        ["is a Bird message id", "/message <workspace> 3fa85f64-5717-4562-b3fc-2c963f66afa6"],
    ),
    "message_id from a url": (
        "https://api.bird.com/workspaces/2f1c0a9e-5b8d-4a4e-9c1e-0d3a7b6c5e4f/messages/3fa85f64-5717-4562-b3fc-2c963f66afa6",
        ["/message 2f1c0a9e-5b8d-4a4e-9c1e-0d3a7b6c5e4f 3fa85f64-5717-4562-b3fc-2c963f66afa6"],
    ),
    "corrected source": ("whatsap 131047", ["Read “whatsap” as the source whatsapp.", "whatsapp 131047: "]),
    "usage": ("", ["Explain a Bird message failure", "birdwatch explain 15011"]),
    "usage with problem": ('{"foo": 1}', ["That looks like JSON", "birdwatch explain 15011"]),
}


@pytest.fixture(scope="module")
def explainer() -> Explainer:
    return Explainer(default_catalog())


@pytest.mark.parametrize("case", list(KINDS))
def test_every_answer_kind_renders(explainer: Explainer, case: str) -> None:
    query, expected = KINDS[case]
    text = render(explainer.explain(query))
    assert text.strip()
    for words in expected:
        assert words in text, f"{words!r} missing from:\n{text}"


def test_answer_kinds_cover_every_kind(explainer: Explainer) -> None:
    kinds = {explainer.explain(query).kind for query, _ in KINDS.values()}
    assert kinds == {kind.model_fields["kind"].default for kind in get_args(Answer)}


def test_empty_diagnosis_renders() -> None:
    assert render(DiagnosisAnswer(diagnosis=Diagnosis())) == "Nothing to explain."


def test_a_list_of_one_is_one_entry_not_one_entries() -> None:
    one = MatchesAnswer(query="stop", matches=[Match(kind="code", query="15016", label="15016", summary="s")])
    assert render(one).startswith("1 entry matches “stop”:")
    two = one.model_copy(update={"matches": one.matches * 2})
    assert render(two).startswith("2 entries match “stop”:")


def test_not_found_without_suggestions_renders_only_the_message() -> None:
    assert render(NotFoundAnswer(query="x", message="Nothing here.")) == "Nothing here."


def test_every_catalog_entry_renders_within_88_columns(explainer: Explainer) -> None:
    catalog = explainer.catalog
    queries = [str(code) for code in catalog.codes] + list(catalog.sources) + [f"{p}xxx" for p in catalog.families]
    queries += [f"{catalog.first_source_of(table).name} {code}" for table, code in catalog.platform_codes]
    for query in queries:
        answer = explainer.explain(query)
        assert answer.kind in {"code", "source", "family", "platform_code"}, query
        for line in render(answer).splitlines():
            # URLs cannot be wrapped; everything else can.
            assert len(line) <= 88 or "://" in line, f"{query}: {line!r}"


# -- the CLI ---------------------------------------------------------------------------------------


def test_explain_prints_the_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "15011"]) == 0
    out = capsys.readouterr().out
    assert "INVALID_SPAM" in out
    assert out.startswith("15011 INVALID_SPAM")


def test_explain_joins_words(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "invalid", "spam"]) == 0
    assert "15011 INVALID_SPAM" in capsys.readouterr().out


def test_explain_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--json", "15011"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "code"
    assert data["code"]["code"] == 15011
    assert data["code"]["name"] == "INVALID_SPAM"
    assert data["family"]["prefix"] == 15


def test_explain_json_diagnosis(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--json", "details: unknown subscriber; reason: unknown_subscriber; code: 1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "diagnosis"
    assert data["diagnosis"]["code"]["code"] == 15005


@pytest.mark.parametrize(
    ("argv", "kind"),
    [
        (["explain", "15009"], "not_found"),
        (["explain", "INVALID_SPMA"], "not_found"),
        (["explain", "opted", "out"], "matches"),
        (["explain"], "usage"),
        (["explain", "help"], "usage"),
    ],
)
def test_indefinite_answers_exit_1(capsys: pytest.CaptureFixture[str], argv: list[str], kind: str) -> None:
    assert main(argv) == 1
    assert capsys.readouterr().out.strip()
    assert main([*argv[:1], "--json", *argv[1:]]) == 1
    assert json.loads(capsys.readouterr().out)["kind"] == kind


def test_not_found_prints_the_family(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "15009"]) == 1
    assert "15XXX" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["frobnicate"])
    assert exited.value.code == 2
