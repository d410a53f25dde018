"""The application factory: settings in, a ready FastAPI app out."""

import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import RedirectResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.routing import Route

from todo_api.assistant.http import (
    MCP_PATH,
    McpEndpoint,
    build_http_server,
    metadata_router,
    session_manager,
)
from todo_api.auth.gate import AuthGate
from todo_api.auth.rate_limit import RateLimiter
from todo_api.auth.setup import auth_warnings, build_verifier, plan_auth, startup_summary
from todo_api.chat.model import ChatModel
from todo_api.chat.router import router as chat_router
from todo_api.config import Settings, get_settings
from todo_api.db.connect import open_database
from todo_api.errors import Unauthorized, register_exception_handlers
from todo_api.ops.housekeeping import Job, housekeeping
from todo_api.ops.http_protocol import SERVER_STOPPING
from todo_api.ops.metrics import Metrics
from todo_api.sync.hub import ChangeHub
from todo_api.sync.listening import listening
from todo_api.sync.retention import purge_tombstones
from todo_api.sync.router import router as sync_router
from todo_api.tasks.idempotency import purge_expired
from todo_api.tasks.postgres_repository import repository_for
from todo_api.tasks.reminders import catch_up_reminders, send_due_reminders
from todo_api.tasks.router import router as tasks_router
from todo_api.tasks.router import tags_router
from todo_api.web import docs as api_docs
from todo_api.web import health, openapi
from todo_api.web.body_limit import BodySizeLimit
from todo_api.web.request_context import RequestContext
from todo_api.web.security_headers import SecurityHeaders

logger = logging.getLogger(__name__)

DEVELOPMENT_MODE_WARNING = (
    "DEVELOPMENT MODE: no BETTER_AUTH_URL, JWT_JWKS_URL or BETTER_AUTH_SECRET is set, so tokens "
    "are checked against a local secret (%s). Mint one with `todo-api token <user_id>`. "
    "Never run like this in production (set ENVIRONMENT=production to forbid it)."
)


