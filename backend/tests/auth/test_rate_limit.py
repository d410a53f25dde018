"""Per-user and per-address rate limits with 429, Retry-After and RateLimit headers."""

import socket
from uuid import uuid4

import pytest

from tests.conftest import hs256_token, serve
from tests.helpers import assert_problem
from todo_api.config import Settings
from todo_api.main import create_app

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


def limited(settings: Settings, **limits: object) -> Settings:
    return settings.model_copy(update=limits)


async def test_a_user_past_the_limit_gets_429(settings: Settings) -> None:
    async with serve(create_app(limited(settings, rate_limit_per_minute=3))) as client:
        allowed = [await client.get("/api/alice/tasks") for _ in range(3)]
        refused = await client.get("/api/alice/tasks")
        other = await client.get("/api/bob/tasks")

    assert [r.status_code for r in allowed] == [200, 200, 200]
    assert [r.headers["ratelimit-remaining"] for r in allowed] == ["2", "1", "0"]
    assert allowed[0].headers["ratelimit-limit"] == "3"
    assert allowed[0].headers["ratelimit-policy"] == "3;w=60"
    assert_problem(refused, 429)
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["ratelimit-remaining"] == "0"
    assert other.status_code == 200


async def test_requests_without_a_valid_token_are_limited_per_address(
    settings: Settings, database_touches: list[str]
) -> None:
    async with serve(
        create_app(limited(settings, rate_limit_anonymous_per_minute=2)), signed=False
    ) as client:
        database_touches.clear()  # start-up's own work (reminders due) is not the requests'
        first = await client.get("/api/alice/tasks")
        second = await client.get("/api/alice/tasks", headers={"Authorization": "Bearer forged"})
        third = await client.get("/api/alice/tasks")
        valid_but_same_address = await client.get(
            "/api/alice/tasks", headers={"Authorization": f"Bearer {hs256_token('alice')}"}
        )

    assert (first.status_code, second.status_code) == (401, 401)
    assert_problem(third, 429)
    assert_problem(valid_but_same_address, 429)  # this address is refused before its token is read
    assert database_touches == []


async def test_a_token_verified_before_is_not_refused_for_its_address(settings: Settings) -> None:
    token = {"Authorization": f"Bearer {hs256_token('alice')}"}
    async with serve(
        create_app(limited(settings, rate_limit_anonymous_per_minute=2)), signed=False
    ) as client:
        verified = await client.get("/api/alice/tasks", headers=token)
        spent = [await client.get("/api/alice/tasks") for _ in range(3)]
        again = await client.get("/api/alice/tasks", headers=token)

    assert verified.status_code == 200
    assert [r.status_code for r in spent] == [401, 401, 429]
    # The address's anonymous quota guards token verification; this token needs none.
    assert again.status_code == 200


@pytest.mark.skipif(not redis_available(), reason="no Redis on 127.0.0.1:6379")
async def test_redis_shares_the_limit_between_instances(settings: Settings) -> None:
    shared = limited(settings, rate_limit_per_minute=3, redis_url=REDIS_URL)
    user = f"/api/shared-{uuid4().hex}/tasks"
    async with serve(create_app(shared)) as one, serve(create_app(shared)) as two:
        statuses = [
            (await one.get(user)).status_code,
            (await two.get(user)).status_code,
            (await one.get(user)).status_code,
            (await two.get(user)).status_code,
        ]

    assert statuses == [200, 200, 200, 429]


async def test_an_unreachable_redis_lets_requests_through(settings: Settings) -> None:
    broken = limited(settings, rate_limit_per_minute=1, redis_url="redis://127.0.0.1:1/0")
    async with serve(create_app(broken)) as client:
        statuses = [(await client.get("/api/alice/tasks")).status_code for _ in range(3)]

    assert statuses == [200, 200, 200]
