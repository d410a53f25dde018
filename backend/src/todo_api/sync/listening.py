"""The lifespan's part of live events: a LISTEN connection on PostgreSQL, for as long as the
app runs. SQLite needs none (one process: the repository wakes streams itself)."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from todo_api.config import Settings
from todo_api.db.executor import Database
from todo_api.sync.hub import ChangeHub
from todo_api.sync.listener import ChangeListener, pooled_listen_warning

logger = logging.getLogger(__name__)


@asynccontextmanager
async def listening(settings: Settings, database: Database, hub: ChangeHub) -> AsyncIterator[None]:
    if database.dialect_name != "postgresql":
        # SQLite: writes in this process wake its streams at once; another worker process
        # (`--workers 2`) cannot, so streams also read at each heartbeat.
        hub.reliable = False
        yield
        return
    warning = pooled_listen_warning(settings)
    if warning:
        logger.warning(warning)
    task = asyncio.create_task(ChangeListener(settings, hub).run())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
