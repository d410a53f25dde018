"""uvicorn's httptools protocol with the limits a public server needs on request headers.

uvicorn bounds neither the size nor the number of request headers, nor the time a client
may take to send them: a 1 MiB header or 5,000 headers were served, and a client sending
half a request line held its connection forever. This protocol refuses, before the app
sees the request:
- more than `max_request_header_bytes` (request line and headers) with a 431, counted as
  the bytes arrive, so a huge header is never buffered whole;
- more than `max_request_headers` headers with a 431;
- headers not complete within `header_read_timeout` seconds of the connection opening or of
  the request's first byte: a 408 (or a plain close if nothing arrived), so half-sent
  requests cannot pin connections.
It also tells the app when the server starts to stop (`SERVER_STOPPING`), so that endless
responses (live event streams) end cleanly instead of holding the shutdown open.

This subclasses uvicorn's `HttpToolsProtocol` and hooks its parser callbacks and
`send_400_response` and `shutdown`: uvicorn internals, bounded to the tested minor release in
pyproject.toml and checked by `tests/ops/test_http_protocol.py` against a real server.
Public replacement: none in uvicorn 0.54 (only the h11 protocol has
`h11_max_incomplete_event_size`, and no header timeout).
"""

import asyncio
from http import HTTPStatus
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from todo_api.config import get_settings

# The lifespan state's entry called when the server starts to stop (before open responses
# are waited for).
SERVER_STOPPING = "server_stopping"

# After refusing a request, what the client still sends is read and dropped for this long
# before closing (a "lingering close"): closing with unread data would make the kernel send
# a reset, and the client could lose the refusal it was just sent.
_LINGER_SECONDS = 2.0


class _HeadersTooLarge(Exception):
    pass


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()  # cached: read once per worker
        self._max_bytes = settings.max_request_header_bytes
        self._max_headers = settings.max_request_headers
        self._timeout = settings.header_read_timeout
        self._awaiting_headers = True
        self._header_bytes = 0
        self._header_count = 0
        self._received_any = False
        self._refused = False
        self._draining = False
        self._tail = b""  # the last bytes seen: the end of the headers may straddle chunks
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def shutdown(self) -> None:
        # uvicorn waits for open responses before it stops the app: live event streams would
        # hold the shutdown open until its timeout. The app's hook ends them cleanly first.
        stopping = self.app_state.get(SERVER_STOPPING)
        if callable(stopping):
            stopping()
        super().shutdown()

    def data_received(self, data: bytes) -> None:
        if self._draining:
            return
        if self._awaiting_headers:
            self._received_any = True
            # Counted up to the blank line that ends the headers: a body (or the next
            # pipelined request) may arrive in the same chunk.
            window = self._tail + data
            end = window.find(b"\r\n\r\n")
            self._header_bytes += len(data) if end < 0 else max(0, end + 4 - len(self._tail))
            self._tail = window[-3:]
            if self._header_bytes > self._max_bytes:
                self._refuse(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, self._too_large())
                return
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_count = 0
        if self._timer is None:
            self._arm()

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > self._max_headers:
            self._refused = True
            raise _HeadersTooLarge  # the parser stops; uvicorn answers via send_400_response
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm()
        self._awaiting_headers = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        # The next request on this connection gets a fresh header budget and clock.
        self._awaiting_headers = True
        self._header_bytes = 0
        self._received_any = False
        self._tail = b""

    def send_400_response(self, msg: str) -> None:
        if self._refused:
            self._refuse(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, self._too_large())
        else:
            super().send_400_response(msg)

    def _too_large(self) -> str:
        return (
            f"Request headers are limited to {self._max_bytes} bytes "
            f"and {self._max_headers} fields."
        )

    def _arm(self) -> None:
        self._disarm()
        self._timer = self.loop.call_later(self._timeout, self._headers_timed_out)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _headers_timed_out(self) -> None:
        self._timer = None
        if not self._awaiting_headers or self.transport.is_closing():
            return
        if self._received_any:
            detail = f"The request headers did not arrive within {self._timeout:g} seconds."
            self._refuse(HTTPStatus.REQUEST_TIMEOUT, detail)
        else:
            self.transport.close()

    def _refuse(self, status: HTTPStatus, detail: str) -> None:
        self._disarm()
        if self._draining or self.transport.is_closing():
            return
        self._draining = True
        body = orjson.dumps(
            {"type": "about:blank", "title": status.phrase, "status": status, "detail": detail}
        )
        head = (
            f"HTTP/1.1 {status.value} {status.phrase}\r\n"
            "content-type: application/problem+json\r\n"
            f"content-length: {len(body)}\r\n"
            "connection: close\r\n\r\n"
        ).encode()
        self.transport.write(head + body)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(_LINGER_SECONDS, self.transport.close)
