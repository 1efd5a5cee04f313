"""Workspace configuration: the environment-only setup, the TOML file, and its start-up errors."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.settings import Settings
from bot.workspaces import BirdwatchConfig, ConfigError, load_config

PROD = "2f1c6d1e-8a5b-4c1e-9a43-0c6c1c5b7e01"
STAGING = "7d3a9b7e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
PROD_KEY = "prod-secret-key-value"
STAGING_KEY = "staging-secret-key-value"
ENV_KEY = "env-secret-key-value"

EXAMPLE = f"""
[privacy]
show_details = false

[[workspace]]
id = "{PROD}"
aliases = ["prod", "Production"]
access_key_env = "BIRD_KEY_PROD"
allowed_users = ["U0123", "W0456"]
channels = ["C0ONCALL"]

[[workspace]]
id = "{STAGING.upper()}"
aliases = ["staging"]
access_key_env = "BIRD_KEY_STAGING"

[enrichment]
all_channels = false
channels = ["C0ALERTS"]
repeat_window_minutes = 10
"""
ENVIRON = {"BIRD_KEY_PROD": PROD_KEY, "BIRD_KEY_STAGING": STAGING_KEY}


def settings(config: Path | None = None, access_key: str | None = None, workspace_id: str | None = None) -> Settings:
    return Settings(
        slack_bot_token="xoxb-test",
        slack_signing_secret="test-secret",
        bird_access_key=access_key,
        bird_workspace_id=workspace_id,
        birdwatch_config=config,
        _env_file=None,
    )


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "birdwatch.toml"
    path.write_text(text, encoding="utf-8")
    return path


def config_error(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(settings(path), ENVIRON if environ is None else environ)
    message = str(caught.value)
    assert str(path) in message
    return message


def workspace_entry(ws_id: str = PROD, *, env: str = "BIRD_KEY_PROD", extra: str = "") -> str:
    return f'[[workspace]]\nid = "{ws_id}"\naccess_key_env = "{env}"\n{extra}\n'


# --- without a file ---


def test_without_key_or_file_nothing_resolves() -> None:
    config = load_config(settings(), {})

    assert not config.configured
    assert config.resolve(PROD) is None
    assert config.default_for_channel("C0ONCALL") is None


def test_with_only_an_access_key_any_workspace_id_resolves_to_that_key() -> None:
    config = load_config(settings(access_key=ENV_KEY), {})

    workspace = config.resolve(PROD.upper())

    assert config.configured
    assert workspace is not None
    assert workspace.id == PROD
    assert workspace.access_key.get_secret_value() == ENV_KEY
    assert workspace.allows("U0ANYONE")
    assert config.resolve("prod") is None
    assert config.default_for_channel("C0ONCALL") is None


def test_bird_workspace_id_is_the_default_of_every_channel() -> None:
    config = load_config(settings(access_key=ENV_KEY, workspace_id=PROD.upper()), {})

    default = config.default_for_channel("C0ANY")

    assert default is not None
    assert default.id == PROD
    assert default.access_key.get_secret_value() == ENV_KEY


@pytest.mark.parametrize(
    ("access_key", "workspace_id", "problem"),
    [
        (ENV_KEY, "prod", "BIRD_WORKSPACE_ID must be a Bird workspace id"),
        (None, PROD, "BIRD_WORKSPACE_ID is set but BIRD_ACCESS_KEY is not"),
    ],
)
def test_a_bad_default_workspace_is_a_start_up_error(access_key: str | None, workspace_id: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        load_config(settings(access_key=access_key, workspace_id=workspace_id), {})


@given(st.uuids())
def test_any_uuid_resolves_to_its_canonical_form(workspace_id: uuid.UUID) -> None:
    config = BirdwatchConfig(adhoc_access_key=ENV_KEY)

    for spelling in (str(workspace_id), str(workspace_id).upper(), workspace_id.hex, f"{{{workspace_id}}}"):
        resolved = config.resolve(spelling)
        assert resolved is not None
        assert resolved.id == str(workspace_id)


# --- with a file ---


def test_loads_the_example_file(tmp_path: Path) -> None:
    config = load_config(settings(write(tmp_path, EXAMPLE), access_key=ENV_KEY), ENVIRON)

    prod, staging = config.workspaces
    assert (prod.id, prod.aliases, prod.access_key.get_secret_value()) == (PROD, ("prod", "Production"), PROD_KEY)
    assert prod.allowed_users == {"U0123", "W0456"}
    assert prod.channels == {"C0ONCALL"}
    assert prod.label == "prod"
    assert (staging.id, staging.access_key.get_secret_value()) == (STAGING, STAGING_KEY)
    assert config.show_details is False
    assert config.enrichment.repeat_window_minutes == 10


@pytest.mark.parametrize("name", [PROD, PROD.upper(), "prod", "PROD", " production ", "PRODUCTION"])
def test_resolves_ids_and_aliases_case_insensitively(tmp_path: Path, name: str) -> None:
    config = load_config(settings(write(tmp_path, EXAMPLE)), ENVIRON)

    resolved = config.resolve(name)

    assert resolved is not None
    assert resolved.id == PROD


def test_with_a_file_only_listed_workspaces_resolve(tmp_path: Path) -> None:
    config = load_config(settings(write(tmp_path, EXAMPLE), access_key=ENV_KEY), ENVIRON)

    assert config.resolve(str(uuid.uuid4())) is None
    assert config.resolve("dev") is None


def test_default_workspace_of_a_channel(tmp_path: Path) -> None:
    config = load_config(settings(write(tmp_path, EXAMPLE)), ENVIRON)

    default = config.default_for_channel("C0ONCALL")

    assert default is not None
    assert default.id == PROD
    assert config.default_for_channel("C0OTHER") is None


def test_bird_workspace_id_names_a_listed_workspace_as_the_fallback_default(tmp_path: Path) -> None:
    config = load_config(settings(write(tmp_path, EXAMPLE), workspace_id="staging"), ENVIRON)

    oncall, other = config.default_for_channel("C0ONCALL"), config.default_for_channel("C0OTHER")

    assert oncall is not None
    assert oncall.id == PROD
    assert other is not None
    assert other.id == STAGING


def test_bird_workspace_id_must_name_a_listed_workspace(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE)
    with pytest.raises(ConfigError) as caught:
        load_config(settings(path, workspace_id=str(uuid.uuid4())), ENVIRON)
    message = str(caught.value)

    assert "BIRD_WORKSPACE_ID names no [[workspace]]" in message


def test_allowed_users_restrict_who_may_query(tmp_path: Path) -> None:
    config = load_config(settings(write(tmp_path, EXAMPLE)), ENVIRON)
    prod, staging = config.workspaces

    assert prod.allows("U0123")
    assert not prod.allows("U0999")
    assert staging.allows("U0999")  # no list: everyone
    assert prod.allows("W0456")
    assert not prod.allows("U0999")


def test_enrichment_in_listed_channels_only(tmp_path: Path) -> None:
    config = load_config(settings(write(tmp_path, EXAMPLE)), ENVIRON)

    assert config.enriches("C0ALERTS")
    assert not config.enriches("C0ONCALL")


def test_defaults_enrich_nowhere_and_show_details(tmp_path: Path) -> None:
    config = load_config(settings(write(tmp_path, workspace_entry())), ENVIRON)

    assert not config.enriches("C0ANYTHING")
    assert config.show_details is True
    assert config.enrichment.repeat_window_minutes == 30


def test_enriched_channels_from_the_environment_when_the_file_names_none(tmp_path: Path) -> None:
    base = settings(write(tmp_path, workspace_entry()))
    listed = load_config(base.model_copy(update={"birdwatch_enrich_channels": "C0ONCALL,C0PAGING"}), ENVIRON)
    everywhere = load_config(settings().model_copy(update={"birdwatch_enrich_channels": "all"}), {})

    assert listed.enriches("C0ONCALL")
    assert not listed.enriches("C0RANDOM")
    assert everywhere.enriches("C0RANDOM")


def test_the_files_enrichment_channels_win_over_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, workspace_entry() + '[enrichment]\nchannels = ["C0FILE"]\n')
    config = load_config(settings(path).model_copy(update={"birdwatch_enrich_channels": "all"}), ENVIRON)

    assert config.enriches("C0FILE")
    assert not config.enriches("C0OTHER")


def test_a_file_without_workspaces_keeps_the_environment_setup(tmp_path: Path) -> None:
    path = write(tmp_path, "[privacy]\nshow_details = false\n")

    config = load_config(settings(path, access_key=ENV_KEY, workspace_id=PROD), {})

    assert config.show_details is False
    default = config.default_for_channel("C0ANY")
    assert default is not None
    assert default.access_key.get_secret_value() == ENV_KEY


def test_secrets_stay_out_of_the_configs_repr(tmp_path: Path) -> None:
    config = load_config(settings(write(tmp_path, EXAMPLE)), ENVIRON)

    assert PROD_KEY not in repr(config)
    assert PROD_KEY not in str(config)


# --- start-up errors ---


def test_every_cross_check_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        workspace_entry(PROD, extra='aliases = ["prod", "main"]\nchannels = ["C0ONCALL"]')
        + workspace_entry(
            STAGING, env="BIRD_KEY_MISSING", extra=f'aliases = ["PROD", "{PROD}"]\nchannels = ["C0ONCALL"]'
        )
        + workspace_entry(PROD)
    )

    message = config_error(tmp_path, text)

    assert "environment variable BIRD_KEY_MISSING (its access key) is not set" in message
    assert f"workspace id {PROD} is listed more than once" in message
    assert "alias 'prod' is used more than once" in message
    assert f"alias '{PROD}' is the id of another workspace" in message
    assert "Slack channel C0ONCALL is the default channel of more than one workspace" in message
    assert PROD_KEY not in message


def test_an_empty_key_variable_counts_as_missing(tmp_path: Path) -> None:
    message = config_error(tmp_path, workspace_entry(), {"BIRD_KEY_PROD": "  "})

    assert "BIRD_KEY_PROD (its access key) is not set" in message


def test_every_field_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        workspace_entry("not-a-uuid", extra='colour = "blue"\nchannels = ["#oncall"]\nallowed_users = ["alice"]')
        + "[enrichment]\nrepeat_window_minutes = 0\n[surprise]\nx = 1\n"
    )

    message = config_error(tmp_path, text)

    assert "[[workspace]] #1 id: must be a Bird workspace id (a UUID)" in message
    assert "[[workspace]] #1 colour: unknown setting" in message
    assert "'#oncall' is not a Slack channel id" in message
    assert "'alice' is not a Slack user id" in message
    assert "[enrichment] repeat_window_minutes" in message
    assert "surprise: unknown setting" in message


def test_a_key_written_into_the_file_is_refused_without_echoing_it(tmp_path: Path) -> None:
    text = workspace_entry(extra=f'access_key = "{PROD_KEY}"')

    message = config_error(tmp_path, text)

    assert "keep the key out of the file" in message
    assert PROD_KEY not in message


def test_a_key_pasted_as_the_variable_name_is_not_echoed(tmp_path: Path) -> None:
    message = config_error(tmp_path, workspace_entry(env=PROD_KEY))

    assert "must be the NAME of an environment variable" in message
    assert PROD_KEY not in message


def test_a_missing_access_key_env_is_required(tmp_path: Path) -> None:
    message = config_error(tmp_path, f'[[workspace]]\nid = "{PROD}"\n')

    assert "[[workspace]] #1 access_key_env: is required" in message


@pytest.mark.parametrize("minutes", [0, -5, 100_000])
def test_repeat_window_has_sane_bounds(tmp_path: Path, minutes: int) -> None:
    message = config_error(tmp_path, workspace_entry() + f"[enrichment]\nrepeat_window_minutes = {minutes}\n")

    assert "[enrichment] repeat_window_minutes" in message


def test_listing_channels_while_enriching_all_of_them_is_an_error(tmp_path: Path) -> None:
    text = workspace_entry() + '[enrichment]\nall_channels = true\nchannels = ["C0ALERTS"]\n'
    message = config_error(tmp_path, text)

    assert "set all_channels = false" in message


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    message = config_error(tmp_path, "[[workspace]\nid = ")

    assert "is not valid TOML" in message


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"

    with pytest.raises(ConfigError, match="does not exist") as caught:
        load_config(settings(path), ENVIRON)
    assert str(path) in str(caught.value)


def test_every_problem_of_the_file_is_in_one_message(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
[[workspace]]
id = "{PROD}"
aliases = ["prod"]
access_key_env = "BIRD_KEY_MISSING"
channels = ["C0ONCALL", "C0ONCALL"]

[[workspace]]
id = "{PROD.upper()}"
aliases = ["Prod"]
access_key_env = "BIRD_KEY_STAGING"
channels = ["C0ONCALL"]

[enrichment]
all_channels = true
channels = ["C0ALERTS", "C0ALERTS"]
""",
    )
    with pytest.raises(ConfigError) as raised:
        load_config(settings(path, workspace_id="nowhere"), ENVIRON)
    message = str(raised.value)
    for expected in (
        "BIRD_KEY_MISSING (its access key) is not set",
        f"workspace id {PROD} is listed more than once",
        "alias 'prod' is used more than once",
        "Slack channel C0ONCALL is listed more than once",
        "Slack channel C0ONCALL is the default channel of more than one workspace",
        "[enrichment] channel C0ALERTS is listed more than once",
        "all_channels is true",
        "BIRD_WORKSPACE_ID names no [[workspace]]",
    ):
        assert expected in message, expected


