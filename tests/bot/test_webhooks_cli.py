"""``birdwatch webhooks subscribe | list | delete`` against the fake Bird's Notifications API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.cli import main
from tests.fakes.fake_bird import DEFAULT_ACCESS_KEY, FakeBird

WORKSPACE = "6a1e1f5c-3b7d-4c59-9d2e-7f0a1b2c3d4e"
ORGANIZATION = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
URL = "https://birdwatch.example.com/bird/webhooks"


def write_config(tmp_path: Path, *, organization: bool = True, signing: bool = False) -> Path:
    path = tmp_path / "birdwatch.toml"
    lines = [
        "[[workspace]]",
        f'id = "{WORKSPACE}"',
        'aliases = ["prod"]',
        'access_key_env = "BIRD_KEY_PROD"',
    ]
    if organization:
        lines.append(f'organization_id = "{ORGANIZATION}"')
    if signing:
        lines.append('signing_key_env = "BIRD_SIGNING_PROD"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
async def fake_bird() -> AsyncIterator[FakeBird]:
    async with FakeBird() as bird:
        yield bird


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_bird: FakeBird) -> Path:
    config = write_config(tmp_path)
    monkeypatch.setenv("BIRDWATCH_CONFIG", str(config))
    monkeypatch.setenv("BIRD_API_URL", fake_bird.url)
    monkeypatch.setenv("BIRD_KEY_PROD", DEFAULT_ACCESS_KEY)
    return config


async def run(*argv: str) -> int:
    # The CLI is synchronous; the fake Bird answers on this event loop.
    return await asyncio.to_thread(main, list(argv))


async def test_subscribe_creates_one_subscription_per_platform_and_failed_status(
    environment: Path, fake_bird: FakeBird, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run("webhooks", "subscribe", "--workspace", "prod", "--url", URL, "--platform", "sms") == 0
    subscriptions = fake_bird.subscriptions
    assert len(subscriptions) == 2
    assert {s["event"] for s in subscriptions} == {"sms.outbound"}
    assert sorted(f["value"] for s in subscriptions for f in s["eventFilters"]) == [
        "delivery_failed",
        "sending_failed",
    ]
    assert {f["key"] for s in subscriptions for f in s["eventFilters"]} == {"messageStatus"}
    assert {s["url"] for s in subscriptions} == {URL}
    assert {s["organizationId"] for s in subscriptions} == {ORGANIZATION}
    keys = {s["signingKey"] for s in subscriptions}
    assert len(keys) == 1
    (key,) = keys
    assert len(key) >= 40
    out = capsys.readouterr().out
    assert key in out  # told once, with where to keep it
    assert "BIRD_SIGNING_KEY_PROD" in out


async def test_default_platforms_and_list_and_delete(
    environment: Path, fake_bird: FakeBird, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run("webhooks", "subscribe", "--workspace", "prod", "--url", URL) == 0
    assert len(fake_bird.subscriptions) == 6  # sms, whatsapp, email × two failed statuses
    capsys.readouterr()
    assert await run("webhooks", "list", "--workspace", WORKSPACE) == 0
    listed = capsys.readouterr().out
    ids = [s["id"] for s in fake_bird.subscriptions]
    assert all(i in listed for i in ids)
    assert "signingKey" not in listed
    assert await run("webhooks", "delete", "--workspace", "prod", ids[0], ids[1]) == 0
    assert len(fake_bird.subscriptions) == 4
    assert await run("webhooks", "delete", "--workspace", "prod", "no-such-id") == 1
    assert "404" in capsys.readouterr().err


async def test_clear_errors_without_organization_https_or_a_good_key(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    environment: Path,
    fake_bird: FakeBird,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await run("webhooks", "subscribe", "--workspace", "prod", "--url", "http://insecure/bird/webhooks") == 2
    assert "https" in capsys.readouterr().err
    assert await run("webhooks", "list", "--workspace", "staging") == 2
    assert "no [[workspace]] named 'staging'" in capsys.readouterr().err
    monkeypatch.setenv("BIRD_KEY_PROD", "wrong-key")
    assert await run("webhooks", "list", "--workspace", "prod") == 1
    assert "401" in capsys.readouterr().err
    monkeypatch.setenv("BIRDWATCH_CONFIG", str(write_config(tmp_path, organization=False)))
    assert await run("webhooks", "list", "--workspace", "prod") == 2
    assert "organization_id" in capsys.readouterr().err
    assert fake_bird.subscriptions == []
