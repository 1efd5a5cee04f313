"""Runtime settings, read from the environment and an optional ``.env`` file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
SLACK_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")
REDIS_KEY_PREFIX = re.compile(r"[\w:.{}-]{1,64}")
SLACK_INTEGRATION_ID = re.compile(r"[BA][A-Z0-9]{2,}")  # a bot id (B…) or an app id (A…)


def _split_channels(value: str) -> list[str]:
    return [part for part in re.split(r"[\s,]+", value.strip()) if part]


class SettingsError(Exception):
    """The settings cannot start the bot; the message names every problem, never a value."""


class Settings(BaseSettings):
    """Everything birdwatch reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr
    slack_signing_secret: SecretStr
    slack_app_token: SecretStr | None = None
    slack_api_url: AnyHttpUrl | None = None
    host: str = "0.0.0.0"  # noqa: S104 - a server in a container listens on every interface
    port: int = Field(default=3000, ge=1, le=65535)
    log_level: LogLevel = "INFO"
    bird_access_key: SecretStr | None = None
    bird_workspace_id: str | None = None
    bird_api_url: AnyHttpUrl = AnyHttpUrl("https://api.bird.com")
    # Bird allows 50 GET/s per workspace, shared with the customer's own traffic: stay far below.
    bird_requests_per_second: float = Field(default=5.0, gt=0, le=40)
    # SIGTERM to exit: lookups in flight and queued replies share this budget. Docker sends
    # SIGKILL 10 s after SIGTERM by default, so keep it below that.
    shutdown_grace_seconds: float = Field(default=8.0, gt=0, le=60)
    birdwatch_config: Path | None = None
    # Where alerts are enriched without a config file: "all", or Slack channel ids separated by commas.
    birdwatch_enrich_channels: str | None = None
    # The public base URL Bird's webhooks reach birdwatch at (they go to <it>/bird/webhooks).
    birdwatch_public_url: AnyHttpUrl | None = None
    # Shared state for several replicas (bot.redis_*); unset, all state stays in this process.
    # A secret: the URL may carry a password.
    redis_url: SecretStr | None = None
    redis_key_prefix: str = "birdwatch:"
    # Without a config file: enriched channels that carry only Bird alerts (bare codes count there).
    birdwatch_bird_channels: str | None = None
    # Without [[workspace]] entries: bot and app ids whose alerts may trigger lookups of message ids.
    birdwatch_trusted_integrations: str | None = None

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            return None
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("slack_signing_secret", "bird_access_key")
    @classmethod
    def _not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("birdwatch_enrich_channels")
    @classmethod
    def _channel_list(cls, value: str | None) -> str | None:
        if value is None or value.strip().lower() == "all":
            return value
        bad = [c for c in _split_channels(value) if not SLACK_CHANNEL_ID.fullmatch(c)]
        if bad:
            raise ValueError('must be "all" or Slack channel ids such as C0123ABCD, separated by commas')
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        try:
            url = urlsplit(value.get_secret_value().strip())
            usable = url.scheme in ("redis", "rediss") and bool(url.hostname) and (url.port or 6379) > 0
        except ValueError:
            usable = False
        if not usable:
            raise ValueError("must be a redis:// or rediss:// URL with a host, e.g. redis://:password@redis:6379/0")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("redis_key_prefix")
    @classmethod
    def _prefix_shape(cls, value: str) -> str:
        if not REDIS_KEY_PREFIX.fullmatch(value):
            raise ValueError("must be 1 to 64 letters, digits or :._-{} characters, e.g. birdwatch:")
        return value

    @field_validator("birdwatch_bird_channels")
    @classmethod
    def _bird_channel_list(cls, value: str | None) -> str | None:
        if value is not None and any(not SLACK_CHANNEL_ID.fullmatch(c) for c in _split_channels(value)):
            raise ValueError("must be Slack channel ids such as C0123ABCD, separated by commas")
        return value

    @field_validator("birdwatch_trusted_integrations")
    @classmethod
    def _integration_list(cls, value: str | None) -> str | None:
        if value is not None and any(not SLACK_INTEGRATION_ID.fullmatch(i) for i in _split_channels(value)):
            raise ValueError("must be Slack bot or app ids such as B0123ABCD or A0123ABCD, separated by commas")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def enrich_all_channels(self) -> bool:
        return (self.birdwatch_enrich_channels or "").strip().lower() == "all"

    @property
    def enrich_channel_ids(self) -> frozenset[str]:
        if self.birdwatch_enrich_channels is None or self.enrich_all_channels:
            return frozenset()
        return frozenset(_split_channels(self.birdwatch_enrich_channels))

    @property
    def bird_alert_channel_ids(self) -> frozenset[str]:
        return frozenset(_split_channels(self.birdwatch_bird_channels or ""))

    @property
    def trusted_integration_ids(self) -> frozenset[str]:
        return frozenset(_split_channels(self.birdwatch_trusted_integrations or ""))

    @property
    def slack_api_base_url(self) -> str | None:
        """Slack Web API base URL with the trailing slash slack_sdk expects."""
        if self.slack_api_url is None:
            return None
        url = str(self.slack_api_url)
        return url if url.endswith("/") else url + "/"


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, or raise SettingsError naming every problem without echoing values."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(describe_problems(exc)) from None


def describe_problems(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        name = ".".join(str(part) for part in error["loc"]).upper()
        message = "is not set" if error["type"] == "missing" else error["msg"].removeprefix("Value error, ")
        lines.append(f"  - {name} {message}")
    return "birdwatch cannot start; fix these settings:\n" + "\n".join(lines)
