"""Which Bird workspaces birdwatch may query, with which key and for whom; read once at start-up.

Two ways to configure it:

* No file (the simplest setup): ``BIRD_ACCESS_KEY`` is used for any workspace id a user types, and
  ``BIRD_WORKSPACE_ID``, when set, is the default workspace of every Slack channel.
* A TOML file named by ``BIRDWATCH_CONFIG`` that lists the workspaces (``[[workspace]]``), each with the
  name of the environment variable holding its key, plus ``[privacy]`` and ``[enrichment]`` settings.
  A file without ``[[workspace]]`` entries only sets those, and the workspaces come from the environment
  as without a file. ``BIRD_WORKSPACE_ID``, when set, must name one of the listed workspaces.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError

from bot.settings import SLACK_CHANNEL_ID, SLACK_INTEGRATION_ID, Settings
from catalog.ids import canonical_uuid

WORKSPACE_ID_ENV = "BIRD_WORKSPACE_ID"

_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
_SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,}")


class ConfigError(Exception):
    """The workspace configuration cannot start the bot; the message names every problem, never a secret."""


# --- the configuration the bot uses -------------------------------------------------------------


class WorkspaceConfig(BaseModel):
    """A Bird workspace birdwatch can query."""

    model_config = ConfigDict(frozen=True)

    id: str
    aliases: tuple[str, ...] = ()
    access_key: SecretStr
    allowed_users: frozenset[str] = frozenset()  # empty: everyone
    channels: frozenset[str] = frozenset()  # Slack channels whose default workspace this is
    trusted_integrations: frozenset[str] = frozenset()  # bot and app ids whose alerts may trigger lookups
    organization_id: str | None = None  # for Bird's Notifications API (webhook subscriptions)
    signing_key_env: str | None = None  # where the webhook signing key lives, to tell people
    signing_keys: tuple[SecretStr, ...] = ()  # the current key first; a second one during a key change

    @property
    def label(self) -> str:
        """How to name the workspace to people: its first alias, else its id."""
        return self.aliases[0] if self.aliases else self.id

    def allows(self, user_id: str) -> bool:
        """Whether this Slack user may query the workspace."""
        return not self.allowed_users or user_id in self.allowed_users


class EnrichmentConfig(BaseModel):
    """Where birdwatch adds explanations to alerts on its own."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    all_channels: bool = False
    channels: frozenset[str] = frozenset()
    repeat_window_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # Channels that carry only Bird alerts: a bare code there needs no other sign that it is Bird's.
    bird_channels: frozenset[str] = frozenset()


WEBHOOK_PATH = "/bird/webhooks"


