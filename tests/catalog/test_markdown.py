"""catalog.markdown: the catalog as one Markdown document, its coverage table, and ``birdwatch catalog``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.cli import main
from catalog import Catalog
from catalog.loader import Catalog as LoadedCatalog
from catalog.markdown import coverage_table, escape_markdown, missing_fields, render_markdown
from catalog.models import Confidence

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def document(catalog: Catalog) -> str:
    return render_markdown(catalog)


def test_document_has_a_heading_for_every_code_source_and_platform_code(catalog: Catalog, document: str) -> None:
    headings = re.findall(r"^#{3,4} (.+)$", document, re.MULTILINE)
    assert len(headings) == (
        len(catalog.families)
        + len(catalog.codes)
        + len(catalog.sources)
        + len(catalog.tables)
        + len(catalog.platform_codes)
    )
    for code in catalog.data.codes:
        assert f"#### {code.code} `{code.name}`" in document
    for entry in catalog.data.platform_codes:
        assert f"#### {entry.code}: {escape_markdown(entry.name)}" in document
    for status in catalog.data.statuses:
        assert f"| `{status.name}` |" in document


def test_document_carries_causes_retry_reasons_sources_and_checked_dates(catalog: Catalog, document: str) -> None:
    spam = catalog.codes[15011]
    assert f"**Don't retry**: {escape_markdown(spam.retry_note)}" in document
    assert f"<{spam.docs_url}> (checked {spam.checked})" in document
    reply = catalog.platform_codes[("messenger", "1-1357046")]
    section = document.split("#### 1-1357046:", 1)[1].split("\n#### ", 1)[0]
    assert "**Don't retry**" in section
    assert escape_markdown(reply.retry_note or "") in section
    assert "**Meaning:** Documented by Meta" in section
    assert f"- {escape_markdown(reply.causes[0])}" in section


def test_outside_text_cannot_inject_markup(catalog: Catalog) -> None:
    status = catalog.data.statuses[0].model_copy(update={"meaning": "a|b <script> *bold* [x](y)"})
    data = catalog.data.model_copy(update={"statuses": [status, *catalog.data.statuses[1:]]})
    document = render_markdown(LoadedCatalog(data))
    assert r"a\|b \<script\> \*bold\* \[x\](y)" in document
    assert "<script>" not in document


@given(st.text())
def test_escaping_keeps_the_text_and_leaves_no_markup_character_bare(text: str) -> None:
    escaped = escape_markdown(text)
    assert re.sub(r"\\(.)", r"\1", escaped, flags=re.DOTALL) == text
    assert not re.search(r"(?<!\\)(?:\\\\)*[`*_\[\]<>|#]", escaped.replace("\\\\", ""))


def test_coverage_counts_every_platform_code_once_per_level(catalog: Catalog) -> None:
    rows = [line for line in coverage_table(catalog).splitlines() if line.startswith("| `")]
    assert len(rows) == len(catalog.tables)
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        table_id, entries, *levels, complete = cells
        assert int(entries) == sum(map(int, levels))
        assert len(levels) == len(Confidence)
        table_entries = [e for e in catalog.data.platform_codes if e.table == table_id.strip("`")]
        assert int(entries) == len(table_entries)
        assert int(complete) == sum(not missing_fields(e) for e in table_entries)
    total = coverage_table(catalog).splitlines()[len(rows) + 2]
    assert f"**{len(catalog.platform_codes)}**" in total


def test_readme_shows_the_current_coverage_table(catalog: Catalog) -> None:
    assert coverage_table(catalog) in README.read_text(encoding="utf-8"), (
        "README's coverage table is out of date: paste the output of `birdwatch catalog --coverage`"
    )


def test_cli_prints_the_markdown_document(capsys: pytest.CaptureFixture[str], document: str) -> None:
    assert main(["catalog", "--markdown"]) == 0
    assert capsys.readouterr().out == document + "\n"


def test_cli_prints_the_coverage_table(capsys: pytest.CaptureFixture[str], catalog: Catalog) -> None:
    assert main(["catalog", "--coverage"]) == 0
    assert capsys.readouterr().out == coverage_table(catalog) + "\n"


def test_cli_writes_the_markdown_document_to_a_file(tmp_path: Path, document: str) -> None:
    target = tmp_path / "catalog.md"
    assert main(["catalog", "--markdown", "-o", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == document + "\n"
