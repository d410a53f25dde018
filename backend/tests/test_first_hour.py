"""A newcomer's first hour: clear lines instead of tracebacks, no silent surprises (#15)."""

import json
import logging
import logging.config
import subprocess
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from tests.conftest import POSTGRES_URL, hs256_token, make_settings, requires_postgres, serve
from tests.test_cli import COMMAND, _wait_until_up, clean_env, free_port, run
from todo_api.config import Settings
from todo_api.main import create_app
from todo_api.ops.logs import logging_config


def test_version_is_printed(tmp_path: Path) -> None:
    result = run("--version", cwd=tmp_path)

    assert result.returncode == 0
    assert result.stdout.startswith("todo-api ")


def test_token_refuses_to_invent_a_development_secret(tmp_path: Path) -> None:
    result = run("token", "alice", cwd=tmp_path)

    assert result.returncode == 2
    assert "no development secret" in result.stderr
    assert str(tmp_path) in result.stderr
    assert not (tmp_path / ".todo-api-dev-secret").exists()


def test_token_says_which_secret_it_used(tmp_path: Path) -> None:
    (tmp_path / ".todo-api-dev-secret").write_text("s" * 64)

    result = run("token", "alice", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert str(tmp_path / ".todo-api-dev-secret") in result.stderr
    assert result.stdout.count(".") == 2  # the token alone on stdout


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql://postgres@127.0.0.1:{port}/test", "nothing is listening"),
        ("postgresql://postgres@no-such-host.invalid:5432/test", "does not resolve"),
    ],
)
def test_an_unreachable_database_is_one_line(tmp_path: Path, url: str, reason: str) -> None:
    result = run(
        "migrate",
        cwd=tmp_path,
        DATABASE_URL=url.format(port=free_port()).replace("postgres@", "postgres:hunter2@"),
    )

    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert reason in lines[0]
    assert "hunter2" not in result.stderr


@requires_postgres
def test_a_missing_database_or_refused_tls_is_one_line(tmp_path: Path) -> None:
    base = POSTGRES_URL.rsplit("/", 1)[0]
    missing = run("migrate", cwd=tmp_path, DATABASE_URL=f"{base}/no_such_database_here")
    no_tls = run("serve", cwd=tmp_path, DATABASE_URL=f"{POSTGRES_URL}?sslmode=require")

    assert missing.returncode == 1
    assert "does not exist" in missing.stderr
    assert "no_such_database_here" in missing.stderr
    assert no_tls.returncode == 1
    assert "does not accept TLS" in no_tls.stderr
    assert len(no_tls.stderr.strip().splitlines()) == 1, no_tls.stderr


def test_access_log_flag_works_with_one_worker(tmp_path: Path) -> None:
    (tmp_path / ".todo-api-dev-secret").write_text("s" * 64)
    port = free_port()
    server = subprocess.Popen(
        [*COMMAND, "serve", "--port", str(port), "--access-log"],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/health")
        httpx.get(f"http://127.0.0.1:{port}/health?secret=query")
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0].decode()

    assert "GET /health 200" in output
    assert "secret=query" not in output


def test_json_logs_carry_no_colour_codes(capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(_env_file=None, environment="production", better_auth_secret="x" * 40)
    logging.config.dictConfig(logging_config(settings))
    try:
        # A warning: an in-process uvicorn (another test) may have set this logger's level.
        logging.getLogger("uvicorn.error").warning(
            "Started server process", extra={"color_message": "\x1b[36mStarted\x1b[0m"}
        )
        line = capsys.readouterr().err.strip().splitlines()[-1]
    finally:
        logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})

    record = json.loads(line)
    assert record["message"] == "Started server process"
    assert "color_message" not in record
    assert "\x1b" not in line


@pytest.mark.parametrize(
    "value", ["localhost:3000", '["http://localhost:3000"]', "http://localhost:3000/app", "ftp://x"]
)
def test_a_cors_origin_a_browser_would_never_send_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CORS_ORIGINS", value)

    with pytest.raises(ValidationError, match="CORS"):
        Settings(_env_file=None)


def test_a_trailing_slash_on_an_origin_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "http://localhost:3000/, https://app.example.com")

    assert Settings(_env_file=None).cors_origins == [
        "http://localhost:3000",
        "https://app.example.com",
    ]


async def test_the_front_door_leads_to_the_docs_or_the_health_check(settings: Settings) -> None:
    async with serve(create_app(settings)) as client:
        with_docs = await client.get("/", follow_redirects=False)
    without = make_settings(settings.database_url, docs_enabled=False)
    async with serve(create_app(without)) as client:
        without_docs = await client.get("/", follow_redirects=False)

    assert with_docs.status_code == 307
    assert with_docs.headers["location"] == "/docs"
    assert without_docs.headers["location"] == "/health"


async def test_metrics_can_require_a_token(settings: Settings) -> None:
    protected = make_settings(settings.database_url, metrics_token="m" * 40)
    async with serve(create_app(protected), signed=False) as client:
        anonymous = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        right = await client.get("/metrics", headers={"Authorization": f"Bearer {'m' * 40}"})

    assert anonymous.status_code == wrong.status_code == 401
    assert right.status_code == 200
    assert b"todo_api_requests_total" in right.content


async def test_start_up_says_how_it_runs_and_warns_of_an_unchecked_issuer(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    unchecked = make_settings(
        "sqlite+aiosqlite:///:memory:", jwt_jwks_url="http://127.0.0.1:9/jwks"
    )
    caplog.set_level(logging.INFO, logger="todo_api")
    async with serve(create_app(unchecked)):
        pass

    text = caplog.text
    assert "without JWT_ISSUER" in text
    assert "without JWT_AUDIENCE" in text
    assert "auth JWKS http://127.0.0.1:9/jwks (iss any, aud any) + shared secret" in text
    assert "docs on; metrics on" in text


async def test_a_refused_token_logs_what_it_carried_against_what_was_expected(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    strict = make_settings(settings.database_url, jwt_issuer="https://auth.example.com")
    token = hs256_token("alice", iss="https://evil.example.com")
    caplog.set_level(logging.INFO, logger="todo_api")
    async with serve(create_app(strict), signed=False) as client:
        response = await client.get(
            "/api/alice/tasks", headers={"Authorization": f"Bearer {token}"}
        )

    assert response.status_code == 401
    assert "iss 'https://evil.example.com' (expected 'https://auth.example.com')" in caplog.text
    assert token not in caplog.text
