"""The image's install and start commands, run as the Dockerfile writes them, without Docker.

No Docker engine runs here, so this does what `docker build` and `docker run` would: copy what
the build stage copies into a fresh directory, run the build stage's RUN (the install script),
keep only what the runtime stage copies (the venv), then run the CMD with the runtime stage's
ENV, as its USER, against PostgreSQL, and probe it with the HEALTHCHECK command.
"""

import asyncio
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_SECRET, drop_schema, hs256_token, postgres_only
from tests.deploy import dockerfile
from tests.deploy.tools import ROOT
from tests.helpers import environment_without_settings
from tests.test_cli import _wait_until_up
from todo_api.config import Settings

WORKDIR = "/app"
# Not handed to the image's commands: this test's own venv and Python settings.
_NOT_INHERITED = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT")


@dataclass(frozen=True)
class Image:
    root: Path  # stands for the image's `/`
    user: tuple[int, int] | None  # the USER to run as (None: not root here, cannot switch)

    @property
    def app(self) -> Path:
        return self.root / WORKDIR.lstrip("/")


@pytest.fixture(scope="module")
def image() -> Iterator[Image]:
    root = Path(tempfile.mkdtemp(prefix="todo-api-image-"))
    root.chmod(0o755)  # the image's user must reach it
    try:
        built = Image(root, _image_user())
        _build(built)
        _keep_what_the_runtime_stage_copies(built.app)
        yield built
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_the_image_holds_uv_lock_runtime_packages_and_no_dev_ones(image: Image) -> None:
    installed = _installed_distributions(image.app)
    locked = _locked_versions()

    unlocked = {name: v for name, v in installed.items() if v not in locked.get(name, set())}
    assert unlocked == {}, "installed, but not at uv.lock's version"
    assert _runtime_requirements() | {"todo-api"} <= installed.keys()
    assert installed.keys() & _dev_only_distributions() == set()
    package = _run_in_venv(image.app, "import todo_api; print(todo_api.__file__)")
    assert package.startswith(str(image.app / ".venv")), "the project must not be editable"


@postgres_only
def test_the_image_command_migrates_and_serves_postgresql_as_its_user(
    image: Image, settings: Settings
) -> None:
    asyncio.run(drop_schema(settings.database_url))  # the start command must migrate
    files_before = _files(image.app)
    env = _runtime_environment(image.app, _free_port(), settings.database_url)
    base = f"http://127.0.0.1:{env['PORT']}"
    user, group, extra_groups = _as_user(image)
    server = subprocess.Popen(
        dockerfile.exec_form(dockerfile.only("runtime", "CMD").arguments),
        cwd=image.app,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        user=user,
        group=group,
        extra_groups=extra_groups,
    )
    try:
        _wait_until_up(f"{base}/health", timeout=60)
        _check_the_api(base)
        healthy = _healthcheck(image, env)
        server_uid = _uid_of(server.pid)
    finally:
        output = _stop(server)
        print(output)  # shown when the test fails
    unhealthy = _healthcheck(image, env)

    assert healthy.returncode == 0, healthy.stderr
    assert unhealthy.returncode != 0  # the HEALTHCHECK can fail: nothing listens any more
    # uvicorn finishes its graceful shutdown, then ends by the signal it got (exit status 143).
    assert server.returncode in (0, -signal.SIGTERM), output
    assert "database schema is up to date" in output
    assert "Application shutdown complete" in output
    assert TEST_SECRET not in output
    assert _files(image.app) == files_before, "the server wrote files (read-only root fs)"
    assert server_uid == (image.user[0] if image.user else os.geteuid())


def _stop(server: subprocess.Popen[bytes]) -> str:
    server.send_signal(signal.SIGTERM)  # what `docker stop` sends to PID 1
    try:
        return server.communicate(timeout=30)[0].decode()
    except subprocess.TimeoutExpired:
        server.kill()  # as Docker does after its grace period
        return server.communicate()[0].decode() + "\n(killed: no exit 30 s after SIGTERM)"


def _uid_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError(f"no Uid line for process {pid}")


def _image_user() -> tuple[int, int] | None:
    uid, gid = (int(part) for part in dockerfile.only("runtime", "USER").arguments.split(":"))
    return (uid, gid) if os.geteuid() == 0 else None


def _as_user(image: Image) -> tuple[int | None, int | None, list[int] | None]:
    """subprocess's user, group and extra_groups: the image's USER, or unchanged (None)."""
    if image.user is None:
        return None, None, None
    return image.user[0], image.user[1], []


