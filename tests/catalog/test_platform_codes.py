"""Platform codes and the Bird failure codes they usually come with (``usual_codes``).

The product requirement: every platform code lists at least one Bird failure code it usually comes with.
Bird publishes this mapping only through two SMS examples (extended code 1 with 15005 and 34 with 15001);
the other lists are inferred from the meanings, so only those two pairings are pinned here.
"""

from __future__ import annotations

import pytest

from catalog import default_catalog
from catalog.models import PlatformCode

CATALOG = default_catalog()
ENTRIES = CATALOG.data.platform_codes
IDS = [f"{entry.table}/{entry.code}" for entry in ENTRIES]

# Bird's own examples of a failure with its platform source code.
DOCUMENTED = {
    ("sms-extended", "1"): 15005,  # UNKNOWN_SUBSCRIBER
    ("sms-extended", "34"): 15001,  # UNKNOWN_FAILURE
}


def test_there_are_platform_codes() -> None:
    assert ENTRIES


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_every_platform_code_lists_a_usual_bird_code(entry: PlatformCode) -> None:
    assert entry.usual_codes, f"{entry.table}/{entry.code} lists no Bird failure code"


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_usual_codes_exist_in_the_catalog(entry: PlatformCode) -> None:
    unknown = [code for code in entry.usual_codes if code not in CATALOG.codes]
    assert not unknown, f"{entry.table}/{entry.code} names unknown Bird codes {unknown}"


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_usual_codes_are_not_repeated(entry: PlatformCode) -> None:
    assert len(set(entry.usual_codes)) == len(entry.usual_codes)


@pytest.mark.parametrize(("key", "bird_code"), DOCUMENTED.items(), ids=[f"{t}/{c}" for t, c in DOCUMENTED])
def test_documented_sms_mappings_hold(key: tuple[str, str], bird_code: int) -> None:
    assert key in CATALOG.platform_codes
    assert bird_code in CATALOG.platform_codes[key].usual_codes


# -- corrections checked against Meta's documentation ------------------------------------------------


def entry(table: str, code: str) -> PlatformCode:
    return CATALOG.platform_codes[(table, code)]


def test_whatsapp_131052_asks_the_user_to_resend_their_media() -> None:
    media = entry("whatsapp-cloud", "131052")
    assert "user sent" in media.meaning
    assert media.owners == ["end_user"]
    assert media.retry == "never"
    assert any("send it again" in step for step in media.fix)
    assert not any("re-host" in step for step in media.fix)


def test_whatsapp_132007_is_a_policy_violation_not_a_formatting_slip() -> None:
    template = entry("whatsapp-cloud", "132007")
    assert "violates a WhatsApp policy" in template.meaning
    assert not any(word in " ".join(template.fix).lower() for word in ("newline", "whitespace", "tabs"))


def test_messenger_invalid_json_reply_warns_that_a_resend_duplicates() -> None:
    reply = entry("messenger", "1-1357046")
    assert reply.retry == "never"
    assert "twice" in (reply.retry_note or "")
    assert reply.fix[0].startswith("Do not resend")


def test_whatsapp_131049_waits_at_least_24_hours() -> None:
    held_back = entry("whatsapp-cloud", "131049")
    assert held_back.retry == "backoff"
    assert "24 hours" in (held_back.retry_note or "")
    assert any("at least 24 hours" in step for step in held_back.fix)


@pytest.mark.parametrize(
    "key",
    [
        ("whatsapp-cloud", "131050"),
        ("whatsapp-cloud", "131057"),
        ("whatsapp-cloud", "130497"),
        ("whatsapp-cloud", "1013"),
        ("messenger", "10-2018278"),
        ("messenger", "100-2018001"),
        ("messenger", "551-1545041"),
    ],
    ids=lambda key: "/".join(key),
)
def test_codes_meta_documents_are_labelled_as_meta_documents_them(key: tuple[str, str]) -> None:
    assert entry(*key).confidence == "platform"
    assert (entry(*key).authority or "").startswith("Meta")


@pytest.mark.parametrize(
    "code", ["1", "2", "10", "100", "200", "368", "551", "613", "1200", "10-2534022", "10-1893063", "100-2018047"]
)
def test_messenger_and_instagram_codes_are_covered_bare_and_with_subcodes(code: str) -> None:
    assert ("messenger", code) in CATALOG.platform_codes


@pytest.mark.parametrize(
    "code", ["1", "2", "33", "132068", "132069", "133000", "133005", "133006", "133008", "133010", "133016"]
)
def test_whatsapp_generic_registration_and_flows_codes_are_covered(code: str) -> None:
    assert ("whatsapp-cloud", code) in CATALOG.platform_codes
