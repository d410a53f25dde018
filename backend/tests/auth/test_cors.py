"""Browsers: only the configured frontend origins get a CORS grant."""

from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient
from pydantic import ValidationError

from tests.conftest import hs256_token, make_settings, serve
from todo_api.config import Settings
from todo_api.main import create_app

FRONTEND = "https://app.example.com"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


@pytest.fixture
async def browser_facing(settings: Settings) -> AsyncIterator[AsyncClient]:
    app = create_app(settings.model_copy(update={"cors_origins": [FRONTEND]}))
    async with serve(app, signed=False) as client:
        yield client


async def test_preflight_from_the_frontend_is_granted(browser_facing: AsyncClient) -> None:
    response = await browser_facing.options(
        "/api/u/tasks", headers={"Origin": FRONTEND, **PREFLIGHT}
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == FRONTEND
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed
    assert "POST" in response.headers["access-control-allow-methods"]


async def test_preflight_from_another_origin_gets_no_grant(browser_facing: AsyncClient) -> None:
    response = await browser_facing.options(
        "/api/u/tasks", headers={"Origin": "https://evil.example.com", **PREFLIGHT}
    )

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_responses_carry_the_grant_only_for_the_frontend(browser_facing: AsyncClient) -> None:
    headers = {"Authorization": f"Bearer {hs256_token('u')}"}

    mine = await browser_facing.get("/api/u/tasks", headers={"Origin": FRONTEND, **headers})
    theirs = await browser_facing.get(
        "/api/u/tasks", headers={"Origin": "https://evil.example.com", **headers}
    )

    assert mine.headers["access-control-allow-origin"] == FRONTEND
    assert "access-control-allow-origin" not in theirs.headers


async def test_browsers_may_send_and_read_the_safe_write_headers(
    browser_facing: AsyncClient,
) -> None:
    preflight = await browser_facing.options(
        "/api/u/tasks/1",
        headers={
            "Origin": FRONTEND,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization, if-match, idempotency-key",
        },
    )
    created = await browser_facing.post(
        "/api/u/tasks",
        json={"title": "t"},
        headers={"Origin": FRONTEND, "Authorization": f"Bearer {hs256_token('u')}"},
    )

    assert preflight.status_code == 200
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert {"if-match", "idempotency-key", "if-none-match"} <= set(allowed.split(", "))
    exposed = created.headers["access-control-expose-headers"].lower().split(", ")
    assert {"etag", "idempotent-replayed", "location"} <= set(exposed)


def test_origins_are_read_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example.com, https://b.example.com")

    assert make_settings("sqlite://").cors_origins == [
        "https://a.example.com",
        "https://b.example.com",
    ]


def test_wildcard_with_credentials_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="cannot be combined"):
        make_settings("sqlite://", cors_origins=["*"], cors_allow_credentials=True)
