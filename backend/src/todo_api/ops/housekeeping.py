"""Upkeep the app does by itself, so operators set up no cron: expired idempotency keys
(and, later, old tombstones) are purged on a timer by every running instance."""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]


@asynccontextmanager
async def housekeeping(
    jobs: Sequence[Job], *, every_seconds: float, first_after: float
) -> AsyncIterator[None]:
    """Run `jobs` `first_after` seconds from now, then every `every_seconds`, until the block
    ends. A failing job is logged and tried again next time (a database outage, say)."""

    async def run() -> None:
        await asyncio.sleep(first_after)
        while True:
            for job in jobs:
                try:
                    await job()
                except Exception as exc:
                    logger.warning("housekeeping: %s failed (%s)", _name(job), type(exc).__name__)
            await asyncio.sleep(every_seconds)

    task = asyncio.create_task(run())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


def _name(job: Job) -> str:
    named = getattr(job, "func", job)  # a functools.partial names its function
    return str(getattr(named, "__name__", "job"))
