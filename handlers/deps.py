"""What listeners need from the composition root, as narrow interfaces."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, Protocol


class Spawner(Protocol):
    """Runs slow work after the listener has returned, so Slack's ack is never held up."""

    def spawn(self, work: Coroutine[Any, Any, Any], *, name: str) -> None: ...
