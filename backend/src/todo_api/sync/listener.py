"""Each instance LISTENs on one dedicated PostgreSQL connection and wakes its local streams.

LISTEN needs a session of its own for as long as it listens: a pooled connection goes back
to the pool (asyncpg#283), and PgBouncer in transaction mode, as on Neon's `-pooler` host,
never delivers notifications. So the listener takes EVENTS_DATABASE_URL (a direct URL) when
set. A dead connection is noticed by a periodic ping, replaced, and every stream woken to
re-read the feed, since notifications sent meanwhile are lost (they are only hints).
"""

import asyncio
import logging
from contextlib import suppress

import asyncpg

from todo_api.config import Settings
from todo_api.db.url import parse_database_url
from todo_api.sync.channel import CHANNEL
from todo_api.sync.hub import ChangeHub

logger = logging.getLogger(__name__)

_PING_SECONDS = 10.0
LISTENER_NAME = "todo-api live events"
_MAX_BACKOFF_SECONDS = 10.0


def listen_url(settings: Settings) -> str:
    return settings.events_database_url or settings.database_url


def pooled_listen_warning(settings: Settings) -> str | None:
    """A warning when LISTEN would go through PgBouncer in transaction mode."""
    target = parse_database_url(listen_url(settings), pgbouncer=settings.database_pgbouncer)
    if "statement_cache_size" not in target.connect_args:  # how the URL parser marks PgBouncer
        return None
    return (
        "live events: the database URL goes through PgBouncer in transaction mode (Neon's "
        "-pooler host), which never delivers LISTEN/NOTIFY; set EVENTS_DATABASE_URL to the direct "
        "URL. Until then other instances' changes reach streams only at each heartbeat."
    )


class ChangeListener:
    def __init__(self, settings: Settings, hub: ChangeHub) -> None:
        # Through a pooler, LISTEN succeeds but nothing is ever delivered.
        self._reliable = pooled_listen_warning(settings) is None
        self._ping_seconds = min(_PING_SECONDS, settings.events_heartbeat_seconds)
        hub.reliable = False  # until listening
        target = parse_database_url(listen_url(settings), pgbouncer=False)
        self._dsn = target.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._options = {
            key: value
            for key, value in target.connect_args.items()
            if key not in ("prepared_statement_cache_size", "prepared_statement_name_func")
        }
        self._options.setdefault("timeout", settings.db_connect_timeout)
        # Named, so that an operator sees it in pg_stat_activity for what it is.
        server_settings = dict(self._options.get("server_settings") or {})
        server_settings.setdefault("application_name", LISTENER_NAME)
        self._options["server_settings"] = server_settings
        self._hub = hub
        self.connected = asyncio.Event()

    async def run(self) -> None:
        """Listen until cancelled, reconnecting after any failure."""
        backoff = 0.5
        while True:
            connection: asyncpg.Connection | None = None
            try:
                connection = await asyncpg.connect(self._dsn, **self._options)
                await connection.add_listener(CHANNEL, self._notified)
                self.connected.set()
                self._hub.reliable = self._reliable
                self._hub.wake_all()  # anything sent while not listening is read now
                backoff = 0.5
                while True:
                    await asyncio.sleep(self._ping_seconds)
                    await asyncio.wait_for(connection.fetchval("SELECT 1"), _PING_SECONDS)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.connected.clear()
                self._hub.reliable = False
                logger.warning(
                    "live events: the LISTEN connection failed (%s); retrying in %.1fs",
                    type(exc).__name__,
                    backoff,
                )
            finally:
                if connection is not None:
                    with suppress(Exception):
                        await asyncio.wait_for(connection.close(), 2)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)

    def _notified(self, _connection: object, _pid: int, _channel: str, owner: object) -> None:
        self._hub.wake(str(owner))
