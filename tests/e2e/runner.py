"""Runs the node end-to-end scripts in this folder from pytest.

Locally, a missing prerequisite (node, ``npm ci --prefix tests/e2e``, Debian's chromium) skips
with the reason; with ``CI=true`` it fails instead, so CI can never pass by skipping them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

E2E_DIR = Path(__file__).resolve().parent
REPO = E2E_DIR.parents[1]
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
#: Generous: the first run of the offline voice and Chromium's cold start both take seconds.
TIMEOUT_SECONDS = 180


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def missing(reason: str) -> None:
    """Skip locally, fail in CI."""
    if in_ci():
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def require(*, packages: tuple[str, ...], chromium: bool = False) -> str:
    """The node executable, after checking everything the scripts need is installed."""
    node = shutil.which("node")
    if node is None:
        missing("node is not installed (Debian package nodejs)")
    assert node is not None
    for package in packages:
        if not (E2E_DIR / "node_modules" / package / "package.json").is_file():
            missing(f"node package {package} missing: run `npm ci --prefix tests/e2e`")
    if chromium and not os.access(CHROMIUM, os.X_OK):
        missing(f"{CHROMIUM} missing: apt-get install --no-install-recommends chromium")
    return node


def server_binary() -> str:
    """The ``mama-moments`` script of the Python running the tests (the project's venv)."""
    beside = Path(sys.executable).with_name("mama-moments")
    return str(beside) if beside.is_file() else shutil.which("mama-moments") or "mama-moments"


def run_script(node: str, script: str, *args: str, env: dict[str, str] | None = None) -> str:
    """Run ``node tests/e2e/<script>``; fail with its whole output unless it exits 0."""
    environ = {**os.environ, "MAMA_MOMENTS_BIN": server_binary(), **(env or {})}
    environ.pop("BASE_URL", None)  # always the script's own fresh server
    try:
        result = subprocess.run(
            [node, str(E2E_DIR / script), *args],
            cwd=REPO,
            env=environ,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{script} timed out after {TIMEOUT_SECONDS} s:\n{exc.stdout}\n{exc.stderr}")
    output = f"{result.stdout}\n{result.stderr}"
    if result.returncode != 0:
        pytest.fail(f"{script} failed (exit {result.returncode}):\n{output}", pytrace=False)
    return output
