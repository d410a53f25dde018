"""Typed access to what the lifespan put in each request's state."""

from typing import Annotated

from fastapi import Depends, Request

from todo_api.config import Settings


async def settings_of(request: Request) -> Settings:
    # async: FastAPI would run a plain def in a worker thread, at a thread hop per request.
    settings: Settings = request.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(settings_of)]
