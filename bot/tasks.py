"""Background work started from listeners, so a listener returns (and Slack gets its ack) at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

logger = logging.getLogger("birdwatch.tasks")


class BackgroundTasks:
    """Owns fire-and-forget tasks: keeps them referenced, logs their failures, ends them on shutdown."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any], *, name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error("background task failed", extra={"task": task.get_name()}, exc_info=error)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self) -> None:
        """Wait until every task, including ones spawned meanwhile, has finished."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def aclose(self, timeout: float = 5.0, *, reason: str = "closing") -> None:
        """Wait up to ``timeout`` seconds for the tasks, then cancel the rest, logging each."""
        try:
            await asyncio.wait_for(self.drain(), timeout)
        except TimeoutError:
            left = set(self._tasks)
            for task in left:
                logger.warning("background task abandoned", extra={"task": task.get_name(), "reason": reason})
                task.cancel()
            await asyncio.gather(*left, return_exceptions=True)
