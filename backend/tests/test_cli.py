"""The `todo-api` command: migrate, and serve from any working directory on the SQLite default."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

COMMAND = [sys.executable, "-m", "todo_api.cli"]


def clean_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    return env | extra


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_migrate_creates_the_sqlite_default_in_the_working_directory(tmp_path: Path) -> None:
    result = subprocess.run(
        [*COMMAND, "migrate"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "todo.db").exists()


def test_bad_database_url_is_a_clear_error(tmp_path: Path) -> None:
    env = clean_env(DATABASE_URL="mysql://user:hunter2@host/db")

    result = subprocess.run(
        [*COMMAND, "migrate"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "not supported" in result.stderr
    assert "hunter2" not in result.stderr


def test_serve_runs_the_api_from_any_directory(tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [*COMMAND, "serve", "--port", str(port)],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(f"{base}/health")
        request = urllib.request.Request(
            f"{base}/api/cli-user/tasks",
            data=json.dumps({"title": "from the CLI"}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 201
        with urllib.request.urlopen(f"{base}/api/cli-user/tasks", timeout=5) as response:
            assert [task["title"] for task in json.load(response)] == ["from the CLI"]
        with urllib.request.urlopen(f"{base}/docs", timeout=5) as response:
            assert response.status == 200
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0].decode()
    assert "Application shutdown complete" in output  # SIGTERM shuts down gracefully
    assert (tmp_path / "todo.db").exists()


def _wait_until_up(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"server did not come up at {url}")
