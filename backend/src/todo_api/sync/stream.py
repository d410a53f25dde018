"""A user's changes as server-sent events: what was missed first, then each as it commits.

Each event names its kind (`task.created`, `task.updated`, `task.deleted`, `reminder.due`),
carries the change-feed token after it as its `id` (so a reconnecting client's
`Last-Event-ID` resumes exactly there: no gap, no duplicate), and the task (or, for a
deletion, its id) as `data`. A stream holds no database connection while it waits.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import orjson

from todo_api.db.executor import Database
from todo_api.sync.feed import Change, ChangePage, read_changes
from todo_api.sync.hub import ChangeHub
from todo_api.tasks.schemas import task_json

logger = logging.getLogger(__name__)

EVENT_PAGE = 100
RETRY_MILLISECONDS = 2000  # how soon a browser reconnects after the stream ends


def event_bytes(change: Change, owner: str) -> bytes:
    data = {"id": change.task_id} if change.task is None else task_json(change.task)
    return b"id: %s\nevent: %s\ndata: %s\n\n" % (
        change.position.encode(owner).encode(),
        change.kind.encode(),
        orjson.dumps(data, option=orjson.OPT_UTC_Z),
    )


async def event_stream(
    db: Database,
    hub: ChangeHub,
    *,
    owner: str,
    first: ChangePage,
    heartbeat: float,
    valid_until: float | None,
    retention_days: float,
) -> AsyncIterator[bytes]:
    """Events from `first` (read before the response started, so a bad token is a 4xx)
    until the client leaves, its token expires, or the server stops."""
    yield b"retry: %d\n\n" % RETRY_MILLISECONDS
    with hub.subscribe(owner) as woken:
        woken.set()  # read once more: a change may have committed before this subscription
        page = first
        last_write = time.monotonic()
        while True:
            for change in page.changes:
                yield event_bytes(change, owner)
                last_write = time.monotonic()
            while not page.has_more:  # caught up: wait for a change, with heartbeats
                if hub.closed:
                    return  # the server is stopping: the client reconnects to another
                if valid_until is not None and time.time() >= valid_until:
                    yield b": the token expired; reconnect with a fresh one\n\n"
                    return
                wait = heartbeat - (time.monotonic() - last_write)
                if valid_until is not None:
                    wait = min(wait, valid_until - time.time())
                if wait > 0 and await _woken(woken, wait):
                    break
                if wait <= 0 and time.monotonic() - last_write >= heartbeat:
                    yield b": keep-alive\n\n"
                    last_write = time.monotonic()
                    if not hub.reliable:
                        break  # a wake-up may have been missed: read anyway
            woken.clear()  # before reading: a change committed after this wakes it again
            try:
                page = await read_changes(
                    db, owner, page.next, limit=EVENT_PAGE, retention_days=retention_days
                )
            except Exception as exc:  # an outage, or the token expired meanwhile
                logger.warning("live events: stream ended (%s)", type(exc).__name__)
                return


async def _woken(event: asyncio.Event, seconds: float) -> bool:
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True
