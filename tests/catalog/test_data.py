"""The packaged catalog: it loads, it matches Bird's documentation, and the loader rejects bad data."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from catalog import Catalog, CatalogError, default_catalog, load_catalog
from catalog.loader import DATA_FILES, PLATFORM_CODES_DIR

DATA_DIR = Path(__file__).resolve().parents[2] / "catalog" / "data"
# Bird's "Message Failure Codes" and "Message Failure Sources" pages, as captured for this project.
SEEDS_DIR = Path(os.environ.get("BIRDWATCH_SEEDS", "/work/shared/seeds"))
CODES_SEED = SEEDS_DIR / "002_24ed13707f8859fe.txt"
SOURCES_SEED = SEEDS_DIR / "000_63407c01d701b564.txt"

# The same facts written out, so a clean clone without the captured pages still checks them.
# BILLING_FALIURE is Bird's own spelling; the catalog keeps it and adds the alias BILLING_FAILURE.
DOCUMENTED_CODES = {
    11001: "INVALID_CHANNEL_CONFIGURATION",
    11002: "INVALID_INPUT",
    11003: "INVALID_RECEIVER",
    11004: "INVALID_CONTENT",
    11005: "INVALID_SENDER",
    12001: "DEPENDENCY_ERROR",
    12002: "UNSUPPORTED_TYPE",
    12003: "UNSUPPORTED_DESTINATION",
    12004: "UNKNOWN_PRODUCT",
    12005: "UNKNOWN_ROUTING",
    12006: "INVALID_MESSAGE",
    12007: "BILLING_FALIURE",
    12008: "NETWORK_TIMEOUT",
    14001: "INVALID_BALANCE",
    14002: "INVALID_DESTINATION",
    14003: "INVALID_TEMPLATE",
    14004: "UNSUPPORTED_MEDIA_TYPE",
    14005: "INVALID_SESSION_WINDOW",
    15001: "UNKNOWN_FAILURE",
    15002: "INVALID_PERMISSION",
    15003: "FAILURE_ENTITY_PROCESSING",
    15004: "INVALID_PAYMENT",
    15005: "UNKNOWN_SUBSCRIBER",
    15006: "FAILURE_SUBSCRIBER",
    15007: "FAILURE_ROUTING",
    15008: "UNSUPPORTED_ACTION",
    15010: "INVALID_SUBSCRIPTION",
    15011: "INVALID_SPAM",
    15012: "INVALID_CAPACITY",
    15013: "FAILURE_MESSAGE_BOUNCED",
    15014: "INVALID_BLOCKED_CHANNEL",
    15015: "FAILURE_POLICY",
    15016: "OPTEDOUT_RECEIVER",
}
DOCUMENTED_SOURCES = {
    "pre-processing",
    "accounting",
    "contact",
    "touchpoint",
    "sms-messagebird",
    "email-messagebird",
    "whatsapp",
    "facebook",
    "line",
    "apple-business-chat",
    "voice",
    "instagram",
}


def _seed(path: Path) -> str:
    if not path.is_file():
        pytest.skip(f"captured docs page {path} is not available")
    return path.read_text(encoding="utf-8")


def seed_codes() -> set[tuple[int, str]]:
    pairs = {(int(code), name) for name, code in re.findall(r"([A-Z_]+):\s*(1[1245]\d{3})", _seed(CODES_SEED))}
    assert len(pairs) == 33, f"the codes page should list 33 codes, parsed {len(pairs)}"
    return pairs


def seed_sources() -> set[str]:
    # Each source name stands alone on its line, right before its "It is expected when ..." sentence.
    names = set(re.findall(r"^([a-z][a-z-]*)\nIt is expected when", _seed(SOURCES_SEED), re.MULTILINE))
    assert len(names) == 12, f"the sources page should list 12 sources, parsed {sorted(names)}"
    return names


def platform_entries_in_files() -> int:
    """How many platform codes the data files hold, counted from the text rather than the loader."""
    files = (DATA_DIR / PLATFORM_CODES_DIR).glob("*.toml")
    return sum(path.read_text(encoding="utf-8").count("\n[[platform_code]]\n") for path in files)


def catalog_codes(catalog: Catalog) -> set[tuple[int, str]]:
    return {(code.code, code.name) for code in catalog.data.codes}


# -- the packaged catalog --------------------------------------------------------------------------


def test_packaged_catalog_loads_with_every_kind_of_entry(catalog: Catalog) -> None:
    assert len(catalog.codes) == 33
    assert set(catalog.families) == {11, 12, 14, 15}
    assert len(catalog.sources) == 12
    assert len(catalog.platform_codes) == platform_entries_in_files()
    assert set(catalog.tables) == {
        "sms-extended",
        "whatsapp-cloud",
        "messenger",
        "line",
        "apple-messages",
        "email-bounce-classes",
        "smtp-status",
        "voice-sip",
        "voice-q850",
    }
    assert load_catalog(DATA_DIR).data == catalog.data


def test_default_catalog_is_loaded_once() -> None:
    assert default_catalog() is default_catalog()


def test_every_documented_code_is_present_with_its_exact_name(catalog: Catalog) -> None:
    assert catalog_codes(catalog) == seed_codes()


def test_catalog_codes_match_the_documented_list_without_the_captured_page(catalog: Catalog) -> None:
    assert catalog_codes(catalog) == set(DOCUMENTED_CODES.items())


def test_written_out_code_list_matches_the_captured_page() -> None:
    assert set(DOCUMENTED_CODES.items()) == seed_codes()


def test_billing_failure_alias_finds_the_misspelt_documented_code(catalog: Catalog) -> None:
    assert catalog.codes_by_name["BILLING_FAILURE"].code == 12007
    assert catalog.codes_by_name["BILLING_FALIURE"].code == 12007
    assert catalog.codes[12007].name == "BILLING_FALIURE"


def test_every_documented_source_is_present(catalog: Catalog) -> None:
    assert seed_sources() <= set(catalog.sources)
    assert set(catalog.sources) == DOCUMENTED_SOURCES


def test_written_out_source_list_matches_the_captured_page() -> None:
    assert seed_sources() == DOCUMENTED_SOURCES


def test_every_code_belongs_to_its_family_and_points_at_bird_docs(catalog: Catalog) -> None:
    for code in catalog.data.codes:
        assert code.family_prefix in catalog.families
        assert code.docs_url.startswith("https://docs.bird.com/")


@pytest.mark.parametrize("name", ["sending_failed", "delivery_failed"])
def test_failure_statuses_are_failed_and_final(catalog: Catalog, name: str) -> None:
    assert catalog.statuses[name].failed is True
    assert catalog.statuses[name].final is True


@pytest.mark.parametrize("name", ["delivered", "sent", "accepted"])
def test_success_and_progress_statuses_are_not_failed(catalog: Catalog, name: str) -> None:
    assert catalog.statuses[name].failed is False


def test_only_the_two_documented_statuses_are_failures(catalog: Catalog) -> None:
    assert {s.name for s in catalog.data.statuses if s.failed} == {"sending_failed", "delivery_failed"}


def test_sources_with_a_code_table_and_tables_used_by_a_source(catalog: Catalog) -> None:
    assert catalog.sources["sms-messagebird"].code_table == "sms-extended"
    assert catalog.sources["whatsapp"].code_table == "whatsapp-cloud"
    assert catalog.sources["email-messagebird"].code_table is None
    assert catalog.first_source_of("messenger").name == "facebook"
    for table in catalog.tables:
        # Email and voice tables are reached through used_by, not through a source's code_table.
        first = catalog.first_source_of(table)
        assert first.code_table == table or first.name in catalog.tables[table].used_by


def test_bird_documented_sms_codes_are_marked_as_such(catalog: Catalog) -> None:
    assert catalog.platform_codes[("sms-extended", "1")].usual_codes == [15005]
    assert catalog.platform_codes[("sms-extended", "1")].confidence == "bird"
    assert ("sms-extended", "34") in catalog.platform_codes


# -- the loader rejects broken data ----------------------------------------------------------------


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    for name in DATA_FILES:
        shutil.copy(DATA_DIR / name, tmp_path / name)
    shutil.copytree(DATA_DIR / PLATFORM_CODES_DIR, tmp_path / PLATFORM_CODES_DIR)
    return tmp_path


def edit(directory: Path, filename: str, change: Callable[[str], str]) -> None:
    path = directory / filename
    before = path.read_text(encoding="utf-8")
    after = change(before)
    assert after != before, "the edit did not change the file; the test would prove nothing"
    path.write_text(after, encoding="utf-8")


def replace_once(old: str, new: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        assert old in text, f"{old!r} is not in the data file"
        return text.replace(old, new, 1)

    return change


def sub_once(pattern: str, new: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        result, count = re.subn(pattern, new, text, count=1, flags=re.DOTALL | re.MULTILINE)
        assert count == 1, f"{pattern!r} is not in the data file"
        return result

    return change


def test_an_unchanged_copy_loads(data_copy: Path) -> None:
    assert len(load_catalog(data_copy).codes) == 33


BROKEN_VARIANTS: dict[str, tuple[str, Callable[[str], str], type[Exception], str]] = {
    "duplicate code": ("codes.toml", replace_once("code = 11002\n", "code = 11001\n"), CatalogError, "duplicate"),
    "duplicate platform code": (
        "platform_codes/sms-extended.toml",
        replace_once('code = "34"\n', 'code = "1"\n'),
        CatalogError,
        "duplicate platform code",
    ),
    "duplicate source alias": (
        "sources.toml",
        replace_once('aliases = ["billing"]', 'aliases = ["sms"]'),
        CatalogError,
        "duplicate source name or alias",
    ),
    "missing field": (
        "codes.toml",
        sub_once(r"^title = \"Channel can't handle this request\"\n", ""),
        ValidationError,
        "title",
    ),
    "empty string field": (
        "codes.toml",
        replace_once('title = "Request has an invalid setting"', 'title = ""'),
        ValidationError,
        "title",
    ),
    "blank string field": (
        "sources.toml",
        replace_once('title = "Bird accounting and billing"', 'title = "   "'),
        ValidationError,
        "title",
    ),
    "empty causes list": (
        "codes.toml",
        sub_once(r"^causes = \[\n.*?^\]\n", "causes = []\n"),
        ValidationError,
        "causes",
    ),
    "empty fix list": (
        "platform_codes/sms-extended.toml",
        sub_once(r"^fix = \[\n.*?^\]\n", "fix = []\n"),
        ValidationError,
        "fix",
    ),
    "code without sources": (
        "codes.toml",
        sub_once(r"^sources = \[[^\n]*\]\n", ""),
        ValidationError,
        "sources",
    ),
    "source naming something other than a web address": (
        "sources.toml",
        sub_once(r"^sources = \[[^\n]*\]\n", 'sources = ["Bird docs"]\n'),
        ValidationError,
        "sources",
    ),
    "status without a checked date": (
        "statuses.toml",
        sub_once(r"^checked = [0-9-]+\n", ""),
        ValidationError,
        "checked",
    ),
    "checked that is not a date": (
        "platform_codes/whatsapp-cloud.toml",
        sub_once(r"^checked = [0-9-]+\n", 'checked = "last week"\n'),
        ValidationError,
        "checked",
    ),
    "unknown field": (
        "statuses.toml",
        replace_once("failed = false\n", "failed = false\ncolour = 'red'\n"),
        ValidationError,
        "colour",
    ),
    "bad retry value": (
        "codes.toml",
        replace_once('retry = "after_fix"', 'retry = "sometimes"'),
        ValidationError,
        "retry",
    ),
    "bad code name": (
        "codes.toml",
        replace_once('name = "INVALID_INPUT"', 'name = "invalid input"'),
        ValidationError,
        "name",
    ),
    "broken related_codes": (
        "codes.toml",
        replace_once("related_codes = [11002, 11005, 12004]", "related_codes = [11002, 11005, 19999]"),
        CatalogError,
        "unknown related code 19999",
    ),
    "code related to itself": (
        "codes.toml",
        replace_once("related_codes = [11002, 11005, 12004]", "related_codes = [11001]"),
        CatalogError,
        "lists itself",
    ),
    "broken related_sources": (
        "codes.toml",
        replace_once('related_sources = ["pre-processing"]', 'related_sources = ["nowhere"]'),
        CatalogError,
        "unknown related source 'nowhere'",
    ),
    "unknown code_table": (
        "sources.toml",
        replace_once('code_table = "sms-extended"', 'code_table = "sms-nope"'),
        CatalogError,
        "unknown code table 'sms-nope'",
    ),
    "source naming an unknown usual code": (
        "sources.toml",
        replace_once("usual_codes = [14001, 12007, 12001]", "usual_codes = [14001, 14999]"),
        CatalogError,
        "unknown usual code 14999",
    ),
    "code table no source uses": (
        "sources.toml",
        replace_once('code_table = "sms-extended"\n', ""),
        CatalogError,
        "code table 'sms-extended' belongs to no source",
    ),
    "platform code naming an unknown usual code": (
        "platform_codes/sms-extended.toml",
        replace_once("usual_codes = [15005]", "usual_codes = [15999]"),
        CatalogError,
        "unknown usual code 15999",
    ),
    "platform code in an unknown table": (
        "platform_codes/sms-extended.toml",
        replace_once('table = "sms-extended"\ncode = "1"', 'table = "sms-nope"\ncode = "1"'),
        CatalogError,
        "unknown table 'sms-nope'",
    ),
    "code without a family": (
        "codes.toml",
        sub_once(r"^\[\[family\]\]\nprefix = 11\n.*?\n\n", ""),
        CatalogError,
        "no family 11XXX",
    ),
    "platform code whose usual Bird code ignores its platform": (
        "platform_codes/whatsapp-cloud.toml",
        replace_once("usual_codes = [15015, 15014]", "usual_codes = [15015, 15007]"),
        CatalogError,
        "whatsapp-cloud/131031 usually comes with 15007, but code 15007 names none of ['whatsapp']",
    ),
    "Bird code naming a platform code that leaves it out": (
        "platform_codes/whatsapp-cloud.toml",
        replace_once("usual_codes = [15015, 15014]", "usual_codes = [15014]"),
        CatalogError,
        "code 15015 names platform code whatsapp-cloud/131031, whose usual codes [15014] leave 15015 out",
    ),
    "Bird code naming a short platform code after 'error'": (
        "codes.toml",
        replace_once('"STOP", "do not contact"', '"STOP", "WhatsApp error 10", "do not contact"'),
        CatalogError,
        "code 15016 names platform code whatsapp-cloud/10,",
    ),
    "unknown TOML section": (
        "statuses.toml",
        lambda text: text + '\n[[stauts]]\nname = "typo"\n',
        CatalogError,
        "unknown section",
    ),
    "invalid TOML": ("sources.toml", lambda text: text + "\n[[source]\n", CatalogError, "sources.toml"),
}


@pytest.mark.parametrize("variant", list(BROKEN_VARIANTS))
def test_loader_rejects_broken_data(data_copy: Path, variant: str) -> None:
    filename, change, error, message = BROKEN_VARIANTS[variant]
    edit(data_copy, filename, change)
    with pytest.raises(error) as raised:
        load_catalog(data_copy)
    assert message in str(raised.value)


def test_loader_reports_every_broken_reference_at_once(data_copy: Path) -> None:
    edit(data_copy, "codes.toml", replace_once("related_codes = [11002, 11005, 12004]", "related_codes = [19998]"))
    edit(data_copy, "sources.toml", replace_once('code_table = "sms-extended"', 'code_table = "sms-nope"'))
    with pytest.raises(CatalogError) as raised:
        load_catalog(data_copy)
    assert "19998" in str(raised.value)
    assert "sms-nope" in str(raised.value)


def test_loader_fails_on_a_missing_data_file(data_copy: Path) -> None:
    (data_copy / "statuses.toml").unlink()
    with pytest.raises(FileNotFoundError):
        load_catalog(data_copy)