class AlertRoute(BaseModel):
    """Which failures go to which Slack channel, and when they alert. Unset matchers match anything."""

    model_config = ConfigDict(frozen=True)

    channel: str
    workspace_id: str | None = None
    bird_channel: str | None = None
    platform: str | None = None
    code: int | None = None
    family: int | None = None  # the code's first two digits
    threshold: int = 5
    window_minutes: int = 5
    quiet_minutes: int = 30

    def matches(self, workspace_id: str, bird_channel: str, platform: str, code: int | None) -> bool:
        return (
            (self.workspace_id is None or self.workspace_id == workspace_id)
            and (self.bird_channel is None or self.bird_channel == bird_channel.lower())
            and (self.platform is None or self.platform == platform.lower())
            and (self.code is None or self.code == code)
            and (self.family is None or (code is not None and code // 1000 == self.family))
        )


class AlertsConfig(BaseModel):
    """Bird's webhooks as Slack alerts: where Bird calls, where alerts go, when the digest is posted."""

    model_config = ConfigDict(frozen=True)

    webhook_url: str | None = None  # the public URL Bird calls and signs
    routes: tuple[AlertRoute, ...] = ()
    digest_hour: int | None = None  # UTC hour of the daily digest; None: no digest
    bird_link: str | None = None  # template of an "Open in Bird" link: {workspace}, {channel}

    def route_for(self, workspace_id: str, bird_channel: str, platform: str, code: int | None) -> AlertRoute | None:
        """The first route that matches, in the file's order."""
        return next((r for r in self.routes if r.matches(workspace_id, bird_channel, platform, code)), None)


def webhook_url(public_url: str) -> str:
    """The URL Bird calls, from birdwatch's public base URL (or that URL itself, given whole)."""
    base = public_url.rstrip("/")
    return base if base.endswith(WEBHOOK_PATH) else base + WEBHOOK_PATH


class BirdwatchConfig(BaseModel):
    """Every workspace birdwatch knows and the rules for using them."""

    model_config = ConfigDict(frozen=True)

    workspaces: tuple[WorkspaceConfig, ...] = ()
    show_details: bool = True
    enrichment: EnrichmentConfig = EnrichmentConfig()
    alerts: AlertsConfig = AlertsConfig()
    # Without listed workspaces: the key used for any workspace id, and the default workspace id.
    adhoc_access_key: SecretStr | None = None
    default_workspace_id: str | None = None
    adhoc_trusted_integrations: frozenset[str] = frozenset()  # BIRDWATCH_TRUSTED_INTEGRATIONS
    # Per Slack channel: bot and app ids whose alerts there may trigger lookups in any workspace.
    channel_trusted_integrations: Mapping[str, frozenset[str]] = {}

    @property
    def configured(self) -> bool:
        """Whether any workspace can be queried at all; if not, callers say "not configured"."""
        return bool(self.workspaces) or self.adhoc_access_key is not None

    def resolve(self, name_or_id: str) -> WorkspaceConfig | None:
        """The workspace with this id or alias (both case-insensitive), or None."""
        wanted = name_or_id.strip().lower()
        canonical = canonical_uuid(wanted)
        by_id = next((ws for ws in self.workspaces if ws.id == canonical), None)
        by_alias = next((ws for ws in self.workspaces if wanted in {a.lower() for a in ws.aliases}), None)
        if by_id or by_alias:
            return by_id or by_alias
        if canonical is not None and self.adhoc_access_key is not None:
            return WorkspaceConfig(
                id=canonical, access_key=self.adhoc_access_key, trusted_integrations=self.adhoc_trusted_integrations
            )
        return None

    def default_for_channel(self, slack_channel_id: str) -> WorkspaceConfig | None:
        """The workspace a Slack channel queries when the user names none."""
        for workspace in self.workspaces:
            if slack_channel_id in workspace.channels:
                return workspace
        return self.resolve(self.default_workspace_id) if self.default_workspace_id else None

    def trusts_integration(self, channel_id: str, workspace_id: str, integration_ids: Collection[str]) -> bool:
        """Whether a post by one of these integrations (bot or app ids) may trigger a lookup in the
        workspace from this channel: the workspace or the channel names it in the config file."""
        workspace = self.resolve(workspace_id)
        trusted = self.channel_trusted_integrations.get(channel_id, frozenset())
        if workspace is not None:
            trusted = trusted | workspace.trusted_integrations
        return not trusted.isdisjoint(integration_ids)

    def enriches(self, channel_id: str) -> bool:
        """Whether alerts in this Slack channel get an explanation without being asked."""
        return self.enrichment.all_channels or channel_id in self.enrichment.channels

    def only_bird_alerts(self, channel_id: str) -> bool:
        """Whether this Slack channel was declared to carry only Bird alerts (the looser scanning rule)."""
        return channel_id in self.enrichment.bird_channels


# --- the file -----------------------------------------------------------------------------------


def _workspace_id(value: str) -> str:
    canonical = canonical_uuid(value)
    if canonical is None:
        raise ValueError("must be a Bird workspace id (a UUID)")
    return canonical


def _organization_id(value: str) -> str:
    canonical = canonical_uuid(value)
    if canonical is None:
        raise ValueError("must be a Bird organization id (a UUID)")
    return canonical


def _alias(value: str) -> str:
    alias = value.strip()
    if not alias or any(char.isspace() for char in alias):
        raise ValueError(f"{value!r} is not a usable alias: it must be one word")
    return alias


def _env_name(value: str) -> str:
    # Never echo the value: someone may have pasted the key itself here.
    if not _ENV_NAME.fullmatch(value):
        raise ValueError("must be the NAME of an environment variable (A-Z, 0-9, _), not the key itself")
    return value


def _slack_user(value: str) -> str:
    if not _SLACK_USER.fullmatch(value.strip()):
        raise ValueError(f"{value!r} is not a Slack user id (like U0123ABCD)")
    return value.strip()


def _slack_integration(value: str) -> str:
    if not SLACK_INTEGRATION_ID.fullmatch(value.strip()):
        raise ValueError(f"{value!r} is not a Slack bot id (like B0123ABCD) or app id (like A0123ABCD)")
    return value.strip()


def _slack_channel(value: str) -> str:
    if not SLACK_CHANNEL_ID.fullmatch(value.strip()):
        raise ValueError(f"{value!r} is not a Slack channel id (like C0123ABCD; not a #name)")
    return value.strip()


SlackUserId = Annotated[str, AfterValidator(_slack_user)]
SlackChannelId = Annotated[str, AfterValidator(_slack_channel)]
SlackIntegrationId = Annotated[str, AfterValidator(_slack_integration)]


class _WorkspaceEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, AfterValidator(_workspace_id)]
    aliases: list[Annotated[str, AfterValidator(_alias)]] = []
    access_key_env: Annotated[str, AfterValidator(_env_name)]
    allowed_users: list[SlackUserId] = []
    channels: list[SlackChannelId] = []
    trusted_integrations: list[SlackIntegrationId] = []
    organization_id: Annotated[str, AfterValidator(_organization_id)] | None = None
    signing_key_env: Annotated[str, AfterValidator(_env_name)] | None = None
    previous_signing_key_env: Annotated[str, AfterValidator(_env_name)] | None = None


def _public_url(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value.strip()):
        raise ValueError("must be the URL where Bird reaches birdwatch, like https://birdwatch.example.com")
    return value.strip()


def _family(value: int | str) -> int:
    text = str(value).strip().lower().removesuffix("xxx")
    if not (text.isdigit() and 10 <= int(text) <= 99):
        raise ValueError("must be a family such as 15xxx (or 15)")
    return int(text)


class _AlertsSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    public_url: Annotated[str, AfterValidator(_public_url)] | None = None
    digest_hour: int | None = Field(default=None, ge=0, le=23)
    bird_link: str | None = None


class _AlertRouteEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: SlackChannelId
    workspace: str | None = None
    bird_channel: Annotated[str, AfterValidator(_workspace_id)] | None = None
    platform: Annotated[str, AfterValidator(lambda v: v.strip().lower())] | None = None
    code: int | None = Field(default=None, ge=10000, le=99999)
    family: Annotated[int | str, AfterValidator(_family)] | None = None
    threshold: int = Field(default=5, ge=1, le=1_000_000)
    window_minutes: int = Field(default=5, ge=1, le=60)
    quiet_minutes: int = Field(default=30, ge=1, le=24 * 60)


class _PrivacySection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    show_details: bool = True


class _EnrichmentSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    all_channels: bool = False
    channels: list[SlackChannelId] = []
    repeat_window_minutes: int = Field(default=30, ge=1, le=24 * 60)
    bird_channels: list[SlackChannelId] | None = None


class _ConfigFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    privacy: _PrivacySection = _PrivacySection()
    workspace: list[_WorkspaceEntry] = []
    enrichment: _EnrichmentSection = _EnrichmentSection()
    trusted_integrations: dict[SlackChannelId, list[SlackIntegrationId]] = {}
    alerts: _AlertsSection = _AlertsSection()
    alert_route: list[_AlertRouteEntry] = []


# --- loading ------------------------------------------------------------------------------------


def load_config(settings: Settings, environ: Mapping[str, str] = os.environ) -> BirdwatchConfig:
    """Read the workspace configuration, or raise ConfigError naming every problem."""
    path = settings.birdwatch_config
    if path is None:
        general = BirdwatchConfig(enrichment=_enrichment(settings, _EnrichmentSection()))
        general = general.model_copy(update={"alerts": _alerts(settings, _AlertsSection(), [], ())})
        return _from_environment(settings, environ, general, where="the environment")
    file = _read_file(path)
    general = BirdwatchConfig(
        show_details=file.privacy.show_details,
        enrichment=_enrichment(settings, file.enrichment),
        channel_trusted_integrations={ch: frozenset(ids) for ch, ids in file.trusted_integrations.items()},
    )
    # Every problem in one message, so one edit of the file fixes them all.
    problems = _enrichment_problems(file.enrichment) + _alert_problems(file)
    if not file.workspace:
        _raise_if(problems + _environment_problems(settings), path)
        return _from_environment(settings, environ, general, where=str(path))
    problems += _workspace_problems(file.workspace, environ)
    problems += _default_workspace_problems(file.workspace, settings)
    _raise_if(problems, path)
    config = general.model_copy(update={"workspaces": tuple(_workspace(entry, environ) for entry in file.workspace)})
    alerts = _alerts(settings, file.alerts, file.alert_route, config.workspaces)
    return _with_default_workspace(config.model_copy(update={"alerts": alerts}), settings, path)


def _alerts(
    settings: Settings,
    section: _AlertsSection,
    entries: list[_AlertRouteEntry],
    workspaces: tuple[WorkspaceConfig, ...],
) -> AlertsConfig:
    public = section.public_url or (str(settings.birdwatch_public_url) if settings.birdwatch_public_url else None)
    by_name = {name.lower(): ws.id for ws in workspaces for name in (ws.id, *ws.aliases)}
    routes = tuple(
        AlertRoute(
            channel=entry.channel,
            workspace_id=by_name.get((canonical_uuid(entry.workspace) or entry.workspace).lower())
            if entry.workspace
            else None,
            bird_channel=entry.bird_channel,
            platform=entry.platform,
            code=entry.code,
            family=entry.family if isinstance(entry.family, int) else None,
            threshold=entry.threshold,
            window_minutes=entry.window_minutes,
            quiet_minutes=entry.quiet_minutes,
        )
        for entry in entries
    )
    return AlertsConfig(
        webhook_url=webhook_url(public) if public else None,
        routes=routes,
        digest_hour=section.digest_hour,
        bird_link=section.bird_link,
    )


def _alert_problems(file: _ConfigFile) -> list[str]:
    names = {name.lower() for e in file.workspace for name in (e.id, *e.aliases)}
    problems = [
        f"[[alert_route]] #{index}: workspace {entry.workspace!r} is no [[workspace]] of the file (by id or alias)"
        for index, entry in enumerate(file.alert_route, start=1)
        if entry.workspace is not None and (canonical_uuid(entry.workspace) or entry.workspace).lower() not in names
    ]
    signing = [e for e in file.workspace if e.signing_key_env]
    if file.alert_route and not signing:
        problems.append("[[alert_route]] is set but no [[workspace]] has a signing_key_env for Bird's webhooks")
    return problems


def _enrichment(settings: Settings, section: _EnrichmentSection) -> EnrichmentConfig:
    """The file's [enrichment] channels when it names any, else BIRDWATCH_ENRICH_CHANNELS; neither
    means no channel is enriched: birdwatch speaks up unasked only where someone said it may."""
    configured_in_file = section.all_channels or bool(section.channels)
    return EnrichmentConfig(
        all_channels=section.all_channels if configured_in_file else settings.enrich_all_channels,
        channels=frozenset(section.channels) if configured_in_file else settings.enrich_channel_ids,
        repeat_window_minutes=section.repeat_window_minutes,
        # The file's list when it has the key (even empty), else BIRDWATCH_BIRD_CHANNELS.
        bird_channels=frozenset(section.bird_channels)
        if section.bird_channels is not None
        else settings.bird_alert_channel_ids,
    )


def _from_environment(
    settings: Settings, environ: Mapping[str, str], general: BirdwatchConfig, *, where: str
) -> BirdwatchConfig:
    default_id = (settings.bird_workspace_id or "").strip() or None
    adhoc = {
        "adhoc_access_key": settings.bird_access_key,
        "adhoc_trusted_integrations": settings.trusted_integration_ids,
    }
    if default_id is None:
        return general.model_copy(update=adhoc)
    _raise_if(_environment_problems(settings), where)
    return general.model_copy(update=adhoc | {"default_workspace_id": canonical_uuid(default_id)})


def _environment_problems(settings: Settings) -> list[str]:
    """Problems of the default workspace given by the environment alone (no [[workspace]])."""
    default_id = (settings.bird_workspace_id or "").strip()
    if not default_id:
        return []
    problems: list[str] = []
    if canonical_uuid(default_id) is None:
        problems.append(f"{WORKSPACE_ID_ENV} must be a Bird workspace id (a UUID)")
    if settings.bird_access_key is None:
        problems.append(f"{WORKSPACE_ID_ENV} is set but BIRD_ACCESS_KEY is not")
    return problems


def _default_workspace_problems(entries: list[_WorkspaceEntry], settings: Settings) -> list[str]:
    name = (settings.bird_workspace_id or "").strip().lower()
    if not name:
        return []
    known = {entry.id for entry in entries} | {alias.lower() for entry in entries for alias in entry.aliases}
    if name in known or canonical_uuid(name) in known:
        return []
    return [f"{WORKSPACE_ID_ENV} names no [[workspace]] of the file (by id or alias)"]


def _with_default_workspace(config: BirdwatchConfig, settings: Settings, path: Path) -> BirdwatchConfig:
    name = (settings.bird_workspace_id or "").strip()
    if not name:
        return config
    workspace = config.resolve(name)
    if workspace is None:
        raise ConfigError(_describe(path, [f"{WORKSPACE_ID_ENV} names no [[workspace]] of the file (by id or alias)"]))
    return config.model_copy(update={"default_workspace_id": workspace.id})


def _read_file(path: Path) -> _ConfigFile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"birdwatch cannot start: BIRDWATCH_CONFIG names {path}, which does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"birdwatch cannot start: cannot read {path}: {type(exc).__name__}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"birdwatch cannot start: {path} is not valid TOML: {exc}") from None
    try:
        return _ConfigFile.model_validate(data)
    except ValidationError as exc:
        # Name the duplicates and conflicts too, read from the raw entries: one message for all.
        problems = _validation_problems(exc)
        problems += [problem for problem in _raw_duplicate_problems(data) if problem not in problems]
        raise ConfigError(_describe(path, problems)) from None


