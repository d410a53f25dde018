"""Read the Dockerfile's instructions, so tests run its install and start commands as written.

Enough of the Dockerfile syntax for ours: comments, line continuations, `FROM ... AS name`
stages, and exec-form (JSON) arguments. Anything it cannot read makes the tests fail.
"""

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "Dockerfile"


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ...
    arguments: str  # the rest of the (joined) line
    stage: str  # the name of the stage it belongs to


def instructions(path: Path = DOCKERFILE) -> list[Instruction]:
    found: list[Instruction] = []
    stage = ""
    for line in _logical_lines(path.read_text()):
        keyword, _, arguments = line.partition(" ")
        keyword = keyword.upper()
        arguments = arguments.strip()
        if keyword == "FROM":
            named = re.fullmatch(r"(\S+)\s+AS\s+(\S+)", arguments, flags=re.IGNORECASE)
            assert named, f"every stage is named (FROM image AS name): {line}"
            stage = named.group(2)
        found.append(Instruction(keyword, arguments, stage))
    return found


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not current):
            continue  # comments (also inside a continued instruction) and blank lines
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    assert not current, "the Dockerfile ends inside a continued line"
    return lines


def in_stage(stage: str, path: Path = DOCKERFILE) -> list[Instruction]:
    chosen = [instruction for instruction in instructions(path) if instruction.stage == stage]
    assert chosen, f"the Dockerfile has no stage {stage!r}"
    return chosen


def only(stage: str, keyword: str, path: Path = DOCKERFILE) -> Instruction:
    matches = [i for i in in_stage(stage, path) if i.keyword == keyword]
    assert len(matches) == 1, f"stage {stage!r} should have one {keyword}, has {len(matches)}"
    return matches[0]


def exec_form(arguments: str) -> list[str]:
    """The argument list of an exec-form (JSON array) CMD, ENTRYPOINT or HEALTHCHECK CMD."""
    parsed = json.loads(arguments)
    assert isinstance(parsed, list), f"not the exec (JSON array) form: {arguments}"
    assert all(isinstance(item, str) for item in parsed), arguments
    return parsed


def healthcheck_command(stage: str, path: Path = DOCKERFILE) -> list[str]:
    arguments = only(stage, "HEALTHCHECK", path).arguments
    _options, separator, command = arguments.partition("CMD ")
    assert separator, f"HEALTHCHECK without CMD: {arguments}"
    return exec_form(command)


def environment(stage: str, path: Path = DOCKERFILE) -> dict[str, str]:
    """The stage's ENV values as written (`$NAME` references left for the caller)."""
    values: dict[str, str] = {}
    for instruction in in_stage(stage, path):
        if instruction.keyword == "ENV":
            for pair in shlex.split(instruction.arguments):
                name, separator, value = pair.partition("=")
                assert separator, f"ENV is written name=value: {instruction.arguments}"
                values[name] = value
    return values


def copies(stage: str, path: Path = DOCKERFILE) -> list[tuple[list[str], str]]:
    """Each COPY of the build context in the stage: (sources, destination)."""
    found = []
    for instruction in in_stage(stage, path):
        if instruction.keyword == "COPY" and not instruction.arguments.startswith("--from"):
            *sources, destination = shlex.split(instruction.arguments)
            found.append((sources, destination))
    return found
