"""export_catalog / export_schema, and ``birdwatch catalog``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from catalog import Catalog
from catalog.export import SCHEMA_VERSION, export_catalog, export_schema
from tests.catalog.test_data import platform_entries_in_files

TOP_LEVEL = {"schema_version", "families", "codes", "sources", "code_tables", "platform_codes", "statuses"}


@pytest.fixture(scope="module")
def exported(catalog: Catalog) -> dict[str, Any]:
    return export_catalog(catalog)


def test_export_round_trips_through_json(exported: dict[str, Any]) -> None:
    assert json.loads(json.dumps(exported)) == exported


def test_export_has_schema_version_and_every_section(exported: dict[str, Any]) -> None:
    assert set(exported) == TOP_LEVEL
    assert exported["schema_version"] == SCHEMA_VERSION == "birdwatch.catalog/1"


def test_export_holds_every_entry_keyed_as_looked_up(catalog: Catalog, exported: dict[str, Any]) -> None:
    assert set(exported["families"]) == {str(p) for p in catalog.families}
    assert set(exported["codes"]) == {str(c) for c in catalog.codes}
    assert len(exported["codes"]) == 33
    assert set(exported["sources"]) == set(catalog.sources)
    assert set(exported["code_tables"]) == set(catalog.tables)
    assert set(exported["statuses"]) == set(catalog.statuses)
    assert set(exported["platform_codes"]) == set(catalog.tables)
    exported_pairs = {(table, code) for table, codes in exported["platform_codes"].items() for code in codes}
    assert exported_pairs == set(catalog.platform_codes)
    assert len(exported_pairs) == platform_entries_in_files()


def test_exported_entries_carry_their_content(exported: dict[str, Any]) -> None:
    spam = exported["codes"]["15011"]
    assert spam["code"] == 15011
    assert spam["name"] == "INVALID_SPAM"
    assert spam["retry"] == "never"
    assert spam["causes"]
    assert spam["actions"]
    assert exported["codes"]["12007"]["aliases"] == ["BILLING_FAILURE"]
    assert exported["platform_codes"]["whatsapp-cloud"]["131047"]["usual_codes"] == [14005]
    assert exported["sources"]["whatsapp"]["code_table"] == "whatsapp-cloud"
    assert exported["statuses"]["delivery_failed"]["failed"] is True


def test_schema_describes_the_export(exported: dict[str, Any]) -> None:
    schema = export_schema()
    assert json.loads(json.dumps(schema)) == schema
    assert schema["type"] == "object"
    assert set(schema["properties"]) == TOP_LEVEL
    assert set(schema["required"]) <= set(exported)
    validate(exported, schema)


def test_schema_rejects_an_export_missing_a_section(exported: dict[str, Any]) -> None:
    broken = {k: v for k, v in exported.items() if k != "codes"}
    with pytest.raises(AssertionError, match="codes"):
        validate(broken, export_schema())


def test_schema_rejects_an_entry_missing_a_field(exported: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(exported))
    del broken["platform_codes"]["whatsapp-cloud"]["131047"]["meaning"]
    with pytest.raises(AssertionError, match="meaning"):
        validate(broken, export_schema())


def validate(export: dict[str, Any], schema: dict[str, Any]) -> None:
    """Validate with jsonschema when it is installed, else with the small stand-in below."""
    try:
        import jsonschema  # type: ignore[import-untyped]
    except ImportError:
        _check_required_fields(schema, export)
        return
    try:
        jsonschema.validate(export, schema)
    except jsonschema.ValidationError as exc:
        raise AssertionError(exc.message) from exc


def _check_required_fields(schema: dict[str, Any], export: dict[str, Any]) -> None:
    """A small stand-in for jsonschema: required keys at the top and in every keyed entry."""
    for key in schema["required"]:
        assert key in export, f"export lacks {key!r}"
    definitions = schema.get("$defs", {})
    for key, prop in schema["properties"].items():
        ref = prop.get("additionalProperties", {})
        # dict[str, Model] or dict[str, dict[str, Model]]
        if "additionalProperties" in ref:
            ref = ref["additionalProperties"]
            entries = [entry for group in export[key].values() for entry in group.values()]
        else:
            entries = list(export[key].values()) if isinstance(export[key], dict) else []
        if "$ref" not in ref:
            continue
        model = definitions[ref["$ref"].rsplit("/", 1)[-1]]
        assert entries, f"no entries under {key!r}"
        for entry in entries:
            missing = set(model.get("required", [])) - set(entry)
            assert not missing, f"{key} entry lacks {missing}"
            unknown = set(entry) - set(model["properties"])
            assert not unknown, f"{key} entry has undocumented {unknown}"


def test_cli_writes_the_catalog_to_a_file(tmp_path: Path, exported: dict[str, Any]) -> None:
    target = tmp_path / "catalog.json"
    assert main(["catalog", "-o", str(target)]) == 0
    assert json.loads(target.read_text(encoding="utf-8")) == exported


def test_cli_prints_the_catalog(capsys: pytest.CaptureFixture[str], exported: dict[str, Any]) -> None:
    assert main(["catalog"]) == 0
    assert json.loads(capsys.readouterr().out) == exported


def test_cli_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "--schema"]) == 0
    assert json.loads(capsys.readouterr().out) == export_schema()


def test_cli_writes_the_schema_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    assert main(["catalog", "--schema", "--output", str(target)]) == 0
    assert json.loads(target.read_text(encoding="utf-8")) == export_schema()


def test_export_carries_sources_and_checked_dates(catalog: Catalog, exported: dict[str, Any]) -> None:
    spam = exported["codes"]["15011"]
    assert spam["sources"] == catalog.codes[15011].sources
    assert spam["checked"] == catalog.codes[15011].checked.isoformat()
    window = exported["platform_codes"]["whatsapp-cloud"]["131047"]
    assert window["sources"]
    assert window["checked"] == "2026-12-02"
    assert window["authority"] == "Meta"
    assert exported["statuses"]["delivery_failed"]["sources"]
    assert exported["families"]["15"]["checked"]
    schema = export_schema()["$defs"]
    assert {"sources", "checked"} <= set(schema["FailureCode"]["required"])
    assert {"sources", "checked"} <= set(schema["PlatformCode"]["properties"])
