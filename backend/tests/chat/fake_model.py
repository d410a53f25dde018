"""A local OpenAI-compatible Chat Completions server that answers from a script (no network).

Each model call takes the next step of the script: a text answer, tool calls, an HTTP error,
or a wait longer than the client allows. Every request is kept, to assert what the model was
sent (history, tools and their schemas).
"""

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from itertools import count
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

Step = Callable[[dict[str, Any]], JSONResponse]


@dataclass
class FakeModel:
    script: list[Step] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    _ids: Any = field(default_factory=lambda: count(1))
    _released: asyncio.Event | None = None  # set when the server stops: hanging answers end

    def says(self, text: str) -> "FakeModel":
        self.script.append(lambda _request: _completion({"role": "assistant", "content": text}))
        return self

    def calls(self, *calls: tuple[str, dict[str, Any] | str]) -> "FakeModel":
        """One answer asking for these tool calls (arguments as an object, or raw text)."""

        def step(_request: dict[str, Any]) -> JSONResponse:
            tool_calls = [
                {
                    "id": f"call_{next(self._ids)}",
                    "type": "function",
                    "function": {
                        "name": name,
                        "arguments": arguments
                        if isinstance(arguments, str)
                        else json.dumps(arguments),
                    },
                }
                for name, arguments in calls
            ]
            message = {"role": "assistant", "content": None, "tool_calls": tool_calls}
            return _completion(message, finish_reason="tool_calls")

        self.script.append(step)
        return self

    def fails(self, status: int = 500) -> "FakeModel":
        error = {"error": {"message": "scripted failure", "type": "server_error"}}
        self.script.append(lambda _request: JSONResponse(error, status_code=status))
        return self

    def hangs(self) -> "FakeModel":
        self.script.append(_HANG)
        return self

    def tool_outputs(self, request_index: int = -1) -> list[dict[str, Any]]:
        """The tool results the model was sent in a request, decoded."""
        messages = self.requests[request_index]["messages"]
        return [json.loads(m["content"]) for m in messages if m["role"] == "tool"]

    async def _answer(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.requests.append(body)
        step = self.script.pop(0) if self.script else None
        if step is None:
            return _completion({"role": "assistant", "content": "(script over)"})
        if step is _HANG:
            assert self._released is not None
            await self._released.wait()
            return JSONResponse({"error": {"message": "released"}}, status_code=500)
        return step(body)


def _HANG(_request: dict[str, Any]) -> JSONResponse:  # noqa: N802  (a marker, never called)
    raise AssertionError


def _completion(message: dict[str, Any], finish_reason: str = "stop") -> JSONResponse:
    return JSONResponse(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": "fake-model",
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    )


@asynccontextmanager
async def running(model: FakeModel) -> AsyncIterator[FakeModel]:
    """Serve `model` on a free local port for the block (in this event loop)."""
    app = Starlette(routes=[Route("/v1/chat/completions", model._answer, methods=["POST"])])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    model.url = f"http://127.0.0.1:{port}/v1"
    model._released = asyncio.Event()
    try:
        yield model
    finally:
        model._released.set()
        server.should_exit = True
        await task
