"""The `todo-api` command: `serve` (migrate, then run the API) and `migrate`."""

import argparse
import logging
from collections.abc import Sequence

import uvicorn

from todo_api import migrate
from todo_api.config import get_settings
from todo_api.database_url import InvalidDatabaseURL

logger = logging.getLogger("todo_api")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    settings = get_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        migrate.upgrade(settings)
    except InvalidDatabaseURL as exc:
        parser.error(str(exc))
    logger.info("database schema is up to date")
    if args.command == "serve":
        uvicorn.run(
            "todo_api.main:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level=settings.log_level.lower(),
            access_log=args.access_log,
            proxy_headers=True,
        )
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="todo-api", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="bring the schema up to date, then run the API")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument(
        "--access-log", action=argparse.BooleanOptionalAction, default=True, help="log each request"
    )
    commands.add_parser("migrate", help="bring the database schema up to date and exit")
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
