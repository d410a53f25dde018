"""Say in one line why the database could not be reached, where, and what to try.

`todo-api migrate` and `serve` reach the database first; a wrong host, a missing database
or a server without TLS used to end in a hundred-line traceback. The line names the host,
port and database, never the password.
"""

import socket
import ssl

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

_CAUSES: list[tuple[type[BaseException], str]] = [
    (asyncpg.InvalidCatalogNameError, "the database does not exist (create it, or fix its name)"),
    (
        asyncpg.InvalidAuthorizationSpecificationError,
        "the server refused the user or password (check them in DATABASE_URL)",
    ),
    (asyncpg.InvalidPasswordError, "the server refused the user or password"),
    (ssl.SSLError, "the TLS handshake failed (check sslmode and sslrootcert)"),
    (socket.gaierror, "the host name does not resolve (check the host in DATABASE_URL)"),
    (
        ConnectionRefusedError,
        "nothing is listening there (is PostgreSQL running? are the host and port right?)",
    ),
    (TimeoutError, "no answer within DB_CONNECT_TIMEOUT (a firewall, or the wrong host?)"),
]


def connection_failure(exc: BaseException, database_url: str) -> str | None:
    """One line for a failure to reach the database; None if `exc` is something else."""
    reason = None
    for cause in _chain(exc):
        if isinstance(cause, ConnectionError) and "rejected SSL upgrade" in str(cause):
            reason = "the server does not accept TLS (use sslmode=disable or prefer for it)"
        for kind, text in _CAUSES:
            if reason is None and isinstance(cause, kind):
                reason = text
        if reason is not None:
            break
    if reason is None:
        return None
    return f"cannot reach the database at {_where(database_url)}: {reason}"


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and what it wraps (SQLAlchemy's `orig`, `__cause__`, `__context__`)."""
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or any(current is known for known in seen):
            continue
        seen.append(current)
        pending += [getattr(current, "orig", None), current.__cause__, current.__context__]
    return seen


def _where(database_url: str) -> str:
    try:
        url = make_url(database_url)
    except ArgumentError:
        return "DATABASE_URL"
    if url.get_backend_name() == "sqlite":
        return f"the SQLite file {url.database}"
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"
