"""Limits a public server needs, on the server the README runs (`todo-api serve`, a real
process): request header size and count, a header-read timeout, forwarded headers believed
only from listed proxies, and a connection that stays usable after an unexpected error."""

import asyncio
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from tests.conftest import hs256_token, make_settings, sqlite_url
from tests.faults.cluster import free_port
from tests.faults.server import Server
from todo_api.db import migrate
from todo_api.main import create_app
from todo_api.tasks import service
from todo_api.web.request_context import RequestIdFilter


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("limits")
    running = Server(
        sqlite_url(directory),
        directory,
        HEADER_READ_TIMEOUT="1",
        MAX_REQUEST_HEADER_BYTES="16384",
        MAX_REQUEST_HEADERS="50",
    )
    running.wait_ready()
    yield running
    running.stop()


def _exchange(port: int, *parts: bytes, pause: float = 0.0, timeout: float = 10.0) -> bytes:
    """Send `parts` (pausing between them), then read until the server closes."""
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        try:
            for part in parts:
                connection.sendall(part)
                time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError):
            pass
        while True:
            try:
                data = connection.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not data:
                break
            received += data
    return received


def _request(*headers: bytes) -> bytes:
    return (
        b"GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n" + b"".join(headers) + b"\r\n"
    )


def test_a_request_within_the_limits_is_served(server: Server) -> None:
    headers = [b"X-Fine-%d: %s\r\n" % (i, b"v" * 100) for i in range(40)]

    response = _exchange(server.port, _request(*headers))

    assert response.startswith(b"HTTP/1.1 200 "), response[:200]


def test_a_huge_header_is_431_before_it_is_read_whole(server: Server) -> None:
    response = _exchange(server.port, _request(b"X-Huge: " + b"a" * (1 << 20) + b"\r\n"))

    assert response.startswith(b"HTTP/1.1 431 "), response[:200]
    assert b"application/problem+json" in response


def test_too_many_headers_are_431(server: Server) -> None:
    headers = [b"X-Many-%d: v\r\n" % i for i in range(5000)]

    response = _exchange(server.port, _request(*headers))

    assert response.startswith(b"HTTP/1.1 431 "), response[:200]


def test_half_sent_headers_are_timed_out_with_408(server: Server) -> None:
    started = time.monotonic()

    response = _exchange(server.port, b"GET /health HTTP/1.1\r\nHost: test\r\nX-Slow: ")

    assert response.startswith(b"HTTP/1.1 408 "), response[:200]
    assert time.monotonic() - started < 5


def test_a_silent_connection_is_closed(server: Server) -> None:
    started = time.monotonic()

    response = _exchange(server.port)

    assert response == b""
    assert time.monotonic() - started < 5


def test_slow_headers_are_cut_even_when_each_byte_is_on_time(server: Server) -> None:
    trickle = [b"GET /health HTTP/1.1\r\n", *(b"X-%d: v\r\n" % i for i in range(8))]

    response = _exchange(server.port, *trickle, pause=0.3)

    assert response.startswith(b"HTTP/1.1 408 "), response[:200]


def _anonymous_statuses(server: Server, forwarded_for: list[str]) -> list[int]:
    with httpx.Client(base_url=server.base_url) as http:
        return [
            http.get("/api/alice/tasks", headers={"X-Forwarded-For": address}).status_code
            for address in forwarded_for
        ]


@pytest.mark.parametrize("trusted", [False, True])
def test_forwarded_for_is_believed_only_from_listed_proxies(tmp_path: Path, trusted: bool) -> None:
    settings = {"RATE_LIMIT_ANONYMOUS_PER_MINUTE": "3"}
    if trusted:
        settings["FORWARDED_ALLOW_IPS"] = "127.0.0.1"
    running = Server(sqlite_url(tmp_path), tmp_path, workers=1, **settings)
    try:
        running.wait_ready()
        statuses = _anonymous_statuses(running, [f"203.0.113.{i}" for i in range(6)])
    finally:
        running.stop()

    if trusted:  # each address is its own client, under its own limit
        assert statuses == [401] * 6
    else:  # invented addresses change nothing: the peer is the client
        assert statuses == [401, 401, 401, 429, 429, 429]


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.addFilter(RequestIdFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_after_an_unexpected_error_the_connection_stays_usable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(sqlite_url(tmp_path))
    await asyncio.to_thread(migrate.upgrade, settings)
    monkeypatch.setattr("todo_api.ops.http_protocol.get_settings", lambda: settings)

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "list_tasks", broken)
    records = _Records()
    logging.getLogger("todo_api.errors").addHandler(records)
    port = free_port()
    config = uvicorn.Config(
        create_app(settings),
        port=port,
        http="todo_api.ops.http_protocol:LimitedHttpToolsProtocol",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110  (uvicorn offers no started event)
            await asyncio.sleep(0.05)
        token = hs256_token("alice")
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        responses = []
        for path in ("/api/alice/tasks", "/health"):
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
            )
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            responses.append((head, await reader.readexactly(length)))
        writer.close()
    finally:
        logging.getLogger("todo_api.errors").removeHandler(records)
        server.should_exit = True
        await serving

    (error_head, error_body), (health_head, _) = responses
    assert error_head.startswith(b"HTTP/1.1 500 ")
    assert b"application/problem+json" in error_head
    assert b'"status":500' in error_body
    assert health_head.startswith(b"HTTP/1.1 200 ")  # the same connection, still open
    request_id = error_head.lower().split(b"x-request-id: ")[1].split(b"\r\n")[0].decode()
    logged = [r for r in records.records if r.levelno == logging.ERROR]
    assert [r.request_id for r in logged] == [request_id]  # type: ignore[attr-defined]


def test_a_body_in_the_same_chunk_as_the_headers_is_not_counted_as_headers(
    server: Server,
) -> None:
    body = b'{"title": "' + b"x" * 40_000 + b'"}'
    request = (
        b"POST /api/alice/tasks HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    ) + body

    response = _exchange(server.port, request)

    assert response.startswith(b"HTTP/1.1 401 "), response[:200]  # no token: read, then refused
