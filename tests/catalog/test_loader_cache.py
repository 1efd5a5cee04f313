"""The cached parse of the data files: used while the files are unchanged, validated every time."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from catalog import loader
from catalog.loader import PLATFORM_CODES_DIR, default_catalog, load_catalog, read_data_files, user_cache_dir

DATA_DIR = Path(__file__).resolve().parents[2] / "catalog" / "data"


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(DATA_DIR, copy)
    return copy


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def _cache_file(cache_dir: Path) -> Path:
    return cache_dir / "catalog-parsed.json"


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def parse(_: object) -> None:
        raise AssertionError("the data files were parsed")

    monkeypatch.setattr(loader, "_parse", parse)


def test_a_second_read_comes_from_the_cache_and_equals_a_fresh_parse(
    data_copy: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = read_data_files(data_copy)
    assert read_data_files(data_copy, cache_dir=cache_dir) == fresh
    assert _cache_file(cache_dir).is_file()
    _no_parsing(monkeypatch)
    assert read_data_files(data_copy, cache_dir=cache_dir) == fresh


def test_an_edited_data_file_is_parsed_again(data_copy: Path, cache_dir: Path) -> None:
    load_catalog(data_copy, cache_dir=cache_dir)
    codes = data_copy / "codes.toml"
    codes.write_text(codes.read_text(encoding="utf-8").replace("INVALID_SPAM", "INVALID_SPAMMING"), encoding="utf-8")
    catalog = load_catalog(data_copy, cache_dir=cache_dir)
    assert catalog.codes[15011].name == "INVALID_SPAMMING"


def test_a_new_platform_file_is_parsed_again(data_copy: Path, cache_dir: Path) -> None:
    before = read_data_files(data_copy, cache_dir=cache_dir)
    platform_dir = data_copy / PLATFORM_CODES_DIR
    first = sorted(platform_dir.glob("*.toml"))[0]
    shutil.move(first, platform_dir / "zz-moved.toml")  # same contents, another name and order
    after = read_data_files(data_copy, cache_dir=cache_dir)
    assert after == read_data_files(data_copy)
    assert after["platform_codes"] != before["platform_codes"]


def test_cached_data_is_still_validated(data_copy: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = read_data_files(data_copy, cache_dir=cache_dir)
    raw["codes"][0]["name"] = "not a code name"
    contents = loader._data_file_contents(data_copy)
    loader._write_cache(_cache_file(cache_dir), loader._digest(contents), raw)
    _no_parsing(monkeypatch)
    with pytest.raises(ValidationError, match=r"codes\.0\.name"):
        load_catalog(data_copy, cache_dir=cache_dir)


@pytest.mark.parametrize(
    "damage",
    [
        lambda content: content[: len(content) // 2],  # truncated mid-write by something else
        lambda content: content[:32] + b'{"codes": [truncated',
        lambda content: b"",
        lambda content: b"x" * len(content),
    ],
)
def test_a_damaged_cache_file_is_parsed_again_and_replaced(
    data_copy: Path, cache_dir: Path, damage: Callable[[bytes], bytes]
) -> None:
    fresh = read_data_files(data_copy, cache_dir=cache_dir)
    cache_file = _cache_file(cache_dir)
    cache_file.write_bytes(damage(cache_file.read_bytes()))
    assert read_data_files(data_copy, cache_dir=cache_dir) == fresh
    assert read_data_files(data_copy, cache_dir=cache_dir) == fresh
    assert sorted(p.name for p in cache_dir.iterdir()) == [cache_file.name]  # no temporary left behind


def test_a_cache_that_cannot_be_written_is_passed_over(data_copy: Path, tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("", encoding="utf-8")
    catalog = load_catalog(data_copy, cache_dir=not_a_directory / "cache")
    assert catalog.codes[15011].name == "INVALID_SPAM"


def test_a_broken_data_file_fails_the_same_way_with_a_cache(data_copy: Path, cache_dir: Path) -> None:
    codes = data_copy / "codes.toml"
    codes.write_text(codes.read_text(encoding="utf-8") + "\n[[code]]\ncode = 15011\n", encoding="utf-8")
    for _ in range(2):  # a miss, then a hit
        with pytest.raises(ValidationError):
            load_catalog(data_copy, cache_dir=cache_dir)


def test_the_cache_directory_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert user_cache_dir() == tmp_path / "birdwatch"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # the spec says to ignore a relative one
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_cache_dir() == tmp_path / "home" / ".cache" / "birdwatch"


def test_the_packaged_catalog_uses_the_user_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    catalog = default_catalog.__wrapped__()
    assert _cache_file(tmp_path / "birdwatch").is_file()
    assert catalog.codes.keys() == default_catalog().codes.keys()
