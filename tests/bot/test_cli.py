"""The first run of the ``birdwatch`` command: fast answers, clear messages, no tracebacks."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

HEAVY = ("slack_bolt", "slack_sdk", "aiohttp", "bot.app", "bot.server", "httpx")
# What an exact code needs none of, once the data files' parse is cached: the TOML parser, the Bird
# message models (pasted JSON), the scanner (codes amid other words), the catalog export.
NOT_FOR_A_CODE = ("tomllib", "catalog.message", "catalog.scanner", "catalog.export", "catalog.markdown")


def _run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SKIP_SLACK_SDK_WARNING": "1", **(env or {})},
        check=False,
    )


def _imported(stderr: str) -> set[str]:
    return {line.split("|")[-1].strip() for line in stderr.splitlines() if line.startswith("import time")}


def test_explain_imports_only_what_the_answer_needs() -> None:
    result = _run("-X", "importtime", "-m", "bot", "explain", "15011")
    assert result.returncode == 0
    loaded = sorted(name for name in _imported(result.stderr) if name.startswith(HEAVY))
    assert loaded == []


def test_explain_of_a_code_reads_the_cached_parse_and_loads_only_its_answer(tmp_path: Path) -> None:
    cache = {"XDG_CACHE_HOME": str(tmp_path)}
    first = _run("-X", "importtime", "-m", "bot", "explain", "15011", env=cache)
    assert first.returncode == 0
    assert "tomllib" in _imported(first.stderr)  # the cache was empty: parsed, then stored
    again = _run("-X", "importtime", "-m", "bot", "explain", "15011", env=cache)
    assert again.returncode == 0
    assert again.stdout == first.stdout
    assert sorted(name for name in _imported(again.stderr) if name.startswith(NOT_FOR_A_CODE)) == []


def test_explain_dash_reads_the_query_from_standard_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("invalid spam\n"))
    assert main(["explain", "-"]) == 0
    assert "15011 INVALID_SPAM" in capsys.readouterr().out


@pytest.mark.parametrize("where", ["missing-dir/catalog.json", "."])
def test_a_bad_output_path_is_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["catalog", "--output", where]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"birdwatch cannot write {where}: ")
    assert "Traceback" not in error


@pytest.mark.parametrize("command", ["catalog", "explain 15011"])
def test_a_closed_pipe_is_a_clear_message(command: str) -> None:
    # ``true`` exits before Python has started, so the first write meets a closed pipe.
    result = subprocess.run(  # noqa: S603
        ["/bin/sh", "-c", f"'{sys.executable}' -m bot {command} | true"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == "birdwatch: output closed before everything was written"


def test_ctrl_c_is_a_quiet_exit(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(_: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("sys.stdin", type("Stdin", (), {"read": interrupted})())
    assert main(["explain", "-"]) == 130
    assert capsys.readouterr().err == ""
