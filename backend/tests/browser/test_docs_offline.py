"""/docs and /redoc work with no network but the server's: Debian's chromium, driven by
playwright-core (docs_check.mjs), authorises in Swagger UI and runs a call; ReDoc renders."""

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.conftest import hs256_token, sqlite_url
from tests.faults.server import Server
from tests.helpers import ensure_node_packages, environment_without_settings

HERE = Path(__file__).parent
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def driver() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests, but {CHROMIUM} is missing")
        pytest.skip(
            f"the browser tests need Debian's chromium ({CHROMIUM}): apt-get install chromium"
        )
    ensure_node_packages(HERE, "the browser tests")
    return HERE / "docs_check.mjs"


def test_docs_authorise_and_run_a_call_and_redoc_renders_offline(
    driver: Path, tmp_path: Path
) -> None:
    user = "docs-reader"
    token = hs256_token(user)
    server = Server(sqlite_url(tmp_path), tmp_path)
    try:
        server.wait_ready()
        created = httpx.post(
            f"{server.base_url}/api/{user}/tasks",
            json={"title": "Read the docs offline"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert created.status_code == 201, created.text
        browsed = subprocess.run(
            ["node", str(driver), server.base_url, user],
            cwd=HERE,
            env=environment_without_settings(TODO_API_TOKEN=token),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        log = server.stop()

    assert browsed.returncode == 0, browsed.stdout + browsed.stderr
    report = json.loads(browsed.stdout)
    assert "failure" not in report, f"{report}\n{log}"
    # Nothing but the server was needed: no request to any other host was even attempted.
    assert report["blocked"] == []
    assert report["pageErrors"] == []
    assert {"/docs-assets/swagger-ui-bundle.js", "/docs-assets/redoc.standalone.js"} <= set(
        report["served"]
    )
    docs = report["docs"]
    assert {"listTasks", "createTask", "getTask", "completeTask", "listTags"} <= set(
        docs["operations"]
    )
    assert docs["authorizeDialog"] == "Authorized"
    # Try it out > Execute: the call carried the token entered in Authorize, and got a 200.
    assert report["apiCalls"] == [{"method": "GET", "path": f"/api/{user}/tasks", "bearer": True}]
    assert docs["status"] == "200"
    assert [task["title"] for task in json.loads(docs["body"])] == ["Read the docs offline"]
    redoc = report["redoc"]
    assert redoc["title"] == "todo-api (0.1.0)"
    assert redoc["operations"] == docs["operations"]
