"""Wakes the live event streams of a user in this process when that user's tasks change.

A wake-up is only a hint to read the change feed again, so lost or extra wake-ups cost
latency or a query, never a wrong event. It is fed by PostgreSQL notifications
(`listener.py`) or, on SQLite, by the repository after each commit.
"""

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager


class ChangeHub:
    def __init__(self) -> None:
        self._streams: defaultdict[str, set[asyncio.Event]] = defaultdict(set)
        self.closed = False
        # False while wake-ups may be missed (the LISTEN connection is down, or goes through
        # a pooler that drops notifications): streams then also read at each heartbeat.
        self.reliable = True

    @contextmanager
    def subscribe(self, owner: str) -> Iterator[asyncio.Event]:
        """An event set whenever `owner`'s tasks change (or the hub closes) while held."""
        event = asyncio.Event()
        streams = self._streams[owner]
        streams.add(event)
        try:
            yield event
        finally:
            streams.discard(event)
            if not streams:
                del self._streams[owner]

    def wake(self, owner: str) -> None:
        for event in self._streams.get(owner, ()):
            event.set()

    def wake_all(self) -> None:
        """After notifications may have been lost (the listener reconnected): read again."""
        for streams in self._streams.values():
            for event in streams:
                event.set()

    def close(self) -> None:
        """The server is stopping: every stream ends."""
        self.closed = True
        self.wake_all()

    @property
    def subscribers(self) -> int:
        return sum(len(streams) for streams in self._streams.values())
