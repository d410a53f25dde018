"""Bring the schema up to date with the Alembic migrations shipped inside the package."""

from pathlib import Path

from alembic import command
from alembic.config import Config

from todo_api.config import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# pg_advisory_xact_lock key: instances starting together migrate one at a time.
MIGRATION_LOCK_KEY = 0x70D0A91


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["settings"] = settings
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Apply migrations up to `revision`. Blocking: call it before the event loop or in a thread."""
    command.upgrade(alembic_config(settings), revision)


def downgrade(settings: Settings, revision: str) -> None:
    command.downgrade(alembic_config(settings), revision)
