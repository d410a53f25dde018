"""What the task routes declare in OpenAPI beyond their signatures: the problems each can
answer, the response headers, and the request headers they read themselves."""

from typing import Any

from fastapi import status

from todo_api.errors import Problem

PROBLEM = {"model": Problem, "content": {"application/problem+json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = {
    status.HTTP_401_UNAUTHORIZED: {**PROBLEM, "description": "Missing, invalid or expired token"},
    status.HTTP_403_FORBIDDEN: {**PROBLEM, "description": "The token is for another user"},
    status.HTTP_429_TOO_MANY_REQUESTS: {**PROBLEM, "description": "Rate limit exceeded"},
    status.HTTP_422_UNPROCESSABLE_CONTENT: {**PROBLEM, "description": "Invalid input"},
    status.HTTP_503_SERVICE_UNAVAILABLE: {**PROBLEM, "description": "Database unavailable"},
}
# Every route here is behind the auth gate (todo_api.auth.gate): by the time a route runs,
# a valid bearer token for `user_id` was presented.
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {**PROBLEM, "description": "No such task for this user"},
}
# Routes that read a JSON body.
BODY: dict[int | str, dict[str, Any]] = {
    status.HTTP_400_BAD_REQUEST: {
        **PROBLEM,
        "description": "The body is not UTF-8 text or is nested too deep to parse, or the "
        "Idempotency-Key header is malformed",
    },
    status.HTTP_413_CONTENT_TOO_LARGE: {**PROBLEM, "description": "Body too large"},
}
REPLAY_HEADER = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored response to an earlier request with "
        "the same Idempotency-Key",
        "schema": {"type": "string"},
    }
}
TASK_HEADERS = {
    "ETag": {"description": 'Strong: `"v<version>"`.', "schema": {"type": "string"}},
    **REPLAY_HEADER,
}
LOCATION = {"Location": {"description": "The task's URL.", "schema": {"type": "string"}}}
# Writes that take an Idempotency-Key.
IDEMPOTENT: dict[int | str, dict[str, Any]] = {
    status.HTTP_409_CONFLICT: {
        **PROBLEM,
        "description": "A request with the same Idempotency-Key is still running",
    },
}
CONDITIONAL_WRITE: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    **BODY,
    **IDEMPOTENT,
    status.HTTP_200_OK: {"headers": TASK_HEADERS},
    status.HTTP_412_PRECONDITION_FAILED: {
        **PROBLEM,
        "description": "`If-Match` does not name the task's ETag (the current one is in `ETag`)",
    },
    status.HTTP_428_PRECONDITION_REQUIRED: {
        **PROBLEM,
        "description": "`If-Match` is required (REQUIRE_IF_MATCH)",
    },
}


def _header(name: str, description: str, pattern: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", **({"pattern": pattern} if pattern else {})}
    return {
        "name": name,
        "in": "header",
        "required": False,
        "description": description,
        "schema": schema,
    }


# Request headers, documented here: the routes read them from the request themselves.
IDEMPOTENCY_KEY = _header(
    "Idempotency-Key",
    "Makes a retry safe: a request with the key of an earlier one gets its response again "
    "(for 24 h) and changes nothing. 1-255 visible ASCII characters, bare or quoted.",
    pattern=r"^[\x21-\x7e]{1,255}$",
)
IF_MATCH = _header(
    "If-Match", 'Only if the task has one of these ETags (e.g. `"v3"`), or `*`; else a 412.'
)
IF_NONE_MATCH = _header("If-None-Match", "A 304 without a body while this ETag is current.")
WRITE_HEADERS = {"parameters": [IDEMPOTENCY_KEY]}
CONDITIONAL_HEADERS = {"parameters": [IDEMPOTENCY_KEY, IF_MATCH]}
# A delete answers 204, not 200.
CONDITIONAL_DELETE = {
    code: spec for code, spec in CONDITIONAL_WRITE.items() if code != status.HTTP_200_OK
}
