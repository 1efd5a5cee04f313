"""The config file's alert settings: signing keys, the public URL, routes, and their start-up errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings
from bot.workspaces import BirdwatchConfig, ConfigError, load_config, webhook_url

PROD = "2f1c6d1e-8a5b-4c1e-9a43-0c6c1c5b7e01"
ORG = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
CHANNEL = "7b0e5a52-1c1f-4b7e-9a8d-0c6f1e2d3a4b"
ENVIRON = {"BIRD_KEY_PROD": "access", "SIGN_NEW": "new-key", "SIGN_OLD": "old-key"}
WORKSPACE = f"""
[[workspace]]
id = "{PROD}"
aliases = ["prod"]
access_key_env = "BIRD_KEY_PROD"
organization_id = "{ORG.upper()}"
signing_key_env = "SIGN_NEW"
previous_signing_key_env = "SIGN_OLD"
"""


def load(
    tmp_path: Path, text: str, environ: dict[str, str] | None = None, public_url: str | None = None
) -> BirdwatchConfig:
    path = tmp_path / "birdwatch.toml"
    path.write_text(text, encoding="utf-8")
    settings = Settings(
        slack_bot_token="xoxb-test",
        slack_signing_secret="secret",
        birdwatch_config=path,
        birdwatch_public_url=public_url,
        _env_file=None,
    )
    return load_config(settings, ENVIRON if environ is None else environ)


def problems(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text, environ)
    return str(caught.value)


def test_routes_keys_and_the_public_url_are_read(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        WORKSPACE
        + f"""
[alerts]
public_url = "https://birdwatch.example.com/"
digest_hour = 8

[[alert_route]]
channel = "C0SMS"
workspace = "PROD"
bird_channel = "{CHANNEL.upper()}"
code = 15005
threshold = 3
window_minutes = 2
quiet_minutes = 10

[[alert_route]]
channel = "C0REST"
family = "14xxx"

[[alert_route]]
channel = "C0WA"
platform = "WhatsApp"
""",
    )
    workspace = config.workspaces[0]
    assert workspace.organization_id == ORG
    assert [k.get_secret_value() for k in workspace.signing_keys] == ["new-key", "old-key"]
    alerts = config.alerts
    assert alerts.webhook_url == "https://birdwatch.example.com/bird/webhooks"
    assert alerts.digest_hour == 8
    first, second, third = alerts.routes
    assert (first.workspace_id, first.bird_channel, first.code, first.threshold) == (PROD, CHANNEL, 15005, 3)
    assert (second.family, second.threshold, second.window_minutes, second.quiet_minutes) == (14, 5, 5, 30)
    assert third.platform == "whatsapp"
    assert alerts.route_for(PROD, CHANNEL, "sms", 15005) is first
    assert alerts.route_for(PROD, "other", "sms", 15005) is None
    assert alerts.route_for(PROD, "other", "sms", 14001) is second
    assert alerts.route_for(PROD, "other", "whatsapp", 15011) is third
    assert alerts.route_for(PROD, "other", "sms", None) is None


def test_the_public_url_can_come_from_the_environment(tmp_path: Path) -> None:
    config = load(tmp_path, WORKSPACE, public_url="https://bw.example.com/base")
    assert config.alerts.webhook_url == "https://bw.example.com/base/bird/webhooks"
    assert webhook_url("https://x.example/bird/webhooks/") == "https://x.example/bird/webhooks"


def test_every_problem_is_named_without_echoing_keys(tmp_path: Path) -> None:
    message = problems(
        tmp_path,
        WORKSPACE
        + """
[alerts]
public_url = "birdwatch.example.com"
digest_hour = 25

[[alert_route]]
channel = "#alerts"
workspace = "staging"
family = "13"
threshold = 0
""",
        environ={"BIRD_KEY_PROD": "access", "SIGN_NEW": "new-key"},
    )
    assert "[alerts] public_url" in message
    assert "[alerts] digest_hour" in message
    assert "[[alert_route]] #1 channel" in message
    assert "[[alert_route]] #1 threshold" in message
    assert "new-key" not in message


def test_a_route_must_name_a_listed_workspace_and_routes_need_signing_keys(tmp_path: Path) -> None:
    unknown = problems(tmp_path, WORKSPACE + '[[alert_route]]\nchannel = "C0X"\nworkspace = "staging"\n')
    assert "workspace 'staging' is no [[workspace]]" in unknown
    unsigned = f'[[workspace]]\nid = "{PROD}"\naccess_key_env = "BIRD_KEY_PROD"\n[[alert_route]]\nchannel = "C0X"\n'
    assert "no [[workspace]] has a signing_key_env" in problems(tmp_path, unsigned)
    pasted = WORKSPACE.replace('signing_key_env = "SIGN_NEW"', 'signing_key_env = "a pasted key!"')
    assert "NAME of an environment variable" in problems(tmp_path, pasted)
    missing = problems(tmp_path, WORKSPACE, environ={"BIRD_KEY_PROD": "access", "SIGN_NEW": "new-key"})
    assert "SIGN_OLD (its webhook signing key) is not set" in missing
