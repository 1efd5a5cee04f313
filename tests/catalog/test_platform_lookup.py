"""Looking up a source's code: Messenger's code/code-subcode fallback, e-mail and voice tables.

These tests build their own small tables on a copy of the data (the packaged e-mail and voice
tables are curated separately), so they test the lookup, not whichever entries exist today.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from catalog import Catalog, Explainer, load_catalog
from catalog.answers import MatchesAnswer, NotFoundAnswer, PlatformCodeAnswer
from catalog.loader import DATA_FILES, PLATFORM_CODES_DIR

DATA_DIR = Path(__file__).resolve().parents[2] / "catalog" / "data"
TEST_SOURCES = {"email-messagebird", "voice"}


def entry(table: str, code: str, name: str, keywords: list[str]) -> str:
    # No usual Bird codes: the catalog checks them against each code's related sources both ways.
    return f"""
[[platform_code]]
table = "{table}"
code = "{code}"
name = "{name}"
meaning = "{name}, as the test table has it."
causes = ["The test says so."]
fix = ["Do what the test says."]
retry = "after_fix"
retry_note = "A test entry."
owners = ["your_team"]
usual_codes = []
confidence = "standard"
authority = "Test"
docs_url = "https://example.com/{table}"
keywords = {keywords!r}
sources = ["https://example.com/{table}"]
checked = 2026-12-01
""".replace("'", '"')


def table(table_id: str, name: str, used_by: list[str]) -> str:
    return f"""
