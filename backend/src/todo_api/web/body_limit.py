"""Refuse request bodies over the limit with a 413 problem, before they are read whole.

A declared Content-Length over the limit is refused before the app runs; a body
streamed without one is counted as it arrives and cut off once it passes the limit.
"""

from starlette import status
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from todo_api.errors import problem_response


class BodySizeLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared.isdigit() and int(declared) > self.max_bytes:
            response = problem_response(
                status.HTTP_413_CONTENT_TOO_LARGE, self._detail(), headers={"Connection": "close"}
            )
            await response(scope, receive, send)
            return
        await self.app(scope, self._counting(receive), send)

    def _counting(self, receive: Receive) -> Receive:
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                # Raised inside the route's body parsing, so the usual handler renders it.
                raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, self._detail())
            return message

        return counted_receive

    def _detail(self) -> str:
        return f"The request body is larger than {self.max_bytes} bytes."


def _content_length(scope: Scope) -> str:
    name: bytes
    value: bytes
    for name, value in scope["headers"]:
        if name == b"content-length":
            return value.decode("latin-1")
    return ""
