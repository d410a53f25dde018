"""Typed access to what the lifespan put in each request's state.

Routes call these rather than declare them as dependencies: FastAPI's dependency solving
cost more per request than the query it served.
"""

from fastapi import Request

from todo_api.config import Settings
from todo_api.db.executor import Database


def settings_of(request: Request) -> Settings:
    settings: Settings = request.state.settings
    return settings


def database_of(request: Request) -> Database:
    database: Database = request.state.database
    return database
