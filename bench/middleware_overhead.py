"""What the per-request middleware costs: request id, metrics and access log (RequestContext),
and security headers, measured around an ASGI app that does nothing, side by side in one run.

    python bench/middleware_overhead.py [--requests 200000]
"""

import argparse
import asyncio
import logging
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from todo_api.ops.metrics import Metrics
from todo_api.web.request_context import RequestContext
from todo_api.web.security_headers import SecurityHeaders


async def bare(scope: Scope, receive: Receive, send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": b"[]"})


async def time_app(app: ASGIApp, requests: int) -> float:
    """Seconds per request."""
    scope: Scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/user/tasks",
        "headers": [(b"authorization", b"Bearer x"), (b"host", b"bench")],
        "query_string": b"",
    }

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: object) -> None:
        return None

    started = time.perf_counter()
    for _ in range(requests):
        await app(dict(scope), receive, send)  # type: ignore[arg-type]
    return (time.perf_counter() - started) / requests


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200_000)
    args = parser.parse_args()
    logging.getLogger("todo_api.access").setLevel(logging.WARNING)  # formatted but not written
    stacks: dict[str, Callable[[], ASGIApp]] = {
        "bare app": lambda: bare,
        "+ security headers": lambda: SecurityHeaders(bare, hsts=True),
        "+ request context (id, metrics)": lambda: RequestContext(
            SecurityHeaders(bare, hsts=True), metrics=Metrics(), access_log=False
        ),
        "+ access log on": lambda: RequestContext(
            SecurityHeaders(bare, hsts=True), metrics=Metrics(), access_log=True
        ),
    }
    results = {
        name: asyncio.run(time_app(build(), args.requests)) for name, build in stacks.items()
    }
    base = results["bare app"]
    print("| stack | µs per request | added µs |")
    print("|---|---|---|")
    for name, seconds in results.items():
        print(f"| {name} | {seconds * 1e6:.2f} | {(seconds - base) * 1e6:.2f} |")


if __name__ == "__main__":
    main()
