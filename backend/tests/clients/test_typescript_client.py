"""The typed TypeScript client (clients/typescript): generated from this app's document, strict
type-checked, and its example run under Node against a real `todo-api serve`."""

import difflib
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from tests.conftest import hs256_token
from tests.faults.server import Server
from tests.helpers import ensure_node_packages, environment_without_settings
from todo_api.cli import openapi_document
from todo_api.config import Settings

CLIENT = Path(__file__).resolve().parents[3] / "clients" / "typescript"
GENERATED = CLIENT / "src" / "schema.ts"
REGENERATE = "cd clients/typescript && npm run generate"
TOUR = "clients/typescript/example/tour.ts"
_CALL = re.compile(r"^call (?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3})$", re.MULTILINE)


@pytest.fixture(scope="module")
def client_package() -> Path:
    ensure_node_packages(CLIENT, "the TypeScript client tests")
    return CLIENT


def node_run(*command: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=cwd,
        env=environment_without_settings(**env),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_the_committed_types_are_generated_from_this_app(
    client_package: Path, tmp_path: Path
) -> None:
    document = tmp_path / "openapi.json"
    document.write_text(openapi_document(), encoding="utf-8")
    generated = tmp_path / "schema.ts"

    # `npm run types` holds the generator's options, for `npm run generate` and for this test.
    result = node_run(
        "npm", "run", "--silent", "types", "--", str(document), "--output", str(generated),
        cwd=client_package,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    fresh = generated.read_text(encoding="utf-8").splitlines()
    committed = GENERATED.read_text(encoding="utf-8").splitlines()
    difference = "\n".join(
        list(difflib.unified_diff(committed, fresh, "committed", "app", n=1))[:40]
    )
    assert fresh == committed, (
        f"{GENERATED.relative_to(CLIENT.parents[1])} is not what this app's OpenAPI document "
        f"generates: run `{REGENERATE}` (the venv active, for `todo-api`) and commit the "
        f"result.\n{difference}"
    )


def test_the_client_and_example_pass_strict_type_checking(client_package: Path) -> None:
    result = node_run("node_modules/.bin/tsc", "--strict", "--noEmit", cwd=client_package)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def compiled(client_package: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The client and example compiled to JavaScript outside the source tree; Node finds
    openapi-fetch through a link to the package's node_modules."""
    out = tmp_path_factory.mktemp("client-js")
    result = node_run("node_modules/.bin/tsc", "--outDir", str(out), cwd=client_package)
    assert result.returncode == 0, result.stdout + result.stderr
    (out / "package.json").write_text(json.dumps({"type": "module"}))
    (out / "node_modules").symlink_to(client_package / "node_modules")
    return out


@pytest.fixture
def server(settings: Settings, tmp_path: Path) -> Iterator[Server]:
    """`todo-api serve` on this test's database (SQLite, and PostgreSQL when configured)."""
    served = Server(settings.database_url, tmp_path)
    try:
        served.wait_ready()
        yield served
    finally:
        served.stop()


def test_the_tour_calls_every_operation_against_a_real_server(
    compiled: Path, server: Server
) -> None:
    user = f"tour-{uuid4().hex[:12]}"
    result = node_run(
        "node",
        str(compiled / "example" / "tour.js"),
        cwd=compiled,
        TODO_API_URL=server.base_url,
        TODO_API_USER=user,
        TODO_API_TOKEN=hs256_token(user),
    )

    assert result.returncode == 0, result.stdout + result.stderr + server.stop()
    called = {(call["method"].lower(), call["path"]) for call in _CALL.finditer(result.stdout)}
    missing = [
        f"{operation['operationId']} ({method.upper()} {path})"
        for path, operations in json.loads(openapi_document())["paths"].items()
        for method, operation in operations.items()
        if (method, path) not in called
    ]
    assert not missing, f"{TOUR} calls no {', '.join(missing)}: add a call for each"

    lines = result.stdout.splitlines()
    assert "health ok, ready ok" in lines
    created = re.search(r'^created (\d+) "Buy milk" at (\S+)$', result.stdout, re.MULTILINE)
    assert created is not None, result.stdout
    task_id, location = created.groups()
    assert location == f"{server.base_url}/api/{user}/tasks/{task_id}"
    assert f"replayed {task_id}: Idempotent-Replayed true" in lines
    assert (
        'listed 3 tasks: page 1 "Buy milk", "Pay rent", page 2 (Link rel="next") '
        '"Water the plants"' in lines
    )
    assert 'If-None-Match "v1": 304 Not Modified' in lines
    assert any(line.startswith("stale If-Match: 412 Precondition Failed: ") for line in lines)
    assert re.search(r"^tags .*\bhome=3 shopping=1$", result.stdout, re.MULTILINE), result.stdout
    assert "batch applied 4 operations" in lines
    assert any(line.startswith("missing task: 404 Not Found: ") for line in lines)
    assert any(line.startswith("invalid body: 422 ") and "body.title" in line for line in lines)
    assert "no token: 401 Unauthorized: A bearer token is required." in lines
    assert lines[-1] == "tour complete"