def test_duplicates_are_named_beside_schema_errors(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
[[workspace]]
id = "{PROD}"
aliases = ["prod"]
access_key_env = "BIRD_KEY_PROD"
colour = "blue"

[[workspace]]
id = "{STAGING}"
aliases = ["PROD"]
access_key_env = "BIRD_KEY_STAGING"
channels = ["#oncall"]
""",
    )
    with pytest.raises(ConfigError) as raised:
        load_config(settings(path), ENVIRON)
    message = str(raised.value)
    assert "[[workspace]] #1 colour: unknown setting" in message
    assert "not a Slack channel id" in message
    assert "alias 'prod' is used more than once" in message


# --- channels that carry only Bird alerts ---------------------------------------------------------


def test_bird_channels_from_the_file(tmp_path: Path) -> None:
    text = workspace_entry() + '[enrichment]\nchannels = ["C0ALERTS", "C0BIRD"]\nbird_channels = ["C0BIRD"]\n'
    config = load_config(settings(write(tmp_path, text)), ENVIRON)

    assert config.only_bird_alerts("C0BIRD")
    assert not config.only_bird_alerts("C0ALERTS")


def test_no_channel_carries_only_bird_alerts_by_default(tmp_path: Path) -> None:
    config = load_config(settings(write(tmp_path, EXAMPLE)), ENVIRON)

    assert not config.only_bird_alerts("C0ALERTS")
    assert config.enrichment.bird_channels == frozenset()


def test_bird_channels_from_the_environment_unless_the_file_has_the_key(tmp_path: Path) -> None:
    from_env = settings().model_copy(update={"birdwatch_bird_channels": "C0BIRD, C0SMS"})
    assert load_config(from_env, {}).only_bird_alerts("C0SMS")

    path = write(tmp_path, workspace_entry() + "[enrichment]\nbird_channels = []\n")
    config = load_config(settings(path).model_copy(update={"birdwatch_bird_channels": "C0BIRD"}), ENVIRON)
    assert not config.only_bird_alerts("C0BIRD")


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ('bird_channels = ["#alerts"]', "is not a Slack channel id"),
        ('bird_channels = "C0BIRD"', "[enrichment] bird_channels"),
        ('channels = ["C0ALERTS"]\nbird_channels = ["C0BIRD"]', "C0BIRD is not enriched; add it to channels too"),
        ('channels = ["C0BIRD"]\nbird_channels = ["C0BIRD", "C0BIRD"]', "C0BIRD is listed more than once"),
    ],
)
def test_bad_bird_channels_stop_the_start(tmp_path: Path, section: str, problem: str) -> None:
    message = config_error(tmp_path, workspace_entry() + f"[enrichment]\n{section}\n")
    assert problem in message


def test_bird_channels_in_the_environment_must_be_channel_ids() -> None:
    with pytest.raises(ValidationError, match="Slack channel ids"):
        Settings(
            slack_bot_token="xoxb-test",
            slack_signing_secret="test-secret",
            birdwatch_bird_channels="#alerts",
            _env_file=None,
        )


# --- trusted integrations ---


def test_trusted_integrations_are_named_per_workspace_and_per_channel(tmp_path: Path) -> None:
    text = (
        workspace_entry(extra='trusted_integrations = ["B0ALERTS"]')
        + '\n[trusted_integrations]\nC0PAGING = ["A0GRAFANA"]\n'
    )
    config = load_config(settings(write(tmp_path, text)), ENVIRON)

    assert config.trusts_integration("C0ANY", PROD, {"B0ALERTS"})  # the workspace trusts it everywhere
    assert config.trusts_integration("C0PAGING", PROD, {"B0OTHER", "A0GRAFANA"})  # the channel trusts the app
    assert not config.trusts_integration("C0ANY", PROD, {"A0GRAFANA"})  # only in its channel
    assert not config.trusts_integration("C0PAGING", PROD, {"B0FORGED"})
    assert not config.trusts_integration("C0PAGING", PROD, set())


def test_channel_trust_works_with_workspaces_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, '[trusted_integrations]\nC0ONCALL = ["B0ALERTS"]\n')
    config = load_config(settings(path, access_key=ENV_KEY, workspace_id=PROD), {})

    assert config.trusts_integration("C0ONCALL", PROD, {"B0ALERTS"})
    assert not config.trusts_integration("C0OTHER", PROD, {"B0ALERTS"})


def test_without_a_list_no_integration_is_trusted(tmp_path: Path) -> None:
    config = load_config(settings(write(tmp_path, EXAMPLE)), ENVIRON)
    assert not config.trusts_integration("C0ONCALL", PROD, {"B0ALERTS", "A0ALERTS"})


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (workspace_entry(extra='trusted_integrations = ["U0PERSON"]'), "'U0PERSON' is not a Slack bot id"),
        ('[trusted_integrations]\nC0ONCALL = ["alertmanager"]\n', "'alertmanager' is not a Slack bot id"),
        ('[trusted_integrations]\noncall = ["B0ALERTS"]\n', "'oncall' is not a Slack channel id"),
    ],
)
def test_a_bad_trusted_integration_is_a_start_up_error(tmp_path: Path, text: str, problem: str) -> None:
    assert problem in config_error(tmp_path, text)
