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

    from .settings import Settings

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
