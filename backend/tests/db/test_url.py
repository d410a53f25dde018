"""DATABASE_URL accepts the forms people paste, keeps TLS on, and is safe behind PgBouncer."""

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL, fetch_value, make_settings, requires_postgres, serve
from tests.helpers import assert_problem
from todo_api.db.url import InvalidDatabaseURL, parse_database_url
from todo_api.main import create_app

NEON = "postgresql://alex:AbC123dEf@ep-cool-darkness-123456.us-east-2.aws.neon.tech/dbname"
NEON_POOLER = NEON.replace("-123456.", "-123456-pooler.")


@pytest.mark.parametrize(
    "raw",
    [
        "postgres://u:p@db.example.com:5433/app",
        "postgresql://u:p@db.example.com:5433/app",
        "postgresql+asyncpg://u:p@db.example.com:5433/app",
        "postgresql+psycopg2://u:p@db.example.com:5433/app",
        "  postgresql://u:p@db.example.com:5433/app\n",
    ],
)
def test_postgres_forms_become_asyncpg(raw: str) -> None:
    target = parse_database_url(raw)

    assert target.url.drivername == "postgresql+asyncpg"
    assert (target.url.host, target.url.port, target.url.database) == (
        "db.example.com",
        5433,
        "app",
    )
    assert (target.url.username, target.url.password) == ("u", "p")
    assert target.connect_args == {}


@pytest.mark.parametrize("raw", ["sqlite:///./todo.db", "sqlite+aiosqlite:///./todo.db"])
def test_sqlite_forms_become_aiosqlite(raw: str) -> None:
    target = parse_database_url(raw)

    assert target.is_sqlite
    assert target.url.drivername == "sqlite+aiosqlite"


def test_neon_url_keeps_tls_required() -> None:
    target = parse_database_url(f"{NEON}?sslmode=require&channel_binding=require")

    assert target.connect_args["ssl"] == "require"
    assert "server_settings" not in target.connect_args  # channel_binding is not one
    assert target.url.query == {}


def test_other_query_options_become_server_settings_or_driver_options() -> None:
    target = parse_database_url(f"{NEON}?sslmode=prefer&application_name=todo&command_timeout=9")

    assert target.connect_args["ssl"] == "prefer"
    assert target.connect_args["server_settings"] == {"application_name": "todo"}
    assert target.url.query == {"command_timeout": "9"}


def test_pooler_gets_no_startup_settings_pgbouncer_would_refuse() -> None:
    assert "server_settings" not in parse_database_url(NEON_POOLER).connect_args


@pytest.mark.parametrize(
    ("mode", "hostname_checked"), [("verify-full", True), ("verify-ca", False)]
)
def test_verifying_modes_check_the_certificate(mode: str, hostname_checked: bool) -> None:
    context = parse_database_url(f"{NEON}?sslmode={mode}").connect_args["ssl"]

    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is hostname_checked


def test_sslmode_disable_turns_tls_off() -> None:
    assert parse_database_url(f"{NEON}?sslmode=disable").connect_args["ssl"] is False


def test_neon_pooler_host_disables_prepared_statement_caches() -> None:
    args = parse_database_url(f"{NEON_POOLER}?sslmode=require").connect_args

    assert args["ssl"] == "require"
    assert args["statement_cache_size"] == 0
    assert args["prepared_statement_cache_size"] == 0
    names = {args["prepared_statement_name_func"]() for _ in range(3)}
    assert len(names) == 3  # unique names cannot collide on a shared server connection


def test_pgbouncer_setting_overrides_detection() -> None:
    assert "statement_cache_size" in parse_database_url(NEON, pgbouncer=True).connect_args
    assert (
        "statement_cache_size" not in parse_database_url(NEON_POOLER, pgbouncer=False).connect_args
    )


@pytest.mark.parametrize(
    "raw", ["mysql://u:p@h/db", "not a url", "", "postgresql://h/db?sslmode=bogus"]
)
def test_unusable_urls_are_refused_without_echoing_them(raw: str) -> None:
    with pytest.raises(InvalidDatabaseURL) as excinfo:
        parse_database_url(raw)

    assert "u:p" not in str(excinfo.value)


