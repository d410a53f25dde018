"""Per-request id, access log and metrics, in one cheap ASGI middleware.

The request id comes from a well-formed incoming `X-Request-ID` or is made here; it is
returned in the response and attached to every log line written while the request runs.
The access log names the path without its query string (search words are task text).
"""

import logging
import re
import time
from contextvars import ContextVar
from itertools import count
from secrets import token_hex

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from todo_api.errors import unexpected_error_response
from todo_api.ops.metrics import Metrics

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
access_logger = logging.getLogger("todo_api.access")
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (`-` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class RequestContext:
    def __init__(
        self, app: ASGIApp, *, metrics: Metrics, access_log: bool, retry_after: int
    ) -> None:
        self.app = app
        self.retry_after = retry_after
        self.metrics = metrics
        self.access_log = access_log
        # A random prefix per process and a counter: unique ids without a syscall each.
        self._id_prefix = token_hex(8)
        self._id_counter = count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or f"{self._id_prefix}{next(self._id_counter):016x}"
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        responding = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, responding
            if message["type"] == "http.response.start":
                status, responding = message["status"], True
                header = (b"x-request-id", request_id.encode())
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # Answered here, inside the request's context: the log line keeps the request
            # id, the client gets a whole problem response, and the connection stays usable
            # (Starlette's outermost handler would re-raise, and uvicorn drop it).
            if responding:
                raise  # part of a response is out: nothing whole can be sent any more
            response = unexpected_error_response(
                exc, scope["method"], scope["path"], retry_after=self.retry_after
            )
            await response(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            self._record(scope, status, elapsed)
            request_id_var.reset(token)

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        route = scope.get("route")
        # The template (/api/{user_id}/tasks), never the concrete path: bounded label values.
        template = getattr(route, "path", None) or "unmatched"
        method = scope["method"]
        self.metrics.observe(method, template, status, elapsed)
        if status == 503:
            self.metrics.database_errors.inc()
        if self.access_log:
            access_logger.info("%s %s %d %.1fms", method, scope["path"], status, elapsed * 1000)


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if _VALID_REQUEST_ID.fullmatch(candidate) else None
    return None