def _workspace(entry: _WorkspaceEntry, environ: Mapping[str, str]) -> WorkspaceConfig:
    key_names = [name for name in (entry.signing_key_env, entry.previous_signing_key_env) if name]
    return WorkspaceConfig(
        id=entry.id,
        aliases=tuple(entry.aliases),
        access_key=SecretStr(environ[entry.access_key_env].strip()),
        allowed_users=frozenset(entry.allowed_users),
        channels=frozenset(entry.channels),
        trusted_integrations=frozenset(entry.trusted_integrations),
        organization_id=entry.organization_id,
        signing_key_env=entry.signing_key_env,
        signing_keys=tuple(SecretStr(environ[name].strip()) for name in key_names if environ.get(name, "").strip()),
    )


def _workspace_problems(entries: list[_WorkspaceEntry], environ: Mapping[str, str]) -> list[str]:
    problems = [
        f"[[workspace]] {entry.id}: environment variable {entry.access_key_env} (its access key) is not set"
        for entry in entries
        if not environ.get(entry.access_key_env, "").strip()
    ]
    problems += [
        f"[[workspace]] {entry.id}: environment variable {name} (its webhook signing key) is not set"
        for entry in entries
        for name in (entry.signing_key_env, entry.previous_signing_key_env)
        if name and not environ.get(name, "").strip()
    ]
    return problems + _duplicate_problems([(e.id, e.aliases, e.channels) for e in entries])


