"""Real `todo-api serve` processes, and a reader of their server-sent events."""

import asyncio
import os
import signal
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.conftest import TEST_SECRET, hs256_token
from tests.test_cli import COMMAND, _wait_until_up, clean_env, free_port


@dataclass
class Server:
    url: str
    process: "subprocess.Popen[bytes]"

    def stop(self, timeout: float = 20) -> str:
        """SIGTERM, as a platform stops a container; the log."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.communicate(timeout=timeout)[0].decode()


@contextmanager
def server(database_url: str, cwd: Path, *args: str, **env: str) -> Iterator[Server]:
    port = free_port()
    process = subprocess.Popen(
        [*COMMAND, "serve", "--port", str(port), *args],
        cwd=cwd,
        env=clean_env(DATABASE_URL=database_url, BETTER_AUTH_SECRET=TEST_SECRET, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its worker processes too are stopped with it
    )
    running = Server(f"http://127.0.0.1:{port}", process)
    try:
        # Generous: several workers on a busy CI machine each import the app first.
        _wait_until_up(f"{running.url}/health", timeout=120)
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate(timeout=20)


def auth(user_id: str, lifetime: int = 300) -> dict[str, str]:
    return {"Authorization": f"Bearer {hs256_token(user_id, lifetime=lifetime)}"}


@dataclass
class Event:
    event: str = "message"
    id: str | None = None
    data: str = ""
    comments: list[str] = field(default_factory=list)


class EventReader:
    """Reads one event (or comment) at a time from a text/event-stream response."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def next(self, within: float = 5.0, *, comments: bool = False) -> Event:
        """The next event; with `comments`, a block of comment lines counts as one too."""
        async with asyncio.timeout(within):
            event = Event()
            has_field = False
            async for line in self._lines:
                if line == "":
                    if has_field or (comments and event.comments):
                        return event
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "":
                    event.comments.append(value)
                elif name in ("event", "id", "data"):
                    has_field = True
                    setattr(event, name, value if name != "data" else event.data + value)
            raise EOFError("the stream ended")

    async def ended(self, within: float) -> bool:
        """True if the stream ends (events before the end are skipped) within `within` s."""
        try:
            async with asyncio.timeout(within):
                async for _line in self._lines:
                    pass
        except TimeoutError:
            return False
        return True


@asynccontextmanager
async def events(
    base_url: str, user_id: str, *, headers: dict[str, str] | None = None, since: str | None = None
) -> AsyncIterator[EventReader]:
    params = {"since": since} if since else None
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(10, read=None)) as http,
        http.stream(
            "GET", f"/api/{user_id}/events", headers=headers or auth(user_id), params=params
        ) as response,
    ):
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = EventReader(response)
        yield reader
