"""Every use of SQLAlchemy's private or undocumented API, in one place.

The asyncpg executor (`compiler.py`) compiles each statement shape once and runs it on
asyncpg directly. SQLAlchemy's public API covers compiling (`compile()`, `positiontup`,
`binds`, `construct_params`) and type processing (`dialect_impl().bind_processor()`), but
not the three things below. Each is tested in `tests/db/test_sqlalchemy_seam.py`, which
fails on SQLite too the day an upgrade changes them; `pyproject.toml` bounds SQLAlchemy
to the minor release these were checked against.
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.cache_key import CacheKey
from sqlalchemy.sql.compiler import SQLCompiler


def cache_key(statement: ClauseElement) -> CacheKey | None:
    """The statement's shape (without its literal values) and those values, in order.

    Why: one compiled form then serves every statement of the same shape, as SQLAlchemy's
    own compiled cache does. Compiling costs more than running a lookup.
    Public replacement: none outside an Engine (`execution_options(compiled_cache=...)`
    needs a SQLAlchemy connection, which the asyncpg path exists to skip).
    """
    return statement._generate_cache_key()


def given_params(key: CacheKey) -> Mapping[str, Any]:
    """The values a statement was given with `.params()` (SQLAlchemy 2.1 keeps them beside
    the cache key, not in its bind parameters).

    Why: such a statement must run with them, as SQLAlchemy's engine runs it.
    Public replacement: none; `Compiled.params` gives them only for the statement compiled.
    """
    return key.params or {}


def result_keys(compiled: SQLCompiler) -> list[tuple[str, Any]]:
    """(key in the row, type) of each column the statement returns, in order.

    Why: the result processors of the returned columns' types, named as the rows name
    them; for SELECT and for DML ... RETURNING alike, with labels resolved.
    Public replacement: `statement.selected_columns` for SELECT only (it does not cover
    RETURNING of a CTE-wrapped DML, nor the labels the compiler gives anonymous columns).
    """
    return [(entry.keyname, entry.type) for entry in compiled._result_columns]
