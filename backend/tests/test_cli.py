"""The `todo-api` command: migrate, token, openapi, and serve from any directory on the SQLite
default."""

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import make_settings
from tests.helpers import environment_without_settings
from todo_api.main import create_app

COMMAND = [sys.executable, "-m", "todo_api.cli"]
clean_env = environment_without_settings


def run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_migrate_creates_the_sqlite_default_in_the_working_directory(tmp_path: Path) -> None:
    result = run("migrate", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "todo.db").exists()


def test_bad_database_url_is_a_clear_error(tmp_path: Path) -> None:
    result = run("migrate", cwd=tmp_path, DATABASE_URL="mysql://user:hunter2@host/db")

    assert result.returncode == 2
    assert "not supported" in result.stderr
    assert "hunter2" not in result.stderr


def test_production_without_auth_configuration_refuses_to_start(tmp_path: Path) -> None:
    result = run("serve", cwd=tmp_path, ENVIRONMENT="production")

    assert result.returncode == 2
    assert "ENVIRONMENT=production needs" in result.stderr
    assert not (tmp_path / "todo.db").exists()  # refused before touching the database


def test_short_shared_secret_is_refused(tmp_path: Path) -> None:
    result = run("serve", cwd=tmp_path, BETTER_AUTH_SECRET="too-short")

    assert result.returncode == 2
    assert "at least 32 characters" in result.stderr
    assert "too-short" not in result.stderr


def test_invalid_setting_is_named_without_its_value(tmp_path: Path) -> None:
    result = run("migrate", cwd=tmp_path, DB_POOL_SIZE="zero-secret-value")

    assert result.returncode == 2
    assert "db_pool_size" in result.stderr
    assert "zero-secret-value" not in result.stderr


def test_token_needs_a_shared_secret_when_only_a_jwks_is_trusted(tmp_path: Path) -> None:
    result = run("token", "alice", cwd=tmp_path, BETTER_AUTH_URL="http://127.0.0.1:9")

    assert result.returncode == 2
    assert "no shared secret" in result.stderr


def test_openapi_prints_the_apps_document_whatever_the_environment(tmp_path: Path) -> None:
    # Production without auth refuses to serve, but the document describes routes only.
    printed = run("openapi", cwd=tmp_path, ENVIRONMENT="production")
    written = run("openapi", "--output", "openapi.json", cwd=tmp_path, DB_POOL_SIZE="invalid")

    assert printed.returncode == 0, printed.stderr
    assert written.returncode == 0, written.stderr
    document = create_app(make_settings("sqlite+aiosqlite:///:memory:")).openapi()
    assert json.loads(printed.stdout) == document
    assert (tmp_path / "openapi.json").read_text() == printed.stdout
    assert sorted(path.name for path in tmp_path.iterdir()) == ["openapi.json"]  # no secret, no db


def test_serve_in_development_mode_accepts_todo_api_token(tmp_path: Path) -> None:
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
        token = run("token", "cli-user", cwd=tmp_path)
        assert token.returncode == 0, token.stderr
        headers = {"Authorization": f"Bearer {token.stdout.strip()}"}
        with httpx.Client(base_url=base, timeout=5) as client:
            created = client.post(
                "/api/cli-user/tasks", json={"title": "from the CLI"}, headers=headers
            )
            assert created.status_code == 201
            listed = client.get("/api/cli-user/tasks", headers=headers)
            assert [task["title"] for task in listed.json()] == ["from the CLI"]
            assert client.get("/api/cli-user/tasks").status_code == 401
            assert client.get("/api/someone-else/tasks", headers=headers).status_code == 403
            assert client.get("/docs").status_code == 200
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0].decode()
    assert "DEVELOPMENT MODE" in output
    assert token.stdout.strip() not in output  # tokens never reach the log
    assert "Application shutdown complete" in output  # SIGTERM shuts down gracefully
    assert (tmp_path / "todo.db").exists()
    assert (tmp_path / ".todo-api-dev-secret").stat().st_mode & 0o077 == 0


def _wait_until_up(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
        except httpx.TransportError:
            time.sleep(0.2)
        else:
            return
    pytest.fail(f"server did not come up at {url}")


def test_served_app_freezes_what_startup_built(tmp_path: Path) -> None:
    # In a child process: freezing objects in the test process would keep them forever.
    script = (
        "import gc; from todo_api.ops.serving import create_served_app; "
        "before = gc.get_freeze_count(); create_served_app(); "
        "print(before, gc.get_freeze_count(), gc.get_threshold()[0])"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    before, frozen, young_threshold = map(int, result.stdout.split())
    assert before == 0
    assert frozen > 10_000  # the app, its routes and schemas, the imported modules
    assert young_threshold == 10_000