_Entry = tuple[str, list[str], list[str]]  # a workspace's id, aliases and channels


def _duplicate_problems(entries: list[_Entry], enrichment_channels: Iterable[str] = ()) -> list[str]:
    """Ids, aliases and channels named twice, and channels claimed by two workspaces."""
    problems = [f"workspace id {ws_id} is listed more than once" for ws_id in _repeated(e[0] for e in entries)]
    problems += [
        f"alias {alias!r} is used more than once" for alias in _repeated(a.lower() for e in entries for a in e[1])
    ]
    ids = {ws_id for ws_id, _, _ in entries}
    problems += [
        f"[[workspace]] {ws_id}: alias {alias!r} is the id of another workspace"
        for ws_id, aliases, _ in entries
        for alias in aliases
        if canonical_uuid(alias) in ids - {ws_id}
    ]
    problems += [
        f"[[workspace]] {ws_id}: Slack channel {channel} is listed more than once"
        for ws_id, _, channels in entries
        for channel in _repeated(channels)
    ]
    problems += [
        f"Slack channel {channel} is the default channel of more than one workspace"
        for channel in _repeated(ch for e in entries for ch in set(e[2]))
    ]
    problems += [
        f"[enrichment] channel {channel} is listed more than once" for channel in _repeated(enrichment_channels)
    ]
    return problems


