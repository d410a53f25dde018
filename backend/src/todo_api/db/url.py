"""Turn the database URLs people paste into a SQLAlchemy URL plus driver arguments.

Accepted: `sqlite://`, `sqlite+aiosqlite://`, `postgres://`, `postgresql://`,
`postgresql+<driver>://`, with libpq query options such as Neon's
`?sslmode=require&channel_binding=require`. asyncpg takes TLS settings as keyword
arguments rather than URL options, so they are translated here and never dropped.
"""

import logging
import shlex
import ssl
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

logger = logging.getLogger(__name__)

_POSTGRES_SCHEMES = {"postgres", "postgresql"}
_SQLITE_SCHEMES = {"sqlite"}
# Keyword arguments of asyncpg.connect (and SQLAlchemy's asyncpg dialect) that may come in the
# URL; any other query option is a server setting (application_name, search_path, ...).
_DRIVER_OPTIONS = {
    "ssl",
    "direct_tls",
    "timeout",
    "command_timeout",
    "statement_cache_size",
    "prepared_statement_cache_size",
    "max_cached_statement_lifetime",
    "max_cacheable_statement_size",
}
_VERIFYING_SSL_MODES = {"verify-ca", "verify-full"}
_SSL_MODES = {"disable", "allow", "prefer", "require", *_VERIFYING_SSL_MODES}


class InvalidDatabaseURL(ValueError):
    """The configured DATABASE_URL cannot be used; the message never includes the URL."""


@dataclass(frozen=True)
class DatabaseTarget:
    """What SQLAlchemy needs to reach the database."""

    url: URL
    connect_args: dict[str, Any] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"


def parse_database_url(raw: str, *, pgbouncer: bool | None = None) -> DatabaseTarget:
    """Normalise a pasted URL; `pgbouncer=None` detects Neon's `-pooler` host."""
    try:
        url = make_url(raw.strip())
    except ArgumentError as exc:
        raise InvalidDatabaseURL("DATABASE_URL is not a valid database URL") from exc
    scheme = url.drivername.split("+", 1)[0]
    if scheme in _SQLITE_SCHEMES:
        return DatabaseTarget(url=url.set(drivername="sqlite+aiosqlite"))
    if scheme in _POSTGRES_SCHEMES:
        return _postgres_target(url, pgbouncer)
    raise InvalidDatabaseURL(f"DATABASE_URL scheme {scheme!r} is not supported")


def _postgres_target(url: URL, pgbouncer: bool | None) -> DatabaseTarget:
    # libpq's TLS options are taken out: asyncpg would send them to the server as settings.
    query = dict(url.query)
    connect_args: dict[str, Any] = {}
    ssl_mode = _single(query.pop("sslmode", None))
    ssl_root_cert = _single(query.pop("sslrootcert", None))
    if _single(query.pop("channel_binding", None)) == "require":
        # asyncpg cannot do SCRAM channel binding; TLS itself stays as sslmode says.
        logger.info("channel_binding is not supported by asyncpg; relying on sslmode=%s", ssl_mode)
    client_cert = _single(query.pop("sslcert", None)), _single(query.pop("sslkey", None))
    if ssl_mode is not None or any(client_cert):
        connect_args["ssl"] = _ssl_argument(ssl_mode or "prefer", ssl_root_cert, client_cert)
    server_settings = _libpq_options(query, connect_args)
    server_settings.update(
        (key, _single(query.pop(key))) for key in list(query) if key not in _DRIVER_OPTIONS
    )
    if pgbouncer is None:
        pgbouncer = "-pooler" in (url.host or "")
    if server_settings:
        connect_args["server_settings"] = server_settings
    if pgbouncer:
        # PgBouncer in transaction mode may hand each transaction another server
        # connection, so named prepared statements must be unique and never cached.
        connect_args.update(
            statement_cache_size=0,
            prepared_statement_cache_size=0,
            prepared_statement_name_func=lambda: f"__asyncpg_{uuid4()}__",
        )
    return DatabaseTarget(
        url=url.set(drivername="postgresql+asyncpg", query=query), connect_args=connect_args
    )


def _single(value: str | tuple[str, ...] | None) -> str | None:
    return value[-1] if isinstance(value, tuple) else value


def _ssl_argument(
    mode: str, root_cert: str | None, client_cert: tuple[str | None, str | None] = (None, None)
) -> str | bool | ssl.SSLContext:
    if mode not in _SSL_MODES:
        raise InvalidDatabaseURL(f"sslmode {mode!r} is not one of {sorted(_SSL_MODES)}")
    if mode == "disable":
        return False
    if mode not in _VERIFYING_SSL_MODES and not any(client_cert):
        return mode
    if mode in _VERIFYING_SSL_MODES:
        # libpq 16's `sslrootcert=system` (and no root cert at all) means the system CA store.
        cafile = None if root_cert in (None, "system") else root_cert
        context = ssl.create_default_context(cafile=cafile)
        context.check_hostname = mode == "verify-full"
    else:  # TLS without checking the server, as libpq's require: only to present a cert
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    cert, key = client_cert
    if cert is not None:
        try:
            context.load_cert_chain(cert, key)
        except (OSError, ssl.SSLError) as exc:
            raise InvalidDatabaseURL(f"sslcert/sslkey cannot be loaded: {exc.strerror}") from exc
    elif key is not None:
        raise InvalidDatabaseURL("sslkey was given without sslcert")
    return context


# libpq connection options asyncpg has no equivalent for: refused, rather than sent to the
# server as settings (which fails at connect time with a less clear message).
_UNSUPPORTED_LIBPQ = {
    "passfile",
    "service",
    "hostaddr",
    "sslpassword",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "sslcompression",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "gssencmode",
    "gssdelegation",
    "krbsrvname",
    "gsslib",
    "requirepeer",
    "require_auth",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "replication",
    "load_balance_hosts",
    "fallback_application_name",
}
_SESSION_ATTRS = {"any", "primary", "standby", "prefer-standby", "read-write", "read-only"}


def _libpq_options(query: dict[str, Any], connect_args: dict[str, Any]) -> dict[str, str | None]:
    """Translate the libpq options asyncpg can honour; refuse the ones it cannot.

    Returns the server settings they amount to (`options=-c key=value`).
    """
    for key in _UNSUPPORTED_LIBPQ & query.keys():
        raise InvalidDatabaseURL(f"{key} (a libpq option) is not supported; remove it")
    timeout = _single(query.pop("connect_timeout", None))
    if timeout is not None:
        try:
            connect_args["timeout"] = float(timeout)
        except ValueError:
            raise InvalidDatabaseURL("connect_timeout must be a number of seconds") from None
        if connect_args["timeout"] <= 0:  # libpq: 0 means wait forever; here, the default
            del connect_args["timeout"]
    attrs = _single(query.pop("target_session_attrs", None))
    if attrs is not None:
        if attrs not in _SESSION_ATTRS:
            raise InvalidDatabaseURL(
                f"target_session_attrs must be one of {sorted(_SESSION_ATTRS)}"
            )
        connect_args["target_session_attrs"] = attrs
    settings: dict[str, str | None] = {}
    for word in shlex.split(_single(query.pop("options", None)) or ""):
        if word.startswith("endpoint="):
            # Neon's workaround for clients without SNI; asyncpg sends SNI.
            continue
        setting = word.removeprefix("-c").removeprefix("--").strip()
        if word == "-c" or not setting:
            continue
        if "=" not in setting:
            raise InvalidDatabaseURL("options holds only -c name=value settings here")
        name, _, value = setting.partition("=")
        settings[name.replace("-", "_")] = value
    return settings