def _build(image: Image) -> None:
    assert dockerfile.only("build", "WORKDIR").arguments == WORKDIR
    assert dockerfile.only("runtime", "WORKDIR").arguments == WORKDIR
    image.app.mkdir(parents=True)
    for sources, destination in dockerfile.copies("build"):
        for source in sources:
            target = image.app / destination
            if destination.endswith("/"):
                target = target / Path(source).name
            target.parent.mkdir(parents=True, exist_ok=True)
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(ROOT / source, target)
    # RUN [--mount=...] command: the mounts are build caches; the command runs in a shell.
    words = shlex.split(dockerfile.only("build", "RUN").arguments)
    command = " ".join(word for word in words if not word.startswith("--mount="))
    env = _inherited_environment()
    env["PATH"] = f"{_base_image_python(image)}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        ["/bin/sh", "-c", command],
        cwd=image.app,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _base_image_python(image: Image) -> Path:
    """A directory standing for the base image's /usr/local/bin: its python3 is one the image's
    user can run (a Python under root's home cannot be), so the venv points at it."""
    directory = image.root / "usr" / "local" / "bin"
    directory.mkdir(parents=True)
    path = _inherited_environment()["PATH"]
    candidates = [shutil.which("python3", path=path), "/usr/local/bin/python3", "/usr/bin/python3"]
    user, group, extra_groups = _as_user(image)
    for candidate in filter(None, candidates):
        check = [candidate, "-c", "import sys, venv; assert sys.version_info >= (3, 11)"]
        try:
            subprocess.run(
                check,
                capture_output=True,
                check=True,
                user=user,
                group=group,
                extra_groups=extra_groups,
            )
        except (OSError, subprocess.CalledProcessError):
            continue  # not there, not reachable by that user, too old or without venv
        (directory / "python3").symlink_to(os.path.realpath(candidate))
        return directory
    pytest.fail("no Python 3.11+ with venv that the image's user can run")


def _keep_what_the_runtime_stage_copies(app: Path) -> None:
    kept = set()
    for instruction in dockerfile.in_stage("runtime"):
        if instruction.keyword == "COPY":
            source, destination = shlex.split(instruction.arguments)[-2:]
            assert source == destination, "the venv must keep its path (its scripts name it)"
            kept.add(Path(source).relative_to(WORKDIR).parts[0])
    for entry in app.iterdir():
        if entry.name not in kept:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


def _inherited_environment() -> dict[str, str]:
    env = {k: v for k, v in environment_without_settings().items() if k not in _NOT_INHERITED}
    own_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != own_bin)
    return env


def _runtime_environment(app: Path, port: int, database_url: str) -> dict[str, str]:
    env = _inherited_environment()
    for name, value in dockerfile.environment("runtime").items():
        value = re.sub(r"\$\{?PATH\}?", lambda _: env["PATH"], value)
        env[name] = re.sub(rf"(?<![\w/]){WORKDIR}(?=/|$)", str(app), value)
    assert env["ENVIRONMENT"] == "production"
    return env | {
        "HOME": "/nonexistent",  # the image user's
        "PORT": str(port),
        "DATABASE_URL": database_url,
        "BETTER_AUTH_SECRET": TEST_SECRET,
    }


def _healthcheck(image: Image, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    user, group, extra_groups = _as_user(image)
    return subprocess.run(
        dockerfile.healthcheck_command("runtime"),
        cwd=image.app,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        user=user,
        group=group,
        extra_groups=extra_groups,
    )


def _check_the_api(base: str) -> None:
    user = "image-check"
    headers = {"Authorization": f"Bearer {hs256_token(user)}"}
    with httpx.Client(base_url=base, timeout=10) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/health/ready").status_code == 200
        assert client.get(f"/api/{user}/tasks").status_code == 401
        created = client.post(f"/api/{user}/tasks", json={"title": "in the image"}, headers=headers)
        assert created.status_code == 201, created.text
        listed = client.get(f"/api/{user}/tasks", headers=headers)
        assert [task["title"] for task in listed.json()] == ["in the image"]


def _run_in_venv(app: Path, code: str) -> str:
    python = str(app / ".venv" / "bin" / "python")
    result = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    return result.stdout.strip()


def _installed_distributions(app: Path) -> dict[str, str]:
    listing = _run_in_venv(
        app,
        "import importlib.metadata as m, json; "
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))",
    )
    return {_normalise(name): version for name, version in json.loads(listing).items()}


def _locked_versions() -> dict[str, set[str]]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    versions: dict[str, set[str]] = {}
    for package in lock["package"]:
        versions.setdefault(_normalise(package["name"]), set()).add(package["version"])
    return versions


def _runtime_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_requirement_name(r) for r in project["dependencies"]}


def _dev_only_distributions() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    dev = {_requirement_name(r) for r in project["optional-dependencies"]["dev"]}
    assert dev - _runtime_requirements(), "the dev extra should have packages of its own"
    return dev - _runtime_requirements()


def _requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match, requirement
    return _normalise(match.group(0))


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _files(app: Path) -> set[str]:
    return {str(path.relative_to(app)) for path in app.rglob("*")}


def _free_port() -> int:
    """A free port in the range this project's servers use on shared machines (8200-8299)."""
    for port in range(8200, 8300):
        with socket.socket() as sock:
            try:
                sock.bind(("0.0.0.0", port))  # noqa: S104  (the CMD binds every interface)
            except OSError:
                continue
            return port
    pytest.fail("no free port in 8200-8299")