def _raw_duplicate_problems(data: object) -> list[str]:
    """``_duplicate_problems`` of a file that failed validation, from whatever entries are readable."""
    if not isinstance(data, dict):
        return []
    entries: list[_Entry] = []
    raw_entries = data.get("workspace")
    for raw in raw_entries if isinstance(raw_entries, list) else []:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            continue
        entries.append(
            (canonical_uuid(raw["id"]) or raw["id"], _strings(raw.get("aliases")), _strings(raw.get("channels")))
        )
    enrichment = data.get("enrichment")
    return _duplicate_problems(entries, _strings(enrichment.get("channels")) if isinstance(enrichment, dict) else [])


def _strings(value: object) -> list[str]:
    return [item.strip() for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _enrichment_problems(section: _EnrichmentSection) -> list[str]:
    problems = [f"[enrichment] channel {channel} is listed more than once" for channel in _repeated(section.channels)]
    if section.all_channels and section.channels:
        problems.append(
            "[enrichment] lists channels but all_channels is true: set all_channels = false to use the list"
        )
    if section.channels and not section.all_channels:
        problems += [
            f"[enrichment] bird_channels: {channel} is not enriched; add it to channels too"
            for channel in sorted(set(section.bird_channels or []) - set(section.channels))
        ]
    problems += [
        f"[enrichment] bird_channels: {channel} is listed more than once"
        for channel in _repeated(section.bird_channels or [])
    ]
    return problems


def _validation_problems(exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        where = _location(error["loc"])
        if error["type"] == "extra_forbidden" and error["loc"][-1] == "access_key":
            problems.append(f"{where}: keep the key out of the file; name its environment variable in access_key_env")
        elif error["type"] == "extra_forbidden":
            problems.append(f"{where}: unknown setting")
        elif error["type"] == "missing":
            problems.append(f"{where}: is required")
        else:
            problems.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
    return problems


def _location(loc: tuple[int | str, ...]) -> str:
    """``("workspace", 0, "aliases", 1)`` as ``[[workspace]] #1: aliases[1]`` (workspaces counted from 1)."""
    parts = list(loc)
    if len(parts) >= 2 and parts[0] in ("workspace", "alert_route") and isinstance(parts[1], int):
        head, parts = f"[[{parts[0]}]] #{parts[1] + 1}", parts[2:]
    elif parts and parts[0] in ("privacy", "enrichment", "trusted_integrations", "alerts") and len(parts) > 1:
        head, parts = f"[{parts[0]}]", parts[1:]
    else:
        return "".join(f"[{part}]" if isinstance(part, int) else str(part) for part in parts)
    rest = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in parts).lstrip(".")
    return f"{head} {rest}" if rest else head


def _raise_if(problems: list[str], where: Path | str) -> None:
    if problems:
        raise ConfigError(_describe(where, problems))


def _describe(where: Path | str, problems: list[str]) -> str:
    return f"birdwatch cannot start; fix {where}:\n" + "\n".join(f"  - {problem}" for problem in problems)


def _repeated(values: Iterable[str]) -> list[str]:
    return [value for value, count in Counter(values).items() if count > 1]
