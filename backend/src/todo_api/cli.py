"""The `todo-api` command: `serve` (migrate, then run the API), `migrate`, `token`, `openapi`
and `mcp`."""

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

import uvicorn
from pydantic import ValidationError

from todo_api.assistant.stdio import TOKEN_VARIABLE, TokenRefused, serve_stdio, verified_user
from todo_api.auth.setup import AuthConfigurationError, plan_auth
from todo_api.auth.tokens import CannotMint, mint_token
from todo_api.config import Settings, get_settings
from todo_api.db import migrate
from todo_api.db.diagnose import connection_failure
from todo_api.db.url import InvalidDatabaseURL
from todo_api.ops.logs import configure_logging, logging_config

logger = logging.getLogger("todo_api")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "openapi":
        _write(openapi_document(), args.output)
        return 0
    try:
        settings = get_settings()
    except ValidationError as exc:
        # Name the setting and the problem, never the value (it may be a secret).
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        parser.error(f"invalid configuration: {problems}")
    configure_logging(settings)
    try:
        if args.command == "token":
            print(mint_token(settings, args.user_id, expires_in=args.expires_in))
        elif args.command == "migrate":
            _migrate(settings)
        elif args.command == "mcp":
            return _mcp(settings, args, parser)
        else:
            plan_auth(settings)  # refuse an unsafe configuration before touching the database
            _migrate(settings)
            _serve(settings, args)
    except (InvalidDatabaseURL, AuthConfigurationError, CannotMint) as exc:
        parser.error(str(exc))
    except Exception as exc:
        failure = connection_failure(exc, settings.database_url)
        if failure is None:
            raise
        print(f"todo-api: {failure}", file=sys.stderr)
        return 1
    return 0


def openapi_document() -> str:
    """The app's OpenAPI document as JSON text, the same whatever the environment says.

    The document describes routes, not a deployment, so it is built from settings of its own:
    an unconfigured or production environment must not change it or refuse it, and development
    mode must not leave a secret file behind. The app is never started (nothing connects).
    """
    from todo_api.main import create_app  # here: the other commands need no app (its imports)

    settings = Settings.model_construct(jwt_jwks_url="https://auth.example.invalid/jwks")
    return json.dumps(create_app(settings).openapi(), indent=2, ensure_ascii=False) + "\n"


def _write(text: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        with open(output, "w", encoding="utf-8") as file:
            file.write(text)


def _migrate(settings: Settings) -> None:
    migrate.upgrade(settings)
    logger.info("database schema is up to date")


def _mcp(settings: Settings, args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    token = args.token or os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        parser.error(f"mcp needs a bearer token: --token or {TOKEN_VARIABLE}")
    try:
        # A refused token is said in one line, before any database work.
        asyncio.run(verified_user(settings, token))
        _migrate(settings)
        asyncio.run(serve_stdio(settings, token, version=_version()))
    except TokenRefused as exc:
        print(f"todo-api mcp: {exc}", file=sys.stderr)
        return 1
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> None:
    if args.access_log is not None:
        # Workers build their own settings from the environment: hand the flag on that way.
        os.environ["ACCESS_LOG"] = "true" if args.access_log else "false"
        get_settings.cache_clear()  # one worker runs in this process: it must read it too
    uvicorn.run(
        "todo_api.ops.serving:create_served_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=logging_config(settings),
        access_log=False,  # replaced by todo_api.access (no query strings, request ids)
        # Header size, count and read-time limits (uvicorn has none of its own).
        http="todo_api.ops.http_protocol:LimitedHttpToolsProtocol",
        # X-Forwarded-For is believed only from the proxies the operator lists: otherwise
        # any caller could pick the address its anonymous rate limit is counted against.
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="todo-api", description=__doc__)
    parser.add_argument("--version", action="version", version=f"todo-api {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="bring the schema up to date, then run the API")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="log each request (default: ACCESS_LOG, false)",
    )
    commands.add_parser("migrate", help="bring the database schema up to date and exit")
    token = commands.add_parser(
        "token", help="print a bearer token this server accepts (shared-secret or development mode)"
    )
    token.add_argument("user_id", help="the user the token is for (its `sub`)")
    token.add_argument(
        "--expires-in", type=int, default=3600, help="lifetime in seconds (default 3600)"
    )
    document = commands.add_parser(
        "openapi", help="print the API's OpenAPI document (JSON), as typed clients are made from"
    )
    document.add_argument("--output", help="write it to this file instead of stdout")
    mcp = commands.add_parser(
        "mcp", help="serve the task tools over MCP on stdio, as the user of a bearer token"
    )
    mcp.add_argument(
        "--token",
        help=f"the bearer token (default: ${TOKEN_VARIABLE}; the environment keeps it out of "
        "process listings)",
    )
    return parser


def _version() -> str:
    try:
        return version("todo-api")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


if __name__ == "__main__":
    raise SystemExit(main())
