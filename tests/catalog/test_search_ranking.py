"""Word-search ranking rules: legacy platform codes, the source's name, and names headed by the query."""

from __future__ import annotations

import pytest

from catalog import Catalog, Explainer
from catalog.answers import Answer, CodeAnswer, MatchesAnswer, PlatformCodeAnswer


def lead(answer: Answer) -> str:
    """The entry an answer leads with: "15005", "whatsapp 131026"."""
    if isinstance(answer, CodeAnswer):
        return str(answer.code.code)
    if isinstance(answer, PlatformCodeAnswer):
        return f"{answer.source.name} {answer.entry.code}"
    assert isinstance(answer, MatchesAnswer), answer
    return answer.matches[0].query


def test_legacy_codes_are_marked_by_their_data(catalog: Catalog) -> None:
    legacy = {(e.table, e.code) for e in catalog.data.platform_codes if e.legacy}
    named_legacy = {(e.table, e.code) for e in catalog.data.platform_codes if "(legacy)" in e.name}
    assert legacy == named_legacy
    assert ("whatsapp-cloud", "470") in legacy


@pytest.mark.parametrize(
    ("query", "current", "legacy"),
    [
        ("not on whatsapp", "whatsapp 131026", "whatsapp 1013"),
        (
            "Message failed to send because more than 24 hours have passed since the customer last replied.",
            "whatsapp 131047",
            "whatsapp 470",
        ),
        ("whatsapp session window", "whatsapp 131047", "whatsapp 470"),
    ],
)
def test_a_legacy_code_ranks_below_its_current_equivalent(
    explainer: Explainer, query: str, current: str, legacy: str
) -> None:
    answer = explainer.explain(query)
    assert lead(answer) == current
    if isinstance(answer, MatchesAnswer):
        queries = [m.query for m in answer.matches]
        assert legacy not in queries or queries.index(legacy) > queries.index(current)


def test_the_legacy_code_is_still_found_by_its_number(explainer: Explainer) -> None:
    assert lead(explainer.explain("whatsapp 470")) == "whatsapp 470"


def test_a_source_named_in_its_own_table_entries_does_not_decide(explainer: Explainer) -> None:
    # "WhatsApp" in 80007's name is no reason to prefer it: every entry of the table is WhatsApp's.
    assert lead(explainer.explain("whatsapp rate limit")) == "whatsapp 130429"


def test_a_source_named_in_a_shared_table_still_decides(explainer: Explainer) -> None:
    # Facebook and Instagram share the Messenger table: "instagram" tells its entries apart.
    # (Shown under facebook, the table's first source.)
    assert lead(explainer.explain("instagram outside window")).endswith(" 10-2534022")


def test_a_name_headed_by_the_query_outranks_names_of_kinds_of_it(explainer: Explainer) -> None:
    # Every one of these has the keyword "rate limit"; only 130429's name starts with it.
    answer = explainer.explain("whatsapp rate limit")
    assert isinstance(answer, MatchesAnswer)
    assert [m.query for m in answer.matches][:1] == ["whatsapp 130429"]
    assert {"whatsapp 4", "whatsapp 80007"} <= {m.query for m in answer.matches}


@pytest.mark.parametrize(
    ("query", "code"),
    [("unsubscribed", 15016), ("customer sent STOP", 15016), ("dead number", 15005), ("phone switched off", 15006)],
)
def test_generic_symptoms_lead_to_the_bird_code(explainer: Explainer, query: str, code: int) -> None:
    assert lead(explainer.explain(query)) == str(code)
