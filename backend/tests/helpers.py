"""Assertions shared by the tests."""

from typing import Any

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
