"""Security headers on every response; docs can be switched off."""

from httpx import AsyncClient

from tests.conftest import serve
from todo_api.config import Settings
from todo_api.main import create_app


async def test_api_responses_carry_the_security_headers(
    client: AsyncClient, tasks_url: str
) -> None:
    for response in (
        await client.get(tasks_url),
        await client.get(f"{tasks_url}/999"),
        await client.get("/health"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "strict-transport-security" not in response.headers  # development


async def test_docs_pages_are_framed_by_nobody_but_keep_their_scripts(client: AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        response = await client.get(page)

        assert response.headers["x-frame-options"] == "DENY"
        # Images from this server only (ReDoc's CDN logo is never fetched); scripts untouched.
        assert response.headers["content-security-policy"] == "img-src 'self' data:"


async def test_production_adds_hsts(settings: Settings) -> None:
    async with serve(
        create_app(settings.model_copy(update={"environment": "production"}))
    ) as client:
        response = await client.get("/health")

    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_docs_can_be_turned_off(settings: Settings) -> None:
    async with serve(create_app(settings.model_copy(update={"docs_enabled": False}))) as client:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert (await client.get(path)).status_code == 404
        assert (await client.get("/api/u/tasks")).status_code == 200
