"""Liveness and readiness probes for load balancers."""

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import literal, select

from todo_api.errors import Problem
from todo_api.web.app_state import database_of
from todo_api.web.openapi import operation_id

router = APIRouter(prefix="/health", tags=["health"], generate_unique_id_function=operation_id)

_READY_TIMEOUT_SECONDS = 3.0


class HealthStatus(BaseModel):
    status: str


@router.get("", response_model=HealthStatus)
async def health() -> dict[str, Any]:
    """The process is up (no database work)."""
    return {"status": "ok"}


@router.get(
    "/ready",
    response_model=HealthStatus,
    responses={503: {"model": Problem, "description": "Database unavailable"}},
)
async def ready(request: Request) -> dict[str, Any]:
    """The database answers a query."""
    # A timeout or connection error becomes the usual 503 problem with Retry-After.
    async with asyncio.timeout(_READY_TIMEOUT_SECONDS):
        await database_of(request).all(select(literal(1)))
    return {"status": "ok"}
