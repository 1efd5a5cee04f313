"""The ``birdwatch`` command: serve the bot, explain a failure in a terminal, export the catalog."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import secrets
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web
from pydantic import AnyHttpUrl, ValidationError

from catalog import CatalogError, Explainer, default_catalog
from catalog.answers import MatchesAnswer, NotFoundAnswer, UsageAnswer
from catalog.export import export_catalog, export_schema

from .app import build_runtime, read_environment
from .bird_notifications import DEFAULT_PLATFORMS, Notifications, NotificationsError
from .logs import configure_logging
from .server import LoggingSocketModeHandler, create_web_app
from .settings import Settings, SettingsError, load_settings
from .terminal import render
from .workspaces import BirdwatchConfig, ConfigError, WorkspaceConfig, load_config

logger = logging.getLogger("birdwatch")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except (SettingsError, ConfigError, CatalogError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="birdwatch", description="Explain failed Bird messages in Slack.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the Slack bot (HTTP, or Socket Mode with SLACK_APP_TOKEN)")
    serve.add_argument("--port", type=int, help="override PORT")
    serve.set_defaults(run=_serve)

    explain = commands.add_parser("explain", help="explain a failure code, name, source or reason")
    explain.add_argument("query", nargs="*", help="e.g. 15011, 'opted out', 'whatsapp 131047'")
    explain.add_argument("--json", action="store_true", help="print the answer as JSON")
    explain.set_defaults(run=_explain)

    export = commands.add_parser("catalog", help="print the whole catalog as JSON")
    export.add_argument("--json", action="store_true", help="JSON output (the default; kept for scripts)")
    export.add_argument("--schema", action="store_true", help="print the export's JSON Schema instead")
    export.add_argument("--output", "-o", type=Path, help="write to this file instead of stdout")
    export.set_defaults(run=_catalog)

    webhooks = commands.add_parser("webhooks", help="manage the Bird webhook subscriptions that feed alerts")
    actions = webhooks.add_subparsers(required=True, metavar="ACTION")
    subscribe = actions.add_parser("subscribe", help="subscribe birdwatch to a workspace's failed messages")
    subscribe.add_argument("--workspace", required=True, help="alias or id from the config file")
    subscribe.add_argument("--url", required=True, help="the public URL Bird calls, https://…/bird/webhooks")
    subscribe.add_argument(
        "--platform", action="append", help="sms, whatsapp, email, … (repeatable; default: sms, whatsapp, email)"
    )
    subscribe.set_defaults(run=_webhooks_subscribe)
    listing = actions.add_parser("list", help="list a workspace's webhook subscriptions")
    listing.add_argument("--workspace", required=True)
    listing.set_defaults(run=_webhooks_list)
    delete = actions.add_parser("delete", help="delete webhook subscriptions by id")
    delete.add_argument("--workspace", required=True)
    delete.add_argument("ids", nargs="+", metavar="SUBSCRIPTION_ID")
    delete.set_defaults(run=_webhooks_delete)
    return parser


def _explain(args: argparse.Namespace) -> int:
    answer = Explainer(default_catalog()).explain(" ".join(args.query))
    if args.json:
        print(json.dumps(answer.model_dump(mode="json"), indent=2, ensure_ascii=False))
    else:
        print(render(answer))
    # Scripts can tell a definite answer (0) from "nothing definite" (1).
    return 1 if isinstance(answer, NotFoundAnswer | UsageAnswer | MatchesAnswer) else 0


def _catalog(args: argparse.Namespace) -> int:
    data = export_schema() if args.schema else export_catalog(default_catalog())
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _serve(args: argparse.Namespace) -> int:
    settings = load_settings(**({"port": args.port} if args.port else {}))
    configure_logging(settings.log_level)
    asyncio.run(serve(settings))
    return 0


async def serve(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Serve until SIGTERM/SIGINT (or ``stop``), then shut down cleanly."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runtime = build_runtime(settings)
    runner = web.AppRunner(create_web_app(runtime, serve_slack=not settings.socket_mode), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port).start()
    socket_handler = None
    if settings.slack_app_token is not None:
        socket_handler = LoggingSocketModeHandler(runtime.app, settings.slack_app_token.get_secret_value())
        socket_handler.metrics = runtime.metrics
        await socket_handler.connect_async()  # type: ignore[no-untyped-call]
    mode = "socket" if socket_handler else "http"
    logger.info("birdwatch is serving", extra={"mode": mode, "port": settings.port})
    await stop.wait()
    logger.info("shutting down")
    if socket_handler is not None:
        await socket_handler.close_async()  # type: ignore[no-untyped-call]
    await runner.cleanup()


# --- webhooks ---------------------------------------------------------------------------------------


def _notifications(workspace_name: str) -> tuple[Notifications, WorkspaceConfig, BirdwatchConfig]:
    environ = read_environment()
    path = environ.get("BIRDWATCH_CONFIG")
    if not path:
        raise ConfigError("birdwatch webhooks needs the config file: set BIRDWATCH_CONFIG (see the README)")
    public_url = environ.get("BIRDWATCH_PUBLIC_URL")
    try:
        # Only what the config file needs: these commands run without any Slack settings.
        settings = Settings.model_construct(
            birdwatch_config=Path(path),
            bird_api_url=AnyHttpUrl(environ.get("BIRD_API_URL", "https://api.bird.com")),
            birdwatch_public_url=AnyHttpUrl(public_url) if public_url else None,
        )
    except ValidationError:
        raise ConfigError("BIRD_API_URL and BIRDWATCH_PUBLIC_URL must be URLs") from None
    config = load_config(settings, environ)
    workspace = config.resolve(workspace_name)
    if workspace is None or workspace not in config.workspaces:
        raise ConfigError(f"no [[workspace]] named {workspace_name!r} in {path}")
    if workspace.organization_id is None:
        raise ConfigError(f"[[workspace]] {workspace.label}: set organization_id (Bird's Notifications API needs it)")
    client = Notifications(
        str(settings.bird_api_url).rstrip("/"),
        workspace.access_key.get_secret_value(),
        workspace.organization_id,
        workspace.id,
    )
    return client, workspace, config


def _webhooks_subscribe(args: argparse.Namespace) -> int:
    if not str(args.url).startswith("https://"):
        print("Bird only calls https:// URLs; give the public URL of /bird/webhooks", file=sys.stderr)
        return 2
    client, workspace, config = _notifications(args.workspace)
    platforms = tuple(dict.fromkeys(p.strip().lower() for p in args.platform or DEFAULT_PLATFORMS))
    signing_key = secrets.token_urlsafe(32)
    try:
        with client:
            created = client.subscribe(args.url, signing_key, platforms)
    except NotificationsError as exc:
        print(f"webhooks subscribe failed: {exc}", file=sys.stderr)
        return 1
    for subscription in created:
        filters = subscription.get("eventFilters") or [{}]
        print(f"created {subscription.get('id')}  {subscription.get('event')}  {filters[0].get('value', '')}")
    variable = workspace.signing_key_env or f"BIRD_SIGNING_KEY_{workspace.label.upper().replace('-', '_')}"
    print(f"\nSigning key (shown once): {signing_key}")
    print(f"Keep it in the environment variable {variable} (or .env), never in the config file, and name that")
    print(f'variable in the [[workspace]] entry: signing_key_env = "{variable}".')
    if workspace.signing_keys:
        print("This workspace already has a signing key: move it to previous_signing_key_env until you have")
        print("deleted the old subscriptions (birdwatch webhooks list / delete); both keys are accepted meanwhile.")
    if config.alerts.webhook_url is not None and config.alerts.webhook_url != args.url:
        print(f"Warning: birdwatch verifies signatures for {config.alerts.webhook_url}, not {args.url}.")
    return 0


def _webhooks_list(args: argparse.Namespace) -> int:
    client, _, _ = _notifications(args.workspace)
    try:
        with client:
            subscriptions = client.list()
    except NotificationsError as exc:
        print(f"webhooks list failed: {exc}", file=sys.stderr)
        return 1
    for sub in subscriptions:
        filters = ", ".join(f"{f.get('key')}={f.get('value')}" for f in sub.get("eventFilters") or [])
        print(f"{sub.get('id')}  {sub.get('event')}  {filters or '-'}  {sub.get('url')}  {sub.get('status', '')}")
    if not subscriptions:
        print("no webhook subscriptions")
    return 0


def _webhooks_delete(args: argparse.Namespace) -> int:
    client, _, _ = _notifications(args.workspace)
    failed = 0
    with client:
        for subscription_id in args.ids:
            try:
                client.delete(subscription_id)
                print(f"deleted {subscription_id}")
            except NotificationsError as exc:
                print(f"could not delete {subscription_id}: {exc}", file=sys.stderr)
                failed += 1
    return 1 if failed else 0
