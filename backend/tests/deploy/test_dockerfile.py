"""The Dockerfile and .dockerignore: hadolint, and the shape the image tests rely on."""

import re
from pathlib import Path

from tests.deploy import dockerfile
from tests.deploy.tools import ROOT, run, tool


def test_hadolint_finds_nothing() -> None:
    result = run(tool("hadolint"), "--no-color", str(dockerfile.DOCKERFILE))

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_hadolint_is_strict_enough_to_fail(tmp_path: Path) -> None:
    # The check above means something only if hadolint fails on warnings with this set-up.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install uvicorn\n")

    result = run(tool("hadolint"), "--no-color", str(bad))

    assert result.returncode != 0
    assert "DL3007" in result.stdout  # `latest`
    assert "DL3013" in result.stdout  # unpinned pip install


def test_both_stages_use_the_same_pinned_python() -> None:
    images = [i.arguments.split()[0] for i in dockerfile.instructions() if i.keyword == "FROM"]

    assert len(images) == 2
    assert images[0] == images[1]  # the venv's interpreter path must exist in the runtime
    assert re.fullmatch(r"python:3\.11[.\w-]*-slim-bookworm", images[0]), images[0]


def test_the_build_stage_installs_with_the_script() -> None:
    run_step = dockerfile.only("build", "RUN").arguments

    assert run_step.endswith(" sh deploy/docker/install.sh")
    copied = {source for sources, _ in dockerfile.copies("build") for source in sources}
    assert {"uv.lock", "pyproject.toml", "deploy/docker/install.sh"} <= copied


def test_the_runtime_stage_takes_only_the_venv_and_runs_as_a_numeric_non_root_user() -> None:
    runtime = dockerfile.in_stage("runtime")
    copies = [i.arguments for i in runtime if i.keyword == "COPY"]
    user = dockerfile.only("runtime", "USER").arguments

    assert copies == ["--from=build /app/.venv /app/.venv"]
    assert re.fullmatch(r"[1-9][0-9]*:[1-9][0-9]*", user), user


def test_dockerignore_lets_in_only_what_the_build_copies() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    admitted = {pattern[1:] for pattern in patterns if pattern.startswith("!")}
    copied = {source for sources, _ in dockerfile.copies("build") for source in sources}

    assert patterns[0] == "*"  # everything else (.env, .venv, secrets, databases) stays out
    assert admitted == copied
