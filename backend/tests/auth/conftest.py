"""Apps that trust both a JWKS (served on 127.0.0.1) and the shared secret."""

from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.auth.jwks_server import JwksServer
from tests.auth.keys import SigningKey, new_key
from tests.conftest import serve
from todo_api.config import Settings


@pytest.fixture
def signing_key() -> SigningKey:
    return new_key("EdDSA")


@pytest.fixture
def jwks_server(signing_key: SigningKey) -> Iterator[JwksServer]:
    server = JwksServer()
    server.keys = [signing_key.public_jwk]
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(settings: Settings, jwks_server: JwksServer) -> Settings:
    """The suite's settings (shared secret) plus this JWKS, as Better Auth would be configured."""
    return settings.model_copy(
        update={"better_auth_url": jwks_server.base_url, "jwks_refresh_interval_seconds": 0}
    )


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """A client that sends only the headers each test gives it."""
    async with serve(app, signed=False) as http:
        yield http
