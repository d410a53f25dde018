"""Logging: JSON lines in production, readable lines in development; request id on each."""

import logging
import logging.config
from typing import Any

from todo_api.config import Settings


class DropColourCopy(logging.Filter):
    """uvicorn attaches `color_message`, its line with ANSI colour codes, to its records; a
    JSON formatter would write it as a field of its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("color_message", None)
        return True


def configure_logging(settings: Settings) -> None:
    logging.config.dictConfig(logging_config(settings))


def logging_config(settings: Settings) -> dict[str, Any]:
    if settings.environment == "production":
        formatter: dict[str, Any] = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    else:
        formatter = {"format": "%(asctime)s %(levelname)-7s [%(request_id)s] %(name)s: %(message)s"}
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "default",
        "filters": ["request_id", "no_colour"],
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "todo_api.web.request_context.RequestIdFilter"},
            "no_colour": {"()": "todo_api.ops.logs.DropColourCopy"},
        },
        "formatters": {"default": formatter},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": settings.log_level},
        "loggers": {
            # uvicorn's own lines go through the same handler; its access log is replaced by
            # todo_api.access, which leaves query strings (search words) out.
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
            # The MCP SDK writes an INFO line for every stateless /mcp request ("Terminating
            # session: None"); its warnings and errors still show.
            "mcp": {"level": "WARNING"},
        },
    }
