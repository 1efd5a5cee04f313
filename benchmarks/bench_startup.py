"""How fast birdwatch starts from a terminal: ``explain``, the bootstrap check and ``scripts/run``.

Run: .venv/bin/python -m benchmarks.bench_startup

Prints the median of RUNS wall-clock and CPU (user + sys) times for ``birdwatch explain 15011`` (a new
process each time, the data files' parse already in the user cache as from the second run on), the
module import time ``python -X importtime`` reports for it, the first run with an empty cache, the time
``scripts/bootstrap --runtime`` takes on an installed ``.venv``, and the time from starting
``scripts/run`` until ``/healthz`` answers (Slack's Web API pointed at a closed port, so nothing waits
on the network). Also prints the load average: on a shared machine every figure moves with it.
"""

from __future__ import annotations

import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.ports import free_port

RUNS = 7
REPO = Path(__file__).resolve().parents[1]
BIRDWATCH = REPO / ".venv" / "bin" / "birdwatch"


def _timed(command: list[str], **kwargs: object) -> float:
    return _timed_with_cpu(command, **kwargs)[0]


def _timed_with_cpu(command: list[str], **kwargs: object) -> tuple[float, float]:
    """Wall-clock and CPU (user + sys) seconds of one run: on a busy machine the CPU time moves less."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)  # type: ignore[call-overload]  # noqa: S603
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def _explain_env(cache_home: str) -> dict[str, str]:
    # A cache of its own, so the first run is the empty-cache one. Bytecode is written as an installed
    # birdwatch has it (pip compiles at install): without it every run compiles birdwatch's modules.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    return env | {"XDG_CACHE_HOME": cache_home}


def _explain() -> None:
    command = [str(BIRDWATCH), "explain", "15011"]
    with tempfile.TemporaryDirectory() as warm_up, tempfile.TemporaryDirectory() as cache_home:
        _timed(command, env=_explain_env(warm_up))  # writes the bytecode where it is missing
        env = _explain_env(cache_home)
        first_wall, first_cpu = _timed_with_cpu(command, env=env)
        runs = [_timed_with_cpu(command, env=env) for _ in range(RUNS)]
        imports = [_import_seconds(env) for _ in range(3)]
    walls, cpus = [wall for wall, _ in runs], [cpu for _, cpu in runs]
    print(
        f"birdwatch explain 15011: median {statistics.median(walls):.2f} s (min {min(walls):.2f} s), "
        f"CPU median {statistics.median(cpus):.2f} s (min {min(cpus):.2f} s)"
    )
    print(f"  of which imports (python -X importtime): median {statistics.median(imports):.2f} s")
    print(f"  first run, empty cache: {first_wall:.2f} s, CPU {first_cpu:.2f} s")


def _import_seconds(env: dict[str, str]) -> float:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot", "explain", "15011"],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        env=env,
    )
    total_us = 0
    for line in result.stderr.splitlines():
        fields = line.split("|")
        top_level = len(fields) == 3 and fields[2].startswith(" ") and not fields[2].startswith("  ")
        if line.startswith("import time:") and top_level and fields[1].strip().isdigit():
            total_us += int(fields[1])  # the cumulative time of each top-level import
    return total_us / 1e6


def _run_until_healthy() -> float:
    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-benchmark",
        "SLACK_SIGNING_SECRET": "benchmark",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/",
        "SKIP_SLACK_SDK_WARNING": "1",
    }
    started = time.perf_counter()
    command = [str(REPO / "scripts" / "run")]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    return time.perf_counter() - started
            except OSError:
                time.sleep(0.01)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(15)


def main() -> None:
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    _explain()
    bootstrap = [_timed([str(REPO / "scripts" / "bootstrap"), "--runtime"]) for _ in range(RUNS)]
    print(f"scripts/bootstrap --runtime, installed: median {statistics.median(bootstrap):.2f} s")
    healthy = [_run_until_healthy() for _ in range(3)]
    print(f"scripts/run until /healthz answers: median {statistics.median(healthy):.2f} s")


if __name__ == "__main__":
    main()
