"""compose.yaml: valid for Docker Compose itself (its `config` needs no engine), and wired as
the README says: secrets from .env, PostgreSQL healthy and migrated before the API starts."""

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.tools import ROOT, run, tool
from tests.helpers import environment_without_settings

PASSWORD = "compose-check-password"
SECRET = "compose-check-secret-that-is-long-enough-0123456789"


def _config(project: Path) -> subprocess.CompletedProcess[str]:
    """`docker compose config`: the file and .env resolved and checked against the spec."""
    return run(
        tool("docker-compose"),
        "--project-directory",
        str(project),
        "--file",
        str(project / "compose.yaml"),
        "config",
        "--format",
        "json",
        cwd=project,
        # Only .env may set what compose.yaml reads, not this shell's variables.
        env={
            name: value
            for name, value in environment_without_settings().items()
            if name not in ("POSTGRES_PASSWORD", "API_PORT", "WEB_CONCURRENCY")
        },
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """compose.yaml beside a .env made the README's way: .env.example plus the two secrets."""
    shutil.copy(ROOT / "compose.yaml", tmp_path / "compose.yaml")
    example = (ROOT / ".env.example").read_text()
    (tmp_path / ".env").write_text(
        f"{example}\nPOSTGRES_PASSWORD={PASSWORD}\nBETTER_AUTH_SECRET={SECRET}\n"
    )
    return tmp_path


@pytest.fixture
def services(project: Path) -> dict[str, Any]:
    result = _config(project)
    assert result.returncode == 0, result.stderr
    services: dict[str, Any] = json.loads(result.stdout)["services"]
    return services


def test_compose_runs_the_api_postgresql_redis_and_a_one_shot_migration(
    services: dict[str, Any],
) -> None:
    assert services.keys() == {"api", "db", "redis", "migrate"}
    assert services["migrate"]["command"] == ["todo-api", "migrate"]
    assert services["migrate"]["image"] == services["api"]["image"]
    assert "build" in services["api"]
    assert "build" not in services["migrate"]  # one build of the image, no race
    assert services["api"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["api"]["depends_on"]["redis"]["condition"] == "service_healthy"
    migrated = services["api"]["depends_on"]["migrate"]["condition"]
    assert migrated == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_compose_takes_secrets_from_the_env_file(services: dict[str, Any]) -> None:
    api = services["api"]["environment"]

    assert api["DATABASE_URL"] == f"postgresql://todo:{PASSWORD}@db:5432/todo"
    assert services["migrate"]["environment"]["DATABASE_URL"] == api["DATABASE_URL"]
    assert services["db"]["environment"]["POSTGRES_PASSWORD"] == PASSWORD
    assert api["BETTER_AUTH_SECRET"] == SECRET
    assert api["REDIS_URL"] == "redis://redis:6379/0"
    assert api["ENVIRONMENT"] == "production"  # overrides .env.example's development


def test_compose_refuses_to_start_without_a_database_password(project: Path) -> None:
    env_file = project / ".env"
    env_file.write_text(re.sub(r"(?m)^POSTGRES_PASSWORD=.*$", "", env_file.read_text()))

    result = _config(project)

    assert result.returncode != 0
    assert "set POSTGRES_PASSWORD in .env" in result.stderr


def test_compose_images_are_pinned(services: dict[str, Any]) -> None:
    for name in ("db", "redis"):
        image = services[name]["image"]
        assert re.fullmatch(r"[a-z0-9./-]+:[0-9][\w.-]*", image), image


def test_compose_file_passes_yamllint() -> None:
    result = run(tool("yamllint"), "--strict", "compose.yaml", ".yamllint.yaml")

    assert result.returncode == 0, result.stdout