class DependencyOverridesUnsupported(RuntimeError):
    def __init__(self) -> None:
        super().__init__(
            "app.dependency_overrides is not supported: routes take the database and settings "
            "from the app's lifespan, not from dependencies. Build a test app with "
            "create_app(Settings(...)) instead."
        )


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API. Resources are made in the lifespan, so each app (and test) owns its own."""
    settings = settings or get_settings()
    auth_plan = plan_auth(settings)  # refuses unsafe auth configuration before anything starts
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        if app.dependency_overrides:
            # Routes read what they need from the lifespan's state, not from dependencies,
            # so an override would be silently ignored: refuse it instead.
            raise DependencyOverridesUnsupported
        if auth_plan.development:
            logger.warning(DEVELOPMENT_MODE_WARNING, settings.dev_secret_file)
        for warning in auth_warnings(settings, auth_plan):
            logger.warning(warning)
        logger.info(startup_summary(settings, auth_plan))
        database = await open_database(settings)
        metrics.watch_database(database)
        hub = ChangeHub()
        tasks = repository_for(database, hub.wake)
        upkeep: list[Job] = [
            partial(purge_expired, database, settings.idempotency_key_ttl_seconds),
            partial(purge_tombstones, database, settings.tombstone_retention_days),
        ]
        mcp_sessions = session_manager(mcp_server)  # a manager runs once: one per lifespan
        chat_model = _chat_model(settings)
        async with (
            httpx.AsyncClient(follow_redirects=False) as http,
            mcp_sessions.run(),
            listening(settings, database, hub),
            housekeeping(
                upkeep,
                every_seconds=settings.housekeeping_interval_seconds,
                first_after=min(60.0, settings.housekeeping_interval_seconds),
            ),
            housekeeping(
                [partial(send_due_reminders, tasks)],
                every_seconds=settings.reminder_interval_seconds,
                first_after=settings.reminder_interval_seconds,
            ),
        ):
            # Reminders that fell due while no instance ran are sent before serving.
            await catch_up_reminders(tasks)
            try:
                yield {
                    "settings": settings,
                    "database": database,
                    "tasks": tasks,
                    "events": hub,
                    SERVER_STOPPING: hub.close,
                    "verifier": build_verifier(settings, auth_plan, http),
                    "rate_limiter": RateLimiter(
                        redis_url=settings.redis_url,
                        per_user=settings.rate_limit_per_minute,
                        per_address=settings.rate_limit_anonymous_per_minute,
                    ),
                    "mcp": mcp_sessions,
                    "chat_model": chat_model,
                }
            finally:
                hub.close()
                metrics.watch_database(None)
                if chat_model is not None:
                    await chat_model.close()
                await database.close()

    docs = settings.docs_enabled
    app = FastAPI(
        title="todo-api",
        version="0.1.0",
        summary="Each user's tasks, stored in PostgreSQL.",
        lifespan=lifespan,
        docs_url=None,  # served by web.docs, with local assets
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
        # No OpenTelemetry (metrics are Prometheus'): skips a provider lookup per request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        generate_unique_id_function=openapi.operation_id,
    )
    # Added innermost first: CORS, then request context, see every response.
    app.add_middleware(AuthGate, retry_after=settings.db_retry_after)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders, hsts=settings.environment == "production")
    app.add_middleware(
        RequestContext,
        metrics=metrics,
        access_log=settings.access_log,
        retry_after=settings.db_retry_after,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=settings.cors_allow_credentials,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "X-Request-ID",
                "If-Match",
                "If-None-Match",
                "Idempotency-Key",
                # MCP's streamable HTTP transport (/mcp).
                "Mcp-Protocol-Version",
                "Mcp-Session-Id",
                "Mcp-Method",
                "Mcp-Name",
                "Last-Event-ID",
            ],
            expose_headers=[
                "ETag",
                "Idempotent-Replayed",
                "Location",
                "Link",
                "X-Total-Count",
                "X-Request-ID",
                "Retry-After",
                "WWW-Authenticate",
                "RateLimit-Limit",
                "RateLimit-Remaining",
                "RateLimit-Reset",
                "RateLimit-Policy",
                "Mcp-Session-Id",
            ],
            max_age=600,
        )
    register_exception_handlers(app, retry_after=settings.db_retry_after)
    # The sync routes first: /tasks/changes would otherwise match /tasks/{task_id}.
    routers = (sync_router, tasks_router, tags_router, chat_router, health.router, metadata_router)
    for router in routers:
        _add_routes(app, router)
    mcp_server = build_http_server(version=app.version)
    mcp_endpoint = McpEndpoint(retry_after=settings.db_retry_after)
    # Both spellings answered: a redirect from one to the other would cost MCP clients a
    # round trip, and some do not follow it for a POST.
    for path in (MCP_PATH, f"{MCP_PATH}/"):
        app.router.routes.append(
            Route(path, mcp_endpoint, methods=["GET", "POST", "DELETE"], include_in_schema=False)
        )
    openapi.install(app)
    if docs:
        api_docs.install(app, openapi_url="/openapi.json")

    @app.get("/", include_in_schema=False)
    async def front_door() -> RedirectResponse:
        """A person who opens the server's address lands on the docs (or the health check)."""
        return RedirectResponse("/docs" if docs else "/health")

    if settings.metrics_enabled:
        token = settings.metrics_token.get_secret_value() if settings.metrics_token else None

        @app.get("/metrics", include_in_schema=False)
        async def prometheus_metrics(request: Request) -> Response:
            if token is not None and not _bearer_is(request, token):
                raise Unauthorized(
                    "/metrics needs METRICS_TOKEN as a bearer token.", invalid_token=True
                )
            return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def _chat_model(settings: Settings) -> ChatModel | None:
    """The chat's model when one is configured (None: chat answers 503)."""
    if settings.openai_api_key is None:
        return None
    from todo_api.chat.agent import AgentsChatModel  # seconds to import: only when used

    return AgentsChatModel(settings)


def _bearer_is(request: Request, token: str) -> bool:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(credentials.strip(), token)


def _add_routes(app: FastAPI, router: APIRouter) -> None:
    """Register `router`'s routes on the app itself, busiest first.

    `include_router` (FastAPI 0.137+) keeps each router as a node resolved on every
    request, which cost more than a task lookup's query; these routers add nothing to
    their routes at inclusion (no prefix, dependencies or callbacks), so their routes
    are complete as they are.
    """
    app.router.routes.extend(router.routes)
