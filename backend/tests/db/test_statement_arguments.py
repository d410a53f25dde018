"""Statement arguments built by name match what SQLAlchemy's own parameter handling builds."""

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import bindparam, literal, select
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler

from todo_api.db.compiler import StatementCompiler
from todo_api.tasks import postgres_statements, repository
from todo_api.tasks.list_query import TaskListQuery
from todo_api.tasks.models import TASKS

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _sqlalchemy_arguments(
    compiler: StatementCompiler, statement: Executable, params: Any
) -> list[Any]:
    """The reference: SQLAlchemy's own, as its execution context builds positional arguments."""
    assert isinstance(statement, ClauseElement)
    compiled = statement.compile(dialect=compiler.dialect)
    assert isinstance(compiled, SQLCompiler)
    values = compiled.construct_params(params, escape_names=False)
    arguments = []
    for name in compiled.positiontup or ():
        bind_type = compiled.binds[name].type.dialect_impl(compiler.dialect)
        process = bind_type.bind_processor(compiler.dialect)
        arguments.append(process(values[name]) if process else values[name])
    return arguments


def _create_params() -> dict[str, Any]:
    task = {
        "user_id": "alice",
        "title": "Buy milk",
        "description": None,
        "completed": True,
        "priority": "high",
        "tags": ["home", "été"],
        "due_at": NOW,
        "remind_at": NOW,
        "reminded_at": None,
        "completed_at": NOW,
        "recurrence_frequency": "weekly",
        "recurrence_interval": 2,
        "title_sort": "buy milk",
        "search_text": "buy milk\n",
        "created_at": NOW,
        "updated_at": NOW,
        "version": 1,
    }
    return {**{f"new_{key}": value for key, value in task.items()}, "max_tasks": 10}


def _list(query: str) -> tuple[Executable, dict[str, Any]]:
    from starlette.datastructures import QueryParams

    listing = TaskListQuery.from_query(QueryParams(query), owner="alice")
    return listing.statements().page, listing.parameters("alice", NOW)


CASES: dict[str, tuple[Executable, dict[str, Any]]] = {
    "create": (postgres_statements.CREATE, _create_params()),
    "toggle": (postgres_statements.TOGGLE, {"owner": "alice", "task_id": 7, "now": NOW}),
    "get": (repository._GET, {"owner": "alice", "task_id": 7}),
    "list": _list("limit=50"),
    "list-filtered": _list("status=pending&priority=high&tag=home&q=milk&sort=due_date"),
    # Built per request, with a literal value of its own.
    "literal": (
        select(TASKS.c.id, literal(3)).where(TASKS.c.user_id == bindparam("owner")),
        {"owner": "alice"},
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_arguments_match_sqlalchemy(name: str) -> None:
    statement, params = CASES[name]
    compiler = StatementCompiler()

    for _ in range(2):  # compiled, then found again by identity
        bound = compiler.compile(statement)
        assert bound.compiled.by_name  # taken by name, not through SQLAlchemy's own path
        assert bound.arguments(params) == _sqlalchemy_arguments(compiler, statement, params)


def test_statements_of_one_shape_keep_their_own_values() -> None:
    compiler = StatementCompiler()
    three: Executable = select(literal(3), bindparam("x"))
    four: Executable = select(literal(4), bindparam("x"))

    assert compiler.compile(three).arguments({"x": 1}) == [3, 1]
    assert compiler.compile(four).arguments({"x": 1}) == [4, 1]


def test_a_missing_parameter_is_named() -> None:
    with pytest.raises(InvalidRequestError, match="task_id"):
        StatementCompiler().compile(repository._GET).arguments({"owner": "alice"})


def test_parameters_with_escaped_names_are_taken_by_name() -> None:
    statement: Executable = select(bindparam("a.b"), bindparam("plain"))
    compiler = StatementCompiler()

    assert compiler.compile(statement).arguments({"a.b": 1, "plain": 2}) == [1, 2]


def test_a_statement_without_a_cache_key_still_needs_its_parameters() -> None:
    params = _create_params()
    del params["max_tasks"]

    with pytest.raises(InvalidRequestError, match="max_tasks"):
        StatementCompiler().compile(postgres_statements.CREATE).arguments(params)
