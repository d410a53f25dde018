"""The application factory: settings in, a ready FastAPI app out."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from todo_api import health
from todo_api.body_limit import BodySizeLimit
from todo_api.config import Settings, get_settings
from todo_api.database import build_engine, build_sessionmaker
from todo_api.errors import register_exception_handlers
from todo_api.tasks.router import router as tasks_router

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API. The engine is made in the lifespan, so each app (and test) owns its own."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        engine = build_engine(settings)
        try:
            yield {"engine": engine, "sessionmaker": build_sessionmaker(engine)}
        finally:
            await engine.dispose()

    app = FastAPI(
        title="todo-api",
        version="0.1.0",
        summary="Each user's tasks, stored in PostgreSQL.",
        lifespan=lifespan,
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    register_exception_handlers(app, retry_after=settings.db_retry_after)
    app.include_router(health.router)
    app.include_router(tasks_router)
    return app
