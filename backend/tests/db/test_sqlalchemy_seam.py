"""The two SQLAlchemy internals the asyncpg executor relies on (`todo_api.db.sqlalchemy_seam`).

These run without a database: the day a SQLAlchemy upgrade changes either, they fail on
SQLite and PostgreSQL runs alike, before any request could.
"""

from sqlalchemy import JSON, bindparam, literal, select
from sqlalchemy.sql.compiler import SQLCompiler

from todo_api.db import sqlalchemy_seam
from todo_api.db.compiler import StatementCompiler
from todo_api.db.types import UTCDateTime
from todo_api.tasks import postgres_statements
from todo_api.tasks.models import TASK_FIELDS, TASKS


def test_statements_of_one_shape_share_a_cache_key_and_keep_their_values() -> None:
    three = select(TASKS.c.id).where(TASKS.c.user_id == "alice", TASKS.c.id == 3)
    four = select(TASKS.c.id).where(TASKS.c.user_id == "bob", TASKS.c.id == 4)
    other_shape = select(TASKS.c.title).where(TASKS.c.id == 3)

    key_three = sqlalchemy_seam.cache_key(three)
    key_four = sqlalchemy_seam.cache_key(four)
    key_other = sqlalchemy_seam.cache_key(other_shape)

    assert key_three is not None
    assert key_four is not None
    assert key_other is not None
    assert key_three.key == key_four.key
    assert key_three.key != key_other.key
    assert [bind.value for bind in key_three.bindparams] == ["alice", 3]
    assert [bind.value for bind in key_four.bindparams] == ["bob", 4]


def test_values_given_with_params_travel_beside_the_cache_key() -> None:
    statement = select(TASKS.c.id).where(TASKS.c.user_id == bindparam("owner"))

    key = sqlalchemy_seam.cache_key(statement.params(owner="alice"))

    assert key is not None
    assert sqlalchemy_seam.given_params(key) == {"owner": "alice"}
    assert key.key == sqlalchemy_seam.cache_key(statement).key  # type: ignore[union-attr]


def _compiled(statement: object) -> SQLCompiler:
    compiled = statement.compile(dialect=StatementCompiler().dialect)  # type: ignore[attr-defined]
    assert isinstance(compiled, SQLCompiler)
    return compiled


def test_result_keys_name_a_selects_columns_with_their_types() -> None:
    keys = sqlalchemy_seam.result_keys(_compiled(select(*TASK_FIELDS, literal(1).label("one"))))

    assert [name for name, _type in keys] == [*(c.key for c in TASK_FIELDS), "one"]
    types = dict(keys)
    assert isinstance(types["created_at"], UTCDateTime)
    assert isinstance(types["tags"], JSON)


def test_result_keys_name_the_columns_a_dml_cte_returns() -> None:
    keys = sqlalchemy_seam.result_keys(_compiled(postgres_statements.CREATE))

    assert [name for name, _type in keys] == [*(c.key for c in TASK_FIELDS), "notified"]


def test_a_compiled_shape_runs_on_public_compiler_attributes() -> None:
    """What `compiler.py` reads of a compiled statement, public as SQLAlchemy documents it."""
    compiled = _compiled(select(TASKS.c.id).where(TASKS.c.user_id == bindparam("owner")))

    assert compiled.positiontup == ["owner"]
    assert compiled.binds["owner"].required
    assert "$1" in compiled.string
    assert compiled.construct_params({"owner": "x"}, escape_names=False) == {"owner": "x"}
