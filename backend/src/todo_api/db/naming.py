"""The naming convention every table, index and constraint is declared under.

Importing this module applies it to SQLModel's metadata; table modules import it
before declaring tables, so names match on every database and in migrations.
"""

from collections.abc import Callable

from sqlalchemy import Index
from sqlmodel import SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION


# `Index(..., info={ONLY_ON: "postgresql"}).ddl_if(dialect="postgresql")`: an index that
# exists on one database only (the info entry tells migrations, `ddl_if` tells create_all).
ONLY_ON = "only_on"


def include_in_schema(dialect_name: str) -> Callable[..., bool]:
    """Alembic's include_object: leave out indexes declared for another database only."""

    def include(obj: object, _name: str | None, type_: str, *_args: object) -> bool:
        if type_ != "index" or not isinstance(obj, Index):
            return True
        only_on = obj.info.get(ONLY_ON)
        return only_on is None or only_on == dialect_name

    return include
