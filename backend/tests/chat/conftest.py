"""Chat against a scripted local model (`fake_model.py`), on SQLite and PostgreSQL."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any
from uuid import uuid4

import pytest
from httpx import AsyncClient

from tests.chat.fake_model import FakeModel, running
from tests.conftest import make_settings, serve
from todo_api.config import Settings
from todo_api.main import create_app

ChatClient = Callable[..., AbstractAsyncContextManager[AsyncClient]]


@pytest.fixture
async def model() -> AsyncIterator[FakeModel]:
    async with running(FakeModel()) as fake:
        yield fake


@pytest.fixture
def chat_client(settings: Settings, model: FakeModel) -> ChatClient:
    """`async with chat_client(**settings) as client`: the API with chat pointed at `model`
    (the `settings` fixture cleans the database afterwards)."""

    def open_client(**overrides: Any) -> AbstractAsyncContextManager[AsyncClient]:
        values: dict[str, Any] = {
            "openai_api_key": "sk-test",
            "openai_base_url": model.url,
            "chat_model": "fake-model",
            "chat_timeout_seconds": 10,
        }
        return serve(create_app(make_settings(settings.database_url, **(values | overrides))))

    return open_client


@pytest.fixture
async def client(chat_client: ChatClient) -> AsyncIterator[AsyncClient]:
    async with chat_client() as http:
        yield http


@pytest.fixture
def other_user() -> str:
    return f"other-{uuid4().hex}"
