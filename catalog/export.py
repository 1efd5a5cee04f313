"""The whole catalog as one JSON dictionary with a stable, documented schema."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from .loader import Catalog
from .models import CodeTable, FailureCode, FailureSource, Family, PlatformCode, Status

SCHEMA_VERSION = "birdwatch.catalog/1"


class CatalogExport(BaseModel):
    """Every entry keyed by what users look it up by. Fields are only ever added, never renamed."""

    schema_version: str = Field(SCHEMA_VERSION, description="Changes only when a field is renamed or removed.")
    families: dict[str, Family] = Field(description="Failure-code families keyed by prefix, e.g. '15'.")
    codes: dict[str, FailureCode] = Field(description="Bird failure codes (failure.code) keyed by code, e.g. '15011'.")
    sources: dict[str, FailureSource] = Field(description="Failure sources keyed by failure.source.name.")
    code_tables: dict[str, CodeTable] = Field(description="Platform code tables keyed by id.")
    platform_codes: dict[str, dict[str, PlatformCode]] = Field(
        description="Platform codes (failure.source.code) keyed by table id, then by code."
    )
    statuses: dict[str, Status] = Field(description="Message statuses keyed by name.")


def export_catalog(catalog: Catalog) -> dict[str, Any]:
    platform: dict[str, dict[str, PlatformCode]] = {table: {} for table in catalog.tables}
    for entry in catalog.data.platform_codes:
        platform[entry.table][entry.code] = entry
    export = CatalogExport(
        families={str(k): v for k, v in catalog.families.items()},
        codes={str(k): v for k, v in catalog.codes.items()},
        sources=catalog.sources,
        code_tables=catalog.tables,
        platform_codes=platform,
        statuses=catalog.statuses,
    )
    return export.model_dump(mode="json")


def export_schema() -> dict[str, Any]:
    return CatalogExport.model_json_schema()
