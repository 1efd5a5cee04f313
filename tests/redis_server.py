"""A real ``redis-server`` for the tests: started on a free port, never the default 6379, stopped after.

``redis_server`` is one server for the whole session; every test gets its own key prefix
(``redis_prefix``) so tests never see each other's keys. Tests that stop and restart Redis take a
private server from ``own_redis_server``. Without the binary the tests skip, except under ``CI=true``,
where they fail: CI must never pass by skipping them (``scripts/test`` installs it).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ports import free_port


class RedisServer:
    """One redis-server process without persistence; ``stop`` and ``start`` keep its port."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        if self.running:
            return
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--dir", str(self.workdir), "--logfile", "", "--loglevel", "warning"]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        self._wait_until_answering()

    def stop(self) -> None:
        """Stop at once (SIGKILL): a crash, as a failing Redis would look to birdwatch."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(10)
            self._process = None

    def _wait_until_answering(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited with status {self._process.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError("redis-server did not answer")
            time.sleep(0.05)


def redis_binary() -> str:
    """The redis-server binary, or skip (fail under CI) when there is none."""
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not installed (scripts/test installs Debian's redis-server package)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return binary


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(redis_binary(), tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A server of this test's own, which it may stop and start again."""
    server = RedisServer(redis_binary(), tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix no other test uses."""
    return f"test-{uuid.uuid4().hex[:12]}:"
