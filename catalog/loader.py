"""Load and cross-check the catalog's data files.

Parsing the TOML files is most of the cost of loading (tomllib is pure Python), and
``birdwatch explain`` pays it in every new process. So the packaged catalog keeps what the parser
returned in a per-user cache file, keyed by a hash of the data files' names and contents: any edit
to the data parses them again. What the cache returns is validated like a fresh parse, every time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal

from .models import (
    CatalogData,
    CodeTable,
    FailureCode,
    FailureSource,
    Family,
    PlatformCode,
    Status,
)

DATA_FILES = ("codes.toml", "sources.toml", "statuses.toml")
# Changes whenever the cached form of the parsed files changes, so an old cache file is not read.
_CACHE_FORMAT = b"birdwatch.catalog.parsed/2"
_CACHE_FILE = "catalog-parsed.json"
PLATFORM_CODES_DIR = "platform_codes"  # one TOML file per platform table, read in name order

# TOML array-of-tables names in the data files, mapped to CatalogData fields.
_SECTIONS = {
    "family": "families",
    "code": "codes",
    "source": "sources",
    "table": "tables",
    "platform_code": "platform_codes",
    "status": "statuses",
}


# How a Bird code's text names a platform code: a number of three or more digits ("131031",
# "100-2018001"), or any number right after "error" ("WhatsApp error 10"). A short number after
# "code" is left out: "failure.source.code 1" reads the same for every platform.
_PLATFORM_CODE_MENTION = re.compile(r"(?<![\w.-])(\d{3,}(?:-\d+)?)(?![\w.-])|\berror\s+(\d+(?:-\d+)?)\b")


def normalize_name(text: str) -> str:
    """``invalid spam`` / ``Invalid-Spam`` -> ``INVALID_SPAM``: how code names are looked up."""
    return re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_")


class CatalogError(ValueError):
    """The data files are inconsistent: a duplicate, or a reference to nothing."""


@dataclass(frozen=True)
class PlatformCodeLookup:
    """The entries a source's code resolves to, and how.

    Meta reports a code with an optional subcode (``10`` and ``10-2534022``), and Bird may pass either
    in ``failure.source.code``, so a code the catalog lacks falls back in both directions:

    - ``exact``: the code as given.
    - ``without_subcode``: the subcode is unknown; the bare code's entry (``10`` for ``10-2534022``).
    - ``with_subcode``: only ``code-subcode`` entries exist for a bare code (``551-1545041`` for ``551``).
    - ``by_subcode``: the number is a known subcode (``100-2018001`` for ``2018001``).
    """

    entries: tuple[PlatformCode, ...]
    how: Literal["exact", "without_subcode", "with_subcode", "by_subcode"]


class Catalog:
    """The validated catalog, indexed for lookup."""

    def __init__(self, data: CatalogData) -> None:
        self.data = data
        self.families: dict[int, Family] = _unique(data.families, lambda f: f.prefix, "family")
        self.codes: dict[int, FailureCode] = _unique(data.codes, lambda c: c.code, "failure code")
        self.sources: dict[str, FailureSource] = _unique(data.sources, lambda s: s.name, "source")
        self.tables: dict[str, CodeTable] = _unique(data.tables, lambda t: t.id, "code table")
        self.platform_codes: dict[tuple[str, str], PlatformCode] = _unique(
            data.platform_codes, lambda p: (p.table, p.code), "platform code"
        )
        self.statuses: dict[str, Status] = _unique(data.statuses, lambda s: s.name, "status")
        self.codes_by_name: dict[str, FailureCode] = _unique(
            ((name, c) for c in data.codes for name in (c.name, *c.aliases)),
            lambda pair: pair[0],
            "failure code name",
            value=lambda pair: pair[1],
        )
        self.sources_by_alias: dict[str, FailureSource] = _unique(
            ((alias.lower(), s) for s in data.sources for alias in (s.name, *s.aliases)),
            lambda pair: pair[0],
            "source name or alias",
            value=lambda pair: pair[1],
        )
        self._tables_for: dict[str, tuple[str, ...]] = {
            source.name: tuple(
                dict.fromkeys(
                    [
                        *([source.code_table] if source.code_table else []),
                        *(t.id for t in data.tables if source.name in t.used_by),
                    ]
                )
            )
            for source in data.sources
        }
        # Messenger-style "code-subcode" entries by their code and by their subcode, per table.
        self._with_subcode: dict[tuple[str, str], list[PlatformCode]] = {}
        self._by_subcode: dict[tuple[str, str], list[PlatformCode]] = {}
        for entry in data.platform_codes:
            code, dash, subcode = entry.code.partition("-")
            if dash:
                self._with_subcode.setdefault((entry.table, code), []).append(entry)
                self._by_subcode.setdefault((entry.table, subcode), []).append(entry)
        self._first_source: dict[str, FailureSource] = {}
        for source in data.sources:
            for table_id in self._tables_for[source.name]:
                self._first_source.setdefault(table_id, source)
        self._check_references()

    def _check_references(self) -> None:
        problems: list[str] = []
        for code in self.data.codes:
            if code.family_prefix not in self.families:
                problems.append(f"code {code.code} has no family {code.family_prefix}XXX")
            problems += [
                f"code {code.code} names unknown related code {r}" for r in code.related_codes if r not in self.codes
            ]
            problems += [
                f"code {code.code} names unknown related source {s!r}"
                for s in code.related_sources
                if s not in self.sources
            ]
            if code.code in code.related_codes:
                problems.append(f"code {code.code} lists itself as related")
        for source in self.data.sources:
            if source.code_table is not None and source.code_table not in self.tables:
                problems.append(f"source {source.name!r} names unknown code table {source.code_table!r}")
            problems += [
                f"source {source.name!r} names unknown usual code {c}"
                for c in source.usual_codes
                if c not in self.codes
            ]
        for table in self.data.tables:
            problems += [
                f"code table {table.id!r} is used by unknown source {s!r}"
                for s in table.used_by
                if s not in self.sources
            ]
        for entry in self.data.platform_codes:
            if entry.table not in self.tables:
                problems.append(f"platform code {entry.code} names unknown table {entry.table!r}")
            problems += [
                f"platform code {entry.table}/{entry.code} names unknown usual code {c}"
                for c in entry.usual_codes
                if c not in self.codes
            ]
        problems += [f"code table {t!r} belongs to no source" for t in self.tables if t not in self._first_source]
        problems += self._cross_reference_disagreements()
        if problems:
            raise CatalogError("; ".join(problems))

    def _cross_reference_disagreements(self) -> list[str]:
        """Platform codes and Bird codes must tell the same story from both sides.

        A platform code's usual Bird code lists, among its related sources, a source whose
        ``failure.source.code`` follows that platform's table; and a Bird code whose text names a
        platform code of one of its related sources (``WhatsApp 131031``) is among that platform
        code's usual codes.
        """
        problems: list[str] = []
        sources_of_table: dict[str, set[str]] = {}
        for source_name, table_ids in self._tables_for.items():
            for table_id in table_ids:
                sources_of_table.setdefault(table_id, set()).add(source_name)
        for entry in self.data.platform_codes:
            table_sources = sources_of_table.get(entry.table, set())
            for bird_code in entry.usual_codes:
                related = self.codes.get(bird_code)
                if related is not None and table_sources and not table_sources & set(related.related_sources):
                    problems.append(
                        f"platform code {entry.table}/{entry.code} usually comes with {bird_code}, but code "
                        f"{bird_code} names none of {sorted(table_sources)} among its related sources"
                    )
        for code in self.data.codes:
            text = " ".join([code.meaning, *code.causes, *code.actions, *code.keywords])
            mentioned = {a or b for a, b in _PLATFORM_CODE_MENTION.findall(text)}
            related_tables = dict.fromkeys(t for s in code.related_sources for t in self._tables_for.get(s, ()))
            for related_table in related_tables:
                for platform_code in sorted(mentioned):
                    named = self.platform_codes.get((related_table, platform_code))
                    if named is not None and code.code not in named.usual_codes:
                        problems.append(
                            f"code {code.code} names platform code {related_table}/{platform_code}, "
                            f"whose usual codes {named.usual_codes} leave {code.code} out"
                        )
        return problems

    @property
    def final_statuses(self) -> frozenset[str]:
        """Statuses after which a message no longer changes."""
        return frozenset(status.name for status in self.data.statuses if status.final)

    def tables_for(self, source: FailureSource) -> tuple[str, ...]:
        """The code tables ``failure.source.code`` of this source may follow, most likely first."""
        return self._tables_for.get(source.name, ())

    def platform_code_for(self, source: FailureSource, code: str) -> PlatformCode | None:
        """The entry for ``code`` as ``source`` reports it, from the first of its tables that has it."""
        for table_id in self.tables_for(source):
            entry = self.platform_codes.get((table_id, code))
            if entry is not None:
                return entry
        return None

    def platform_codes_for(self, source: FailureSource, code: str) -> PlatformCodeLookup:
        """Every entry ``code`` may mean as ``source`` reports it, falling back between ``code`` and
        ``code-subcode`` when the catalog lacks the form given (see PlatformCodeLookup)."""
        tables = self.tables_for(source)
        exact = [entry for t in tables if (entry := self.platform_codes.get((t, code))) is not None]
        if exact:
            return PlatformCodeLookup(tuple(exact), "exact")
        bare, dash, _ = code.partition("-")
        if dash:
            broader = [entry for t in tables if (entry := self.platform_codes.get((t, bare))) is not None]
            return PlatformCodeLookup(tuple(broader), "without_subcode")
        narrower = [entry for t in tables for entry in self._with_subcode.get((t, code), ())]
        if narrower:
            return PlatformCodeLookup(tuple(narrower), "with_subcode")
        return PlatformCodeLookup(tuple(e for t in tables for e in self._by_subcode.get((t, code), ())), "by_subcode")

    def first_source_of(self, table_id: str) -> FailureSource:
        """The source a platform code is shown under when the user named none (e.g. facebook for
        the Messenger table it shares with instagram)."""
        return self._first_source[table_id]


def _unique(items: Iterable[Any], key: Any, what: str, value: Any = None) -> dict[Any, Any]:
    index: dict[Any, Any] = {}
    for item in items:
        k = key(item)
        if k in index:
            raise CatalogError(f"duplicate {what}: {k!r}")
        index[k] = value(item) if value else item
    return index


def read_data_files(directory: Path | None = None, *, cache_dir: Path | None = None) -> dict[str, list[dict[str, Any]]]:
    """Merge the TOML data files into one raw dictionary keyed by CatalogData field.

    With ``cache_dir``, a parse of these exact files is read from there when present, and stored
    there otherwise; a cache that cannot be read or written is passed over without a word.
    """
    contents = _data_file_contents(directory)
    if cache_dir is None:
        return _parse(contents)
    key = _digest(contents)
    cached = _read_cache(cache_dir / _CACHE_FILE, key)
    if cached is not None:
        return cached
    merged = _parse(contents)
    _write_cache(cache_dir / _CACHE_FILE, key, merged)
    return merged


def _data_file_contents(directory: Path | None) -> list[tuple[str, bytes]]:
    """(file name, content) of every data file, in the order they are merged."""
    root: Traversable = resources.files("catalog").joinpath("data") if directory is None else directory
    platform_dir = root.joinpath(PLATFORM_CODES_DIR)
    platform_files = sorted(f.name for f in platform_dir.iterdir() if f.name.endswith(".toml"))
    return [
        (filename, root.joinpath(*filename.split("/")).read_bytes())
        for filename in (*DATA_FILES, *(f"{PLATFORM_CODES_DIR}/{name}" for name in platform_files))
    ]


def _parse(contents: list[tuple[str, bytes]]) -> dict[str, list[dict[str, Any]]]:
    import tomllib  # only when the cache misses: its import is a fair share of a cached load

    merged: dict[str, list[dict[str, Any]]] = {field: [] for field in _SECTIONS.values()}
    for filename, content in contents:
        try:
            raw = tomllib.loads(content.decode("utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise CatalogError(f"{filename}: {exc}") from exc
        for section, entries in raw.items():
            if section not in _SECTIONS or not isinstance(entries, list):
                raise CatalogError(f"{filename}: unknown section {section!r}; expected [[{']], [['.join(_SECTIONS)}]]")
            merged[_SECTIONS[section]].extend(entries)
    return merged


def _digest(contents: list[tuple[str, bytes]]) -> bytes:
    # BLAKE2 is built into Python; the first SHA-256 loads OpenSSL's, which costs more than hashing.
    digest = hashlib.blake2b(_CACHE_FORMAT, digest_size=32)
    digest.update(sys.version.encode())  # another Python's tomllib may read the same text differently
    for filename, content in contents:
        for part in (filename.encode("utf-8"), content):
            digest.update(len(part).to_bytes(8, "big") + part)  # lengths keep the parts apart
    return digest.digest()


def _read_cache(path: Path, key: bytes) -> dict[str, list[dict[str, Any]]] | None:
    try:
        content = path.read_bytes()
    except OSError:
        return None
    if not content.startswith(key):
        return None  # another version of the data files, or not a cache file at all
    try:
        # Plain JSON, never pickle: reading a cache must not be able to run code.
        data = json.loads(content[len(key) :], object_hook=_from_json)
    except ValueError:  # a truncated or damaged file is a cache miss
        return None
    return data if isinstance(data, dict) and set(data) == set(_SECTIONS.values()) else None


def _write_cache(path: Path, key: bytes, merged: dict[str, list[dict[str, Any]]]) -> None:
    import tempfile

    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError:
        return
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(key + json.dumps(merged, default=_to_json, ensure_ascii=False).encode("utf-8"))
        # Renamed into place, so a process reading meanwhile sees the old file or the new one.
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def _to_json(value: object) -> dict[str, str]:
    """TOML's dates (``checked``) as tagged objects, so that a cached parse equals a fresh one."""
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    raise TypeError(f"{type(value).__name__} is not in the catalog's data")


def _from_json(obj: dict[str, Any]) -> Any:
    return date.fromisoformat(obj["$date"]) if obj.keys() == {"$date"} else obj


def user_cache_dir() -> Path | None:
    """Where birdwatch keeps caches: ``$XDG_CACHE_HOME/birdwatch``, else ``~/.cache/birdwatch``."""
    base = os.environ.get("XDG_CACHE_HOME")
    if base and os.path.isabs(base):
        return Path(base) / "birdwatch"
    try:
        return Path.home() / ".cache" / "birdwatch"
    except RuntimeError:  # no home directory to be found (a system user without one)
        return None


def load_catalog(directory: Path | None = None, *, cache_dir: Path | None = None) -> Catalog:
    """Read, validate and index the catalog (raises on any problem)."""
    return Catalog(CatalogData.model_validate(read_data_files(directory, cache_dir=cache_dir)))


@cache
def default_catalog() -> Catalog:
    """The packaged catalog, loaded once per process (its parse cached per user, see above)."""
    return load_catalog(cache_dir=user_cache_dir())
