"""Redis round trips counted by Redis itself: ``MONITOR`` lists every command a client sends. Commands a
script runs are listed as the script's own (``lua``) and travel in its one round trip, as a
MULTI ... EXEC transaction does; scripts are named by their SHA1. Used by the fleet benchmark and by
the test that holds an alert to its round trips."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib

from redis.asyncio import Redis

from bot import redis_replies, redis_state
from bot.redis_rate import _RESERVE

SCRIPTS = {
    "claim_each": redis_state._CLAIM_EACH,
    "set_mute": redis_state._SET_MUTE,
    "reply accept": redis_replies._ACCEPT,
    "reply turn": redis_replies._TURN,
    "reply remove": redis_replies._REMOVE,
    "replies keep (background)": redis_replies._KEEP_AND_TAKE,
    "rate reserve": _RESERVE,
}
SCRIPT_NAMES = {hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest(): name for name, text in SCRIPTS.items()}
# Not per event: background rounds, SCRIPT LOAD once per script and process (on its first NOSCRIPT), and
# what a pooled connection sends when it opens.
BACKGROUND = {"replies keep (background)", "ping", "subscribe", "script", "hello", "client", "auth", "select"}


class RoundTrips:
    """What clients send Redis while it runs (MONITOR), one count per round trip, by command or script."""

    def __init__(self, url: str) -> None:
        self._redis = Redis.from_url(url)
        self.counts: dict[str, int] = {}
        self._in_transaction: set[str] = set()  # clients between MULTI and EXEC
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> RoundTrips:
        ready = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._watch(ready))
        await ready.wait()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.sleep(0.2)  # the last commands reach the monitor
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self._redis.aclose()

    async def _watch(self, ready: asyncio.Event) -> None:
        async with self._redis.monitor() as monitor:
            ready.set()
            async for command in monitor.listen():
                if command["client_type"] != "lua":
                    self._count(f"{command['client_address']}:{command['client_port']}", command["command"])

    def _count(self, client: str, command: str) -> None:
        name, _, rest = command.partition(" ")
        name = name.lower()
        if name == "monitor":
            return
        if name == "multi":
            self._in_transaction.add(client)
            return
        if client in self._in_transaction:
            if name not in ("exec", "discard"):
                return
            self._in_transaction.discard(client)
            name = "multi/exec"
        if name == "evalsha":
            name = SCRIPT_NAMES.get(rest.split(" ", 1)[0], "another script")
        self.counts[name] = self.counts.get(name, 0) + 1

    def per_event(self) -> dict[str, int]:
        return {name: calls for name, calls in self.counts.items() if name not in BACKGROUND}

    def background(self) -> int:
        return sum(calls for name, calls in self.counts.items() if name in BACKGROUND)
