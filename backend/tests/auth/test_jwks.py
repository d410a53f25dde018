"""Keys are cached, rotated in by `kid`, refetched at a limited rate, and survive JWKS outages."""

import asyncio
import socket
import time
from collections.abc import Iterator

import pytest
from httpx import AsyncClient

from tests.auth.jwks_server import JwksServer
from tests.auth.keys import SigningKey, claims_for, new_key
from tests.conftest import serve
from tests.helpers import assert_problem
from todo_api.config import Settings
from todo_api.main import create_app

USER = "rotation-user"
TASKS = f"/api/{USER}/tasks"


def bearer(key: SigningKey, issuer: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key.sign(claims_for(USER, issuer))}"}


async def test_keys_are_fetched_once_and_cached(
    anonymous: AsyncClient, signing_key: SigningKey, jwks_server: JwksServer
) -> None:
    for _ in range(5):
        response = await anonymous.get(TASKS, headers=bearer(signing_key, jwks_server.base_url))
        assert response.status_code == 200

    assert jwks_server.requests == 1


async def test_rotated_key_is_picked_up_by_its_kid(
    anonymous: AsyncClient, signing_key: SigningKey, jwks_server: JwksServer
) -> None:
    issuer = jwks_server.base_url
    assert (await anonymous.get(TASKS, headers=bearer(signing_key, issuer))).status_code == 200
    rotated = new_key("EdDSA")
    jwks_server.keys = [rotated.public_jwk, signing_key.public_jwk]  # old key in its grace period

    assert (await anonymous.get(TASKS, headers=bearer(rotated, issuer))).status_code == 200
    assert (await anonymous.get(TASKS, headers=bearer(signing_key, issuer))).status_code == 200
    assert jwks_server.requests == 2


async def test_unknown_kids_cannot_force_a_fetch_per_request(
    settings: Settings, signing_key: SigningKey, jwks_server: JwksServer
) -> None:
    app = create_app(settings.model_copy(update={"jwks_refresh_interval_seconds": 60}))
    async with serve(app, signed=False) as client:
        issuer = jwks_server.base_url
        assert (await client.get(TASKS, headers=bearer(signing_key, issuer))).status_code == 200
        for _ in range(5):
            forged = bearer(new_key("EdDSA"), issuer)
            assert_problem(await client.get(TASKS, headers=forged), 401)

    assert jwks_server.requests == 1


async def test_warm_cache_outlives_a_jwks_outage(
    settings: Settings, signing_key: SigningKey, jwks_server: JwksServer
) -> None:
    app = create_app(settings.model_copy(update={"jwks_cache_seconds": 0.01}))
    async with serve(app, signed=False) as client:
        issuer = jwks_server.base_url
        assert (await client.get(TASKS, headers=bearer(signing_key, issuer))).status_code == 200
        jwks_server.stop()
        await asyncio.sleep(0.05)  # the cached keys are now past their age

        response = await client.get(TASKS, headers=bearer(signing_key, issuer))

        assert response.status_code == 200
        jwks_server.start()  # the fixture stops it again


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers: a hung JWKS host."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield int(listener.getsockname()[1])


@pytest.mark.parametrize("unreachable", ["refused", "hangs"])
async def test_cold_cache_with_jwks_unreachable_is_a_fast_503(
    settings: Settings, signing_key: SigningKey, silent_port: int, unreachable: str
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        refused_port = closed.getsockname()[1]
    port = refused_port if unreachable == "refused" else silent_port
    base_url = f"http://127.0.0.1:{port}"
    app = create_app(
        settings.model_copy(update={"better_auth_url": base_url, "jwks_timeout_seconds": 0.5})
    )
    async with serve(app, signed=False) as client:
        started = time.monotonic()
        response = await client.get(TASKS, headers=bearer(signing_key, base_url))
        elapsed = time.monotonic() - started

    assert_problem(response, 503)
    assert int(response.headers["retry-after"]) > 0
    assert elapsed < 3
