"""BIRDWATCH_TRUSTED_INTEGRATIONS: bot and app ids, checked when the settings load."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings

REQUIRED = {"slack_bot_token": "xoxb-1", "slack_signing_secret": "s"}


def test_ids_are_split_and_trimmed() -> None:
    settings = load_settings(**REQUIRED, birdwatch_trusted_integrations=" B0ALERTS, A0GRAFANA ")
    assert settings.trusted_integration_ids == {"B0ALERTS", "A0GRAFANA"}


@pytest.mark.parametrize("value", ["U0PERSON", "#alerts", "B0ALERTS;A0X", "b0lower"])
def test_anything_but_bot_or_app_ids_is_refused(value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(**REQUIRED, birdwatch_trusted_integrations=value)
    assert "BIRDWATCH_TRUSTED_INTEGRATIONS" in str(raised.value)
