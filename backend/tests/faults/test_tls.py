"""A PostgreSQL with TLS on: Neon-style `sslmode=require` really uses TLS; verify-full verifies."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import fetch_value, make_settings, serve
from tests.faults.cluster import Cluster
from tests.faults.conftest import cluster_directory
from todo_api.db import migrate
from todo_api.main import create_app


@pytest.fixture(scope="module")
def tls_cluster() -> Iterator[Cluster]:
    directory = cluster_directory()
    server = Cluster(directory, tls=True)
    server.start()
    migrate.upgrade(make_settings(server.url("?sslmode=require")))
    yield server
    server.stop("immediate")
    shutil.rmtree(directory, ignore_errors=True)


async def uses_tls(database_url: str) -> bool:
    """Whether the app's own pooled connection is encrypted, read from pg_stat_ssl."""
    async with serve(create_app(make_settings(database_url))) as client:
        assert (
            await client.post("/api/tls-user/tasks", json={"title": "secret"})
        ).status_code == 201
        # The app's connection is back in its pool, still open: every other client backend.
        value = await fetch_value(
            database_url,
            "SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
            "WHERE a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()",
        )
    return bool(value)


async def test_neon_style_url_connects_over_tls(tls_cluster: Cluster) -> None:
    url = tls_cluster.url("?sslmode=require&channel_binding=require")

    assert await uses_tls(url)


async def test_verify_full_accepts_the_right_certificate(tls_cluster: Cluster) -> None:
    url = tls_cluster.url(f"?sslmode=verify-full&sslrootcert={tls_cluster.ca_file}")

    assert await uses_tls(url)


async def test_verify_full_refuses_an_untrusted_certificate(
    tls_cluster: Cluster, tmp_path: Path
) -> None:
    # The system CA store does not know this test CA: the connection must fail, not downgrade.
    url = tls_cluster.url("?sslmode=verify-full")
    async with serve(create_app(make_settings(url))) as client:
        response = await client.get("/api/tls-user/tasks")

    assert response.status_code == 503


async def test_disable_does_not_use_tls(tls_cluster: Cluster) -> None:
    assert not await uses_tls(tls_cluster.url("?sslmode=disable"))