def postgres_url_as(scheme: str, query: str = "") -> str:
    url = make_url(POSTGRES_URL).set(drivername=scheme).render_as_string(hide_password=False)
    return url + query


async def round_trip(database_url: str) -> int:
    """Create a task through HTTP and read it back; returns the GET status."""
    async with serve(create_app(make_settings(database_url))) as client:
        created = await client.post("/api/url-form-user/tasks", json={"title": "t"})
        if created.status_code != 201:
            assert_problem(created, created.status_code)
            return created.status_code
        fetched = await client.get(created.headers["location"])
        await client.delete(created.headers["location"])
        return fetched.status_code


@requires_postgres
@pytest.mark.parametrize(
    ("scheme", "query"),
    [
        ("postgres", ""),
        ("postgresql", ""),
        ("postgresql+asyncpg", ""),
        ("postgresql", "?sslmode=disable"),
        ("postgresql", "?sslmode=prefer&channel_binding=require"),
        ("postgresql", "?application_name=todo-api-test"),
    ],
)
async def test_url_forms_work_against_real_postgres(scheme: str, query: str) -> None:
    assert await round_trip(postgres_url_as(scheme, query)) == 200


@requires_postgres
async def test_pgbouncer_mode_works_against_real_postgres() -> None:
    assert await round_trip(postgres_url_as("postgresql")) == 200
    settings = make_settings(postgres_url_as("postgresql"), database_pgbouncer=True)
    async with serve(create_app(settings)) as client:
        for _ in range(3):  # statements repeat: nothing cached may collide
            created = await client.post("/api/bouncer-user/tasks", json={"title": "t"})
            assert created.status_code == 201
            assert (await client.get("/api/bouncer-user/tasks")).status_code == 200
            assert (await client.delete(created.headers["location"])).status_code == 204


@requires_postgres
async def test_required_tls_is_used_or_the_connection_fails() -> None:
    """`sslmode=require` never falls back to plain text: without TLS on the server it is a 503."""
    server_tls = await fetch_value(POSTGRES_URL, "SHOW ssl") == "on"

    status = await round_trip(postgres_url_as("postgresql", "?sslmode=require"))

    assert status == (200 if server_tls else 503)


def test_libpq_connect_timeout_is_the_connect_timeout() -> None:
    target = parse_database_url(f"{NEON}?connect_timeout=7&sslmode=require")

    assert target.connect_args["timeout"] == 7.0
    assert "server_settings" not in target.connect_args


def test_libpq_options_become_server_settings() -> None:
    raw = f"{NEON}?options=-c%20statement_timeout%3D5000%20-csearch_path%3Dtodo%20endpoint%3Dep-x"

    target = parse_database_url(raw)

    assert target.connect_args["server_settings"] == {
        "statement_timeout": "5000",
        "search_path": "todo",
    }


def test_target_session_attrs_reach_the_driver() -> None:
    target = parse_database_url(f"{NEON}?target_session_attrs=read-write")

    assert target.connect_args["target_session_attrs"] == "read-write"


@pytest.mark.parametrize(
    "query",
    [
        "passfile=/tmp/x",
        "keepalives=1",
        "connect_timeout=soon",
        "target_session_attrs=whatever",
        "options=statement_timeout",
        "sslkey=/tmp/key.pem",
        "sslcert=/no/such/cert.pem&sslmode=require",
    ],
)
def test_libpq_options_that_cannot_be_honoured_are_refused(query: str) -> None:
    with pytest.raises(InvalidDatabaseURL):
        parse_database_url(f"{NEON}?{query}")


def test_a_client_certificate_is_presented(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)

    target = parse_database_url(f"{NEON}?sslmode=require&sslcert={cert}&sslkey={key}")

    context = target.connect_args["ssl"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_NONE  # require: TLS, the server not checked


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "todo-api client")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "client.pem", directory / "client.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
