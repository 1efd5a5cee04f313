"""The ``birdwatch`` command: serve the bot, explain a failure in a terminal, export the catalog."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from catalog import CatalogError, Explainer, default_catalog
from catalog.answers import MatchesAnswer, NotFoundAnswer, UsageAnswer
from catalog.export import export_catalog, export_schema

from .app import build_runtime
from .logs import configure_logging
from .server import LoggingSocketModeHandler, create_web_app
from .settings import Settings, SettingsError, load_settings
from .terminal import render
from .workspaces import ConfigError

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
