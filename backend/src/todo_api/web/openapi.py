"""The OpenAPI document, as typed clients need it.

FastAPI's own document puts every error under `application/json` with a schema the server
never sends, and names operations after their paths. Here: every error (4xx/5xx) is
`application/problem+json` with the `Problem` schema (its 422 too), operations have short
ids (`listTasks`), the bearer scheme guards `/api`, and the headers every response carries
are declared with their types.
"""

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

SCHEME_NAME = "HTTPBearer"
BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "A Better Auth JWT; in development, `todo-api token <user_id>` prints one.",
}
_PROBLEM = {"schema": {"$ref": "#/components/schemas/Problem"}}
_STRING = {"type": "string"}
_INTEGER = {"type": "integer"}
# On every response.
_ALWAYS = {
    "X-Request-ID": {"description": "This request's id, as the logs name it.", "schema": _STRING}
}
# On every signed-in /api response (the user's quota).
_QUOTA = {
    "RateLimit-Limit": {"description": "Requests allowed per window.", "schema": _INTEGER},
    "RateLimit-Remaining": {"description": "Requests left in this window.", "schema": _INTEGER},
    "RateLimit-Reset": {"description": "Seconds until the window ends.", "schema": _INTEGER},
    "RateLimit-Policy": {
        "description": "The limit and window, e.g. `600;w=60`.",
        "schema": _STRING,
    },
}
_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before trying again.", "schema": _INTEGER}
}


def operation_id(route: APIRoute) -> str:
    """`list_tasks` -> `listTasks`: the endpoint's name, as generated clients call it."""
    head, *rest = route.name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def install(app: FastAPI) -> None:
    """Serve the document built by `build` (once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def build(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title, version=app.version, summary=app.summary, routes=app.routes
    )
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})[SCHEME_NAME] = BEARER_SCHEME
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            protected = path.startswith("/api/")
            if protected:
                operation["security"] = [{SCHEME_NAME: []}]
            for status, response in operation["responses"].items():
                _type(status, response, protected=protected)
    for unused in ("HTTPValidationError", "ValidationError"):
        components.get("schemas", {}).pop(unused, None)
    return schema


def _type(status: str, response: dict[str, Any], *, protected: bool) -> None:
    headers = response.setdefault("headers", {})
    for name, spec in headers.items():
        spec.setdefault("schema", _INTEGER if name == "X-Total-Count" else _STRING)
    headers.update(_ALWAYS)
    if protected and status not in ("401", "429"):
        headers.update(_QUOTA)
    if status.isdigit() and int(status) >= 400:
        response["content"] = {"application/problem+json": _PROBLEM}
        if status in ("429", "503") or re.search("Idempotency-Key", response["description"]):
            headers.update(_RETRY_AFTER)
