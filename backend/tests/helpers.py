"""Assertions shared by the tests."""

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from httpx import Response

PROBLEM_KEYS = {"type", "title", "status", "detail"}
# Words that would betray internals: drivers, SQL, connection strings, tracebacks.
LEAK_MARKERS = (
    "Traceback",
    "asyncpg",
    "sqlalchemy",
    "aiosqlite",
    "SELECT",
    "INSERT",
    "postgresql://",
    "127.0.0.1",
    'File "',
)


def assert_problem(response: Response, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with `status`, and leaks nothing internal."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body.keys() >= PROBLEM_KEYS, body
    assert body["status"] == status
    for marker in LEAK_MARKERS:
        assert marker not in response.text, (marker, response.text)
    return body


def error_locations(body: dict[str, Any]) -> list[list[str | int]]:
    return [error["loc"] for error in body["errors"]]


# Environment variables todo-api reads; subprocess tests start from an environment without them.
_SETTING_PREFIXES = (
    "DATABASE_",
    "BETTER_AUTH_",
    "JWT_",
    "JWKS_",
    "ENVIRONMENT",
    "CORS_",
    "REDIS_",
    "RATE_",
)


def environment_without_settings(**extra: str) -> dict[str, str]:
    """This process's environment minus any todo-api setting, plus `extra`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(_SETTING_PREFIXES)}
    return env | extra


def ensure_node_packages(directory: Path, purpose: str) -> None:
    """`npm ci` what `directory`'s package-lock.json pins, once; without Node, skip the test
    (but never in CI, which must run it)."""
    if (directory / "node_modules" / ".package-lock.json").is_file():
        return
    if shutil.which("npm") is None or shutil.which("node") is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run {purpose}, but node/npm are missing")
        pytest.skip(f"node and npm are needed for {purpose}")
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"],
        cwd=directory,
        check=True,
        capture_output=True,
        timeout=300,
    )
