"""The ``birdwatch`` command: serve the bot, explain a failure in a terminal, export the catalog.

Each command imports what it needs when it runs: ``explain`` answers from the catalog alone and
never pays for Slack, aiohttp or the server (``python -X importtime -m bot explain 15011``).
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

    from .bird_notifications import Notifications
    from .settings import Settings
    from .workspaces import BirdwatchConfig, WorkspaceConfig

USAGE_ERROR = 2  # what argparse returns for bad arguments; a start-up problem is the same kind


class CommandError(Exception):
    """A problem the user can fix, said in one message (printed without a traceback)."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        code: int = args.run(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler below
    except CommandError as exc:
        print(str(exc), file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:  # Ctrl-C before serve installs its handlers, or during explain/catalog
        return 130
    except BrokenPipeError:
        # The reader went away (``birdwatch catalog | head -1``): nothing more to write, and no
        # traceback. Point stdout at devnull so the interpreter's final flush fails silently too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print("birdwatch: output closed before everything was written", file=sys.stderr)
        return 1
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="birdwatch", description="Explain failed Bird messages in Slack.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the Slack bot (HTTP, or Socket Mode with SLACK_APP_TOKEN)")
    serve.add_argument("--port", type=int, help="override PORT")
    serve.set_defaults(run=_serve)

    explain = commands.add_parser("explain", help="explain a failure code, name, source or reason")
    explain.add_argument("query", nargs="*", help="e.g. 15011, 'opted out', 'whatsapp 131047'; - reads standard input")
    explain.add_argument("--json", action="store_true", help="print the answer as JSON")
    explain.set_defaults(run=_explain)

    export = commands.add_parser("catalog", help="print the whole catalog as JSON")
    export.add_argument("--json", action="store_true", help="JSON output (the default; kept for scripts)")
    export.add_argument("--schema", action="store_true", help="print the export's JSON Schema instead")
    export.add_argument("--markdown", action="store_true", help="print the catalog as one Markdown document")
    export.add_argument("--coverage", action="store_true", help="print the coverage table (Markdown)")
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
    from catalog import CatalogError, Explainer, default_catalog
    from catalog.answers import MatchesAnswer, NotFoundAnswer, UsageAnswer

    from .terminal import render

    query = sys.stdin.read() if args.query == ["-"] else " ".join(args.query)
    try:
        answer = Explainer(default_catalog()).explain(query.strip())
    except CatalogError as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        import json

        print(json.dumps(answer.model_dump(mode="json"), indent=2, ensure_ascii=False))
    else:
        print(render(answer))
    # Scripts can tell a definite answer (0) from "nothing definite" (1).
    return 1 if isinstance(answer, NotFoundAnswer | UsageAnswer | MatchesAnswer) else 0


def _catalog(args: argparse.Namespace) -> int:
    import json

    from catalog import CatalogError, default_catalog
    from catalog.export import export_catalog, export_schema
    from catalog.markdown import coverage_table, render_markdown

    try:
        if args.markdown or args.coverage:
            text = (render_markdown if args.markdown else coverage_table)(default_catalog()) + "\n"
        else:
            data = export_schema() if args.schema else export_catalog(default_catalog())
            text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    except CatalogError as exc:
        raise CommandError(str(exc)) from None
    if args.output:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise CommandError(f"birdwatch cannot write {args.output}: {reason}") from None
    else:
        sys.stdout.write(text)
    return 0


def _serve(args: argparse.Namespace) -> int:
    import asyncio

    from .logs import configure_logging
    from .settings import SettingsError, load_settings
    from .slack_auth import TokenRejected
    from .workspaces import ConfigError

    try:
        settings = load_settings(**({"port": args.port} if args.port else {}))
        configure_logging(settings.log_level)
        asyncio.run(serve(settings))
    except (SettingsError, ConfigError, TokenRejected) as exc:
        raise CommandError(str(exc)) from None
    return 0


async def serve(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Serve until SIGTERM/SIGINT (or ``stop``), then shut down within the grace budget.

    On stop: new Slack requests get 503 and the Socket Mode connection closes, then lookups in
    flight and queued replies share ``SHUTDOWN_GRACE_SECONDS``; what is left is logged and dropped.
    """
    import asyncio
    import logging
    import signal

    from aiohttp import web

    from .app import build_runtime
    from .server import SocketModeConnection, create_web_app

    logger = logging.getLogger("birdwatch")
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runtime = build_runtime(settings)
    runner = web.AppRunner(
        create_web_app(runtime, serve_slack=not settings.socket_mode), access_log=None, shutdown_timeout=1.0
    )
    await runner.setup()
    socket: SocketModeConnection | None = None
    if settings.slack_app_token is not None:
        socket = SocketModeConnection(runtime.app, settings.slack_app_token.get_secret_value())
        socket.handler.metrics = runtime.metrics
        runtime.add_readiness_check("slack_socket_mode", socket.connected)
    else:
        runtime.add_readiness_check("slack_token", runtime.identity.check)
    try:
        try:
            await web.TCPSite(runner, settings.host, settings.port).start()
        except OSError as exc:
            raise CommandError(_listen_problem(settings.port, exc)) from None
        # A rejected token stops the start here; Slack out of reach does not (bot.slack_auth).
        if not await _unless_stopped(stop, runtime.identity.verify()):
            return
        if socket is not None and not await _unless_stopped(stop, socket.start()):
            return
        mode = "socket" if socket else "http"
        logger.info("birdwatch is serving", extra={"mode": mode, "port": settings.port})
        await stop.wait()
        logger.info("shutting down", extra={"grace_seconds": settings.shutdown_grace_seconds})
        runtime.stopping = True
        if socket is not None:
            await socket.close()
        await runtime.shutdown(settings.shutdown_grace_seconds)
    finally:
        if socket is not None:
            await socket.close()
        await runner.cleanup()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def _unless_stopped(stop: asyncio.Event, work: Awaitable[Any]) -> bool:
    """Run ``work`` unless ``stop`` is set first (then cancel it); True when it finished."""
    import asyncio

    task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        waiter.cancel()
        task.result()  # re-raise what it raised
        return True
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return False


def _listen_problem(port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        why = "the port is already in use (another birdwatch?); stop that process or set PORT"
    elif exc.errno == errno.EACCES:
        why = "permission denied (ports below 1024 need privileges); set PORT to 1024 or above"
    else:
        why = exc.strerror or str(exc)
    return f"birdwatch cannot listen on port {port}: {why}"


# --- webhooks ---------------------------------------------------------------------------------------


def _notifications(workspace_name: str) -> tuple[Notifications, WorkspaceConfig, BirdwatchConfig]:
    from .app import read_environment
    from .workspaces import ConfigError

    try:
        return _configured_notifications(workspace_name, read_environment())
    except ConfigError as exc:
        raise CommandError(str(exc)) from None


def _configured_notifications(
    workspace_name: str, environ: dict[str, str]
) -> tuple[Notifications, WorkspaceConfig, BirdwatchConfig]:
    from pydantic import AnyHttpUrl, ValidationError

    from .bird_notifications import Notifications
    from .settings import Settings
    from .workspaces import ConfigError, load_config

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
    import secrets

    from .bird_notifications import DEFAULT_PLATFORMS, NotificationsError

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
    from .bird_notifications import NotificationsError

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
    from .bird_notifications import NotificationsError

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
