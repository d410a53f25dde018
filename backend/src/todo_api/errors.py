"""Domain errors and the one renderer that turns every error into RFC 9457 problem JSON."""

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette import status
from starlette.exceptions import HTTPException
from starlette.routing import Match

from todo_api.db.executor import CONNECTION_LOST

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    """One invalid input: where it is, what is wrong, and a machine-readable kind."""

    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details: the body of every error response."""

    # Every problem carries these four (`errors` only a 422): required in the document, so a
    # typed client can read `problem.type` without a check for undefined.
    model_config = ConfigDict(json_schema_extra={"required": ["type", "title", "status", "detail"]})

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


class AppError(Exception):
    """A failure the client can act on; subclasses set the status."""

    status_code: int = HTTPStatus.INTERNAL_SERVER_ERROR
    errors: "list[FieldError] | None" = None  # which inputs, when several can be at fault

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers


class NotFound(AppError):
    status_code = HTTPStatus.NOT_FOUND


class Conflict(AppError):
    status_code = HTTPStatus.CONFLICT


class Gone(AppError):
    status_code = HTTPStatus.GONE


class PreconditionFailed(AppError):
    status_code = HTTPStatus.PRECONDITION_FAILED


class PreconditionRequired(AppError):
    status_code = HTTPStatus.PRECONDITION_REQUIRED


class BadRequest(AppError):
    status_code = HTTPStatus.BAD_REQUEST


class UnprocessableContent(AppError):
    status_code = status.HTTP_422_UNPROCESSABLE_CONTENT


class Unauthorized(AppError):
    """No valid bearer token: RFC 6750 asks for a WWW-Authenticate challenge."""

    status_code = HTTPStatus.UNAUTHORIZED

    def __init__(self, detail: str, *, invalid_token: bool) -> None:
        challenge = 'Bearer realm="todo-api"'
        if invalid_token:
            challenge += ', error="invalid_token"'
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class Forbidden(AppError):
    status_code = HTTPStatus.FORBIDDEN


class ServiceUnavailable(AppError):
    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    retry_later = True  # an outage: Retry-After invites the same request again


class StatementTimeout(ServiceUnavailable):
    """A statement ran past its time limit: the request's own cost (or a lock it waited on),
    not an outage, so no Retry-After invites the same request again."""

    retry_later = False

    def __init__(self) -> None:
        super().__init__(
            "The request took longer than the server allows; narrow it (fewer filters or "
            "a smaller page) and try again."
        )


# Errors that mean "the database cannot be reached right now", not "the request is wrong".
OUTAGE_ERRORS: tuple[type[Exception], ...] = (
    DisconnectionError,
    PoolTimeoutError,
    OSError,
    TimeoutError,
)


# SQLSTATE classes: connection exception, insufficient resources, operator intervention
# (shutdown, "cannot connect now"), system error, and transaction rollback (a deadlock or a
# serialization failure: the same request may well succeed again, so 503 + Retry-After).
_OUTAGE_SQLSTATE_CLASSES = {"08", "40", "53", "57", "58"}


def is_outage(exc: BaseException) -> bool:
    """True when `exc` says the database is down, unreachable or too slow."""
    if isinstance(exc, OUTAGE_ERRORS + CONNECTION_LOST):
        return True
    if isinstance(exc, asyncpg.PostgresError):  # raised by asyncpg directly (PostgreSQL)
        return (exc.sqlstate or "")[:2] in _OUTAGE_SQLSTATE_CLASSES
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    return isinstance(exc.orig, OUTAGE_ERRORS) or sqlstate[:2] in _OUTAGE_SQLSTATE_CLASSES


def problem_response(
    status_code: int,
    detail: str,
    *,
    errors: Sequence[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The single place an error body is built."""
    problem = Problem(
        title=HTTPStatus(status_code).phrase,
        status=status_code,
        detail=detail,
        errors=list(errors) if errors else None,
    )
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=status_code,
        headers=headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def error_response(exc: AppError, *, retry_after: int) -> JSONResponse:
    """The problem response for a domain error (a 503 says when to retry)."""
    headers = dict(exc.headers or {})
    if isinstance(exc, ServiceUnavailable) and exc.retry_later:
        headers.setdefault("Retry-After", str(retry_after))
    return problem_response(exc.status_code, exc.detail, errors=exc.errors, headers=headers or None)


def unexpected_error_response(
    exc: Exception, method: str, path: str, *, retry_after: int
) -> JSONResponse:
    """A 503 for a database outage, else a 500; logged (in the request's context, so with
    its request id) without the request's data."""
    if is_outage(exc):
        logger.warning("database unavailable on %s %s: %s", method, path, _describe(exc))
        return problem_response(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "The database is unavailable; try again shortly.",
            headers={"Retry-After": str(retry_after)},
        )
    logger.exception("unhandled error on %s %s", method, path)
    return problem_response(
        HTTPStatus.INTERNAL_SERVER_ERROR,
        "An unexpected error occurred; quote the X-Request-ID header when reporting it.",
    )


def register_exception_handlers(app: FastAPI, *, retry_after: int) -> None:
    """Render domain, HTTP, validation, database and unexpected errors alike."""

    async def on_app_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        return error_response(exc, retry_after=retry_after)

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        headers = dict(exc.headers or {})
        if exc.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
            headers["Allow"] = _allowed_methods(request)
        return problem_response(exc.status_code, str(exc.detail), headers=headers or None)

    async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [_field_error(error) for error in exc.errors()]
        return problem_response(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "The request is not valid; see `errors`.",
            errors=errors,
        )

    async def on_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        return unexpected_error_response(
            exc, request.method, request.url.path, retry_after=retry_after
        )

    app.add_exception_handler(AppError, on_app_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    # Registered for these classes (not only Exception) so they are handled inside the
    # app rather than by Starlette's outermost error middleware, which re-raises.
    outage_types: tuple[type[Exception], ...] = (
        DBAPIError,
        asyncpg.PostgresError,
        *OUTAGE_ERRORS,
        *CONNECTION_LOST,
    )
    for outage_type in outage_types:
        app.add_exception_handler(outage_type, on_unexpected_error)
    app.add_exception_handler(Exception, on_unexpected_error)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> str:
    # Starlette's Allow names only the first route matching the path; the collection is
    # served by two routes (GET and POST), so ask the router about each method.
    routes = request.app.router.routes
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]
    return ", ".join(allowed)


def _field_error(error: Any) -> FieldError:
    # The rejected input itself is left out: it may be large or private.
    return FieldError(
        loc=list(error.get("loc", ())),
        msg=str(error.get("msg", "")),
        type=str(error.get("type", "")),
    )


def _describe(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    return (
        f"{type(exc).__name__}({type(orig).__name__})" if orig is not None else type(exc).__name__
    )
