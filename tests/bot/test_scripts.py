"""scripts/bootstrap: keeps a working .venv as it is, remakes one with the wrong Python, and
installs only what running needs for scripts/run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# A project with nothing to install at run time, and one development tool.
PROBE_PROJECT = """
[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "bootstrap-probe"
version = "0"
requires-python = ">=3.11"

[project.optional-dependencies]
dev = ["respx"]

[tool.setuptools]
py-modules = []
"""


def _project(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "bootstrap", tmp_path / "scripts" / "bootstrap")
    (tmp_path / "pyproject.toml").write_text(PROBE_PROJECT, encoding="utf-8")
    return tmp_path


def _bootstrap(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BIRDWATCH_PYTHON": sys.executable}
    return subprocess.run(  # noqa: S603
        [str(project / "scripts" / "bootstrap"), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )


def test_an_installed_venv_is_left_as_it_is(tmp_path: Path) -> None:
    project = _project(tmp_path)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(project / ".venv")], check=True)  # noqa: S603
    (project / ".venv" / ".installed-runtime").touch()
    config = project / ".venv" / "pyvenv.cfg"
    before = config.stat()

    result = _bootstrap(project, "--runtime")

    assert result.returncode == 0, result.stderr
    after = config.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # not made again


def test_a_venv_with_a_broken_python_is_made_again_with_runtime_deps_only(tmp_path: Path) -> None:
    project = _project(tmp_path)
    broken = project / ".venv" / "bin" / "python"
    broken.parent.mkdir(parents=True)
    broken.write_text("#!/bin/sh\necho 'Python 3.8.10'\nexit 1\n", encoding="utf-8")
    broken.chmod(0o755)
    (project / ".venv" / ".installed-runtime").touch()

    result = _bootstrap(project, "--runtime")

    assert result.returncode == 0, result.stderr
    assert "making it again" in result.stderr
    python = project / ".venv" / "bin" / "python"
    version = subprocess.run(  # noqa: S603
        [str(python), "-c", "import sys; print(sys.version_info >= (3, 11))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == "True"
    no_dev_tool = subprocess.run([str(python), "-c", "import respx"], capture_output=True, check=False)  # noqa: S603
    assert no_dev_tool.returncode != 0  # scripts/run does not install the development tools
    assert (project / ".venv" / ".installed-runtime").exists()
