"""Every entry is actionable and sourced: causes, ordered steps, a retry verdict with its reason, who acts,
the authority behind the meaning, a link, the URLs its facts come from and the date they were last checked.

The models require these fields; this test reads them table by table, so a gap is named where it is.
"""

from __future__ import annotations

from datetime import date

import pytest

from catalog import default_catalog
from catalog.markdown import missing_fields
from catalog.models import CodeTable, Confidence

CATALOG = default_catalog()

# Who may stand behind each confidence level, as the first word(s) of ``authority``.
AUTHORITIES = {
    Confidence.BIRD: ("Bird",),
    Confidence.PLATFORM: ("Meta", "LINE", "Apple", "SparkPost"),
    Confidence.STANDARD: ("RFC ", "ITU-T ", "3GPP "),
}
# A typical industry meaning may name the convention it follows ("GSM 09.02 MAP", "RFC 9110" for an HTTP
# status), but never an authority that would make it documented.
DOCUMENTING = ("Bird", "Meta", "LINE", "Apple", "SparkPost")


def table_gaps(table: CodeTable) -> list[str]:
    gaps = [f"table {table.id}: {name}" for name in ("sources", "checked") if not getattr(table, name)]
    for entry in CATALOG.data.platform_codes:
        if entry.table == table.id and (missing := missing_fields(entry)):
            gaps.append(f"{entry.table}/{entry.code}: {', '.join(missing)}")
    return gaps


@pytest.mark.parametrize("table_id", sorted(CATALOG.tables))
def test_every_entry_of_the_table_is_complete(table_id: str) -> None:
    gaps = table_gaps(CATALOG.tables[table_id])
    assert not gaps, "incomplete entries:\n" + "\n".join(gaps)


def test_a_missing_field_is_reported() -> None:
    entry = CATALOG.platform_codes[("whatsapp-cloud", "131047")]
    assert missing_fields(entry) == []
    stripped = entry.model_copy(update={"causes": [], "retry_note": None, "sources": []})
    assert missing_fields(stripped) == ["causes", "retry_note", "sources"]


def sourced_entries() -> list[tuple[str, list[str], date | None]]:
    data = CATALOG.data
    return [
        *((f"family {f.prefix}", f.sources, f.checked) for f in data.families),
        *((f"code {c.code}", c.sources, c.checked) for c in data.codes),
        *((f"source {s.name}", s.sources, s.checked) for s in data.sources),
        *((f"status {s.name}", s.sources, s.checked) for s in data.statuses),
        *((f"table {t.id}", t.sources, t.checked) for t in data.tables),
        *((f"{p.table}/{p.code}", p.sources, p.checked) for p in data.platform_codes),
    ]


@pytest.mark.parametrize("kind", ["family", "code", "source", "status"])
def test_every_bird_entry_has_sources_and_a_checked_date(kind: str) -> None:
    gaps = [
        label for label, sources, checked in sourced_entries() if label.startswith(kind) and not (sources and checked)
    ]
    assert not gaps, gaps


def test_sources_are_web_addresses_and_checked_dates_are_not_in_the_future() -> None:
    for label, sources, checked in sourced_entries():
        assert all(url.startswith("https://") for url in sources), label
        assert checked is None or checked <= date.today(), label


def test_authority_matches_the_confidence_level() -> None:
    wrong = [
        f"{p.table}/{p.code}: {p.confidence} by {p.authority!r}"
        for p in CATALOG.data.platform_codes
        if (
            p.authority.startswith(DOCUMENTING)
            if p.confidence == Confidence.INDUSTRY
            else not p.authority.startswith(AUTHORITIES[p.confidence])
        )
    ]
    assert not wrong, wrong


def test_an_entry_documented_by_bird_links_to_bird() -> None:
    for entry in CATALOG.data.platform_codes:
        if entry.confidence == Confidence.BIRD and entry.docs_url is not None:
            assert entry.docs_url.startswith("https://docs.bird.com/"), f"{entry.table}/{entry.code}"