[[table]]
id = "{table_id}"
name = "{name}"
docs_url = "https://example.com/{table_id}"
used_by = {used_by!r}
sources = ["https://example.com/{table_id}"]
checked = 2026-12-01
""".replace("'", '"')


TABLES = {
    "test-bounces.toml": table("test-bounces", "Test bounce classes", ["email-messagebird"])
    + entry("test-bounces", "10", "Invalid recipient", ["user unknown", "invalid recipient"])
    + entry("test-bounces", "22", "Mailbox full", ["mailbox full", "over quota"]),
    "test-smtp.toml": table("test-smtp", "Test SMTP enhanced status codes", ["email-messagebird"])
    + entry("test-smtp", "5.1.1", "Bad destination mailbox address", ["user unknown", "no such user"])
    + entry("test-smtp", "5.7.1", "Delivery not authorized", ["blocked by spam filter", "spam"])
    + entry("test-smtp", "4.2.2", "Mailbox full", ["mailbox full", "over quota"]),
    "test-sip.toml": table("test-sip", "Test SIP responses", ["voice"])
    + entry("test-sip", "486", "Busy here", ["busy", "line busy"]),
    "test-q850.toml": table("test-q850", "Test Q.850 causes", ["voice"])
    + entry("test-q850", "16", "Normal call clearing", ["normal clearing", "hung up"]),
    # Codes Meta does not use, so they cannot collide with the real Messenger table.
    "test-meta.toml": table("test-meta", "Test Meta codes", ["facebook", "instagram"])
    + entry("test-meta", "8801-1000001", "First subcode", ["first"])
    + entry("test-meta", "8801-1000002", "Second subcode", ["second"])
    + entry("test-meta", "8802-1000003", "Only subcode", ["only"])
    + entry("test-meta", "8803", "Bare code", ["bare"])
    + entry("test-meta", "8803-1000004", "Known subcode", ["known"]),
}


def _used_by(path: Path) -> set[str]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {source for t in data.get("table", []) for source in t.get("used_by", [])}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    directory = tmp_path_factory.mktemp("data")
    for name in DATA_FILES:
        shutil.copy(DATA_DIR / name, directory / name)
    shutil.copytree(DATA_DIR / PLATFORM_CODES_DIR, directory / PLATFORM_CODES_DIR)
    # Whatever e-mail and voice tables the packaged data has, these tests use only their own.
    for path in (directory / PLATFORM_CODES_DIR).glob("*.toml"):
        if _used_by(path) & TEST_SOURCES:
            path.unlink()
    for name, text in TABLES.items():
        (directory / PLATFORM_CODES_DIR / name).write_text(text, encoding="utf-8")
    return load_catalog(directory)


@pytest.fixture(scope="module")
def explainer(small: Catalog) -> Explainer:
    return Explainer(small)


def lookup(catalog: Catalog, source: str, code: str) -> tuple[str, list[str]]:
    found = catalog.platform_codes_for(catalog.sources[source], code)
    return found.how, [e.code for e in found.entries]


# -- Catalog.platform_codes_for ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "code", "how", "codes"),
    [
        ("facebook", "8803-1000004", "exact", ["8803-1000004"]),
        ("facebook", "8803", "exact", ["8803"]),
        ("instagram", "8803-9999999", "without_subcode", ["8803"]),
        ("facebook", "8802", "with_subcode", ["8802-1000003"]),
        ("instagram", "8801", "with_subcode", ["8801-1000001", "8801-1000002"]),
        ("facebook", "1000003", "by_subcode", ["8802-1000003"]),
        ("facebook", "8804", "by_subcode", []),
        ("facebook", "8804-1", "without_subcode", []),
        ("email-messagebird", "5.1.1", "exact", ["5.1.1"]),
        ("email-messagebird", "10", "exact", ["10"]),
        ("voice", "486", "exact", ["486"]),
        ("voice", "16", "exact", ["16"]),
        # A source finds nothing in tables it does not follow.
        ("whatsapp", "5.1.1", "by_subcode", []),
        ("voice", "5.1.1", "by_subcode", []),
    ],
)
def test_platform_codes_for(small: Catalog, source: str, code: str, how: str, codes: list[str]) -> None:
    assert lookup(small, source, code) == (how, codes)


def test_platform_code_for_stays_exact(small: Catalog) -> None:
    # What a diagnosis shows as the platform code must be the code Bird reported.
    assert small.platform_code_for(small.sources["facebook"], "8803-9999999") is None
    entry = small.platform_code_for(small.sources["facebook"], "8803")
    assert entry is not None
    assert entry.code == "8803"


# -- through the explainer ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "source", "table", "code"),
    [
        ("email 5.1.1", "email-messagebird", "test-smtp", "5.1.1"),
        ("email-messagebird 5.7.1", "email-messagebird", "test-smtp", "5.7.1"),
        ("email-messagebird 10", "email-messagebird", "test-bounces", "10"),
        ("email 22", "email-messagebird", "test-bounces", "22"),
        ("voice 486", "voice", "test-sip", "486"),
        ("voice 16", "voice", "test-q850", "16"),
        ("calls 486", "voice", "test-sip", "486"),
        (
            "550 5.1.1 <j@example.com>: Recipient address rejected: User unknown",
            "email-messagebird",
            "test-smtp",
            "5.1.1",
        ),
        ("facebook 8803-1000004", "facebook", "test-meta", "8803-1000004"),
    ],
)
def test_email_voice_and_meta_codes(explainer: Explainer, query: str, source: str, table: str, code: str) -> None:
    answer = explainer.explain(query)
    assert isinstance(answer, PlatformCodeAnswer), answer
    assert (answer.source.name, answer.entry.table, answer.entry.code) == (source, table, code)
    assert answer.note is None


def test_an_unknown_subcode_falls_back_to_its_code_and_says_so(explainer: Explainer) -> None:
    answer = explainer.explain("instagram 8803-9999999")
    assert isinstance(answer, PlatformCodeAnswer)
    assert (answer.source.name, answer.entry.code) == ("instagram", "8803")
    assert answer.note == "Subcode 9999999 is not in the catalog: this is what code 8803 means in general."


def test_a_bare_code_known_only_with_one_subcode(explainer: Explainer) -> None:
    answer = explainer.explain("facebook 8802")
    assert isinstance(answer, PlatformCodeAnswer)
    assert answer.entry.code == "8802-1000003"
    assert answer.note == "The catalog has 8802 only as 8802-1000003."


def test_a_bare_code_known_with_several_subcodes_lists_them(explainer: Explainer) -> None:
    answer = explainer.explain("instagram 8801")
    assert isinstance(answer, MatchesAnswer)
    assert [m.query for m in answer.matches] == ["instagram 8801-1000001", "instagram 8801-1000002"]
    for match in answer.matches:
        opened = explainer.explain(match.query)
        assert isinstance(opened, PlatformCodeAnswer)
        assert opened.source.name == "instagram"


def test_a_subcode_alone_finds_its_entry(explainer: Explainer) -> None:
    answer = explainer.explain("1000003")
    assert isinstance(answer, PlatformCodeAnswer)
    assert answer.entry.code == "8802-1000003"


@pytest.mark.parametrize(("query", "code"), [("email mailbox full", "22"), ("email blocked by spam filter", "5.7.1")])
def test_words_with_a_named_source_rank_its_tables_first(explainer: Explainer, query: str, code: str) -> None:
    answer = explainer.explain(query)
    first = answer.matches[0].query if isinstance(answer, MatchesAnswer) else None
    if isinstance(answer, PlatformCodeAnswer):
        first = f"{answer.source.name} {answer.entry.code}"
    assert first == f"email-messagebird {code}", answer


def test_words_alone_include_the_platform_entries(explainer: Explainer) -> None:
    answer = explainer.explain("mailbox full")
    assert isinstance(answer, MatchesAnswer)
    queries = [m.query for m in answer.matches]
    assert "15013" in queries
    assert {"email-messagebird 22", "email-messagebird 4.2.2"} & set(queries)


@pytest.mark.parametrize(
    ("query", "table"), [("voice 999", "Test SIP responses"), ("email 5.9.9", "Test bounce classes")]
)
def test_an_unknown_code_of_a_source_with_tables(explainer: Explainer, query: str, table: str) -> None:
    answer = explainer.explain(query)
    assert isinstance(answer, NotFoundAnswer)
    assert answer.source is not None
    assert table in answer.message
