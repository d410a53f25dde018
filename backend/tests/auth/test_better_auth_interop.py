"""Genuine Better Auth tokens (better-auth, pinned, run by Node) against the API's verifier."""

import asyncio
from collections.abc import Iterator

import httpx
import jwt
import pytest
from fastapi import FastAPI

from tests.auth.better_auth_instance import BetterAuthInstance
from tests.conftest import serve
from tests.helpers import assert_problem
from todo_api.config import Settings
from todo_api.main import create_app


def instance(*args: str) -> Iterator[BetterAuthInstance]:
    server = BetterAuthInstance(*args)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def eddsa() -> Iterator[BetterAuthInstance]:
    yield from instance("--alg", "EdDSA")


@pytest.fixture(scope="module")
def foreign() -> Iterator[BetterAuthInstance]:
    yield from instance("--alg", "EdDSA")


def api_trusting(settings: Settings, server: BetterAuthInstance) -> FastAPI:
    """The API configured as the README says: BETTER_AUTH_URL only (no shared secret)."""
    update = {
        "better_auth_url": server.url,
        "better_auth_secret": None,
        "jwks_refresh_interval_seconds": 0,
    }
    return create_app(settings.model_copy(update=update))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_genuine_eddsa_token_reaches_the_users_tasks(
    settings: Settings, eddsa: BetterAuthInstance
) -> None:
    user, _session = eddsa.sign_up()
    assert jwt.get_unverified_header(user.token)["alg"] == "EdDSA"

    async with serve(api_trusting(settings, eddsa), signed=False) as client:
        created = await client.post(
            f"/api/{user.user_id}/tasks", json={"title": "real"}, headers=bearer(user.token)
        )
        listed = await client.get(f"/api/{user.user_id}/tasks", headers=bearer(user.token))

    assert created.status_code == 201, created.text
    assert [task["title"] for task in listed.json()] == ["real"]


async def test_another_users_genuine_token_is_403(
    settings: Settings, eddsa: BetterAuthInstance
) -> None:
    alice, _ = eddsa.sign_up()
    mallory, _ = eddsa.sign_up()

    async with serve(api_trusting(settings, eddsa), signed=False) as client:
        response = await client.get(f"/api/{alice.user_id}/tasks", headers=bearer(mallory.token))

    assert_problem(response, 403)


async def test_token_from_another_better_auth_instance_is_401(
    settings: Settings, eddsa: BetterAuthInstance, foreign: BetterAuthInstance
) -> None:
    stranger, _ = foreign.sign_up()

    async with serve(api_trusting(settings, eddsa), signed=False) as client:
        response = await client.get(
            f"/api/{stranger.user_id}/tasks", headers=bearer(stranger.token)
        )

    assert_problem(response, 401)


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
async def test_other_better_auth_algorithms_are_verified(settings: Settings, alg: str) -> None:
    for server in instance("--alg", alg):
        user, _ = server.sign_up()
        assert jwt.get_unverified_header(user.token)["alg"] == alg
        async with serve(api_trusting(settings, server), signed=False) as client:
            response = await client.get(f"/api/{user.user_id}/tasks", headers=bearer(user.token))
        assert response.status_code == 200, response.text


async def test_genuinely_expired_token_is_401(settings: Settings) -> None:
    for server in instance("--expires", "-5m"):
        user, _ = server.sign_up()
        async with serve(api_trusting(settings, server), signed=False) as client:
            response = await client.get(f"/api/{user.user_id}/tasks", headers=bearer(user.token))
        assert_problem(response, 401)


async def test_key_rotation_just_works(settings: Settings) -> None:
    for server in instance("--rotation", "1"):
        user, session = server.sign_up()
        async with serve(api_trusting(settings, server), signed=False) as client:
            url = f"/api/{user.user_id}/tasks"
            assert (await client.get(url, headers=bearer(user.token))).status_code == 200

            rotated = await _token_from_a_new_key(server, session, old=user.token)
            assert (await client.get(url, headers=bearer(rotated))).status_code == 200
            assert (
                await client.get(url, headers=bearer(user.token))
            ).status_code == 200  # grace period


async def _token_from_a_new_key(
    server: BetterAuthInstance, session: httpx.Client, *, old: str
) -> str:
    old_kid = jwt.get_unverified_header(old)["kid"]
    for _ in range(40):
        await asyncio.sleep(0.1)
        token = server.token(session)
        if jwt.get_unverified_header(token)["kid"] != old_kid:
            return token
    pytest.fail("Better Auth did not rotate its key")


def test_harness_runs_the_pinned_better_auth(eddsa: BetterAuthInstance) -> None:
    assert eddsa.version == "1.7.25"
