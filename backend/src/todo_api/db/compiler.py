"""Compile SQLAlchemy Core statements once per shape, for asyncpg.

A shape is compiled once (found by SQLAlchemy's cache key, or by identity for statements
built once) into PostgreSQL text with `$n` placeholders, the order of its parameters and
the type processors of its parameters and columns. Running it is then only: arguments in
order, processed; rows, processed. Everything here is SQLAlchemy's public API but for the
two uses in `sqlalchemy_seam.py`.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.cache_key import CacheKey
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter

from todo_api.db import sqlalchemy_seam
from todo_api.db.executor import Params, Row

_MAX_COMPILED = 1000  # statement shapes kept compiled before the cache starts over


@dataclass(frozen=True)
class Compiled:
    """One statement shape, compiled for asyncpg."""

    sql: str
    compiled: SQLCompiler
    names: Sequence[str]  # the bind parameters, in the order of the statement's $n
    bind_processors: Sequence[tuple[int, Callable[[Any], Any]]]  # (position, processor)
    # Every parameter is "the caller's value by its name, or the statement's own": values
    # are then taken by name, without SQLAlchemy's per-parameter walk (not so for computed
    # values: callables, expanding IN lists, renamed parameters).
    by_name: bool
    result_processors: Sequence[tuple[str, Callable[[Any], Any]]]

    def bind(
        self,
        binds: Iterable[BindParameter[Any]],
        extracted: Sequence[Any] | None,
        params: Mapping[str, Any],
    ) -> Bound:
        """This shape with one statement's own values: `binds` are that statement's
        parameters, `params` the values it was given with `.params()`."""
        required: set[str] = set()
        named: dict[str, Any] = dict(params)
        for bind in binds:
            if bind.key in params:
                continue
            if bind.required:
                required.add(bind.key)
            elif not bind.unique and bind.callable is None:
                named[bind.key] = bind.value
        # A required parameter gets None here; a call must give it (checked in `arguments`).
        values = self.compiled.construct_params(
            {**named, **dict.fromkeys(required)},
            extracted_parameters=extracted,
            escape_names=False,
        )
        return Bound(self, extracted, named, frozenset(required), values)

    def rows(self, records: list[asyncpg.Record]) -> list[Row]:
        if not self.result_processors:
            return records  # type: ignore[return-value]  # a Record is a read-only mapping
        processors = dict(self.result_processors)
        return [
            {key: processors[key](value) if key in processors else value for key, value in row}
            for row in (record.items() for record in records)
        ]


@dataclass(frozen=True)
class Bound:
    """A compiled shape with one statement's own values."""

    compiled: Compiled
    extracted: Sequence[Any] | None
    named: Mapping[str, Any]  # the statement's own values of its named parameters
    required: frozenset[str]  # parameters the caller must give
    own_values: Mapping[str, Any]  # every parameter's own value, by compiled name

    def arguments(self, given: Params | None) -> list[Any]:
        """The positional arguments: `given` values by name, the statement's own otherwise."""
        shape = self.compiled
        given = given or {}
        if not self.required <= given.keys():
            missing = min(self.required - given.keys())
            raise InvalidRequestError(f"A value is required for bind parameter {missing!r}")
        values: Mapping[str, Any]
        if shape.by_name:
            values = {**self.own_values, **given}
        else:  # SQLAlchemy's way: computed values, renamed parameters
            values = shape.compiled.construct_params(
                {**self.named, **given}, extracted_parameters=self.extracted, escape_names=False
            )
        arguments = [values[name] for name in shape.names]
        for position, process in shape.bind_processors:
            arguments[position] = process(arguments[position])
        return arguments


class StatementCompiler:
    """Compiles each statement shape once for asyncpg."""

    def __init__(self) -> None:
        # JSON parameters serialised as the API serialises responses.
        self.dialect = PGDialect_asyncpg(json_serializer=_json_text)  # type: ignore[no-untyped-call]
        self._cache: dict[Any, Compiled] = {}
        # Statements built once (module constants, one per list shape) are found by identity:
        # hashing a cache key and collecting its values each time cost as much as the rest
        # of running a lookup.
        self._by_identity: dict[int, tuple[weakref.ref[ClauseElement], Bound]] = {}

    def compile(self, statement: Executable) -> Bound:
        assert isinstance(statement, ClauseElement)
        held = self._by_identity.get(id(statement))
        if held is not None and held[0]() is statement:
            return held[1]
        key = sqlalchemy_seam.cache_key(statement)
        if key is None:
            # SQLAlchemy cannot key this shape (ON CONFLICT ... SET, for one): it is compiled
            # once per statement object, so such statements are built once and reused.
            compiled = self._compile(statement, None)
            binds = compiled.compiled.binds
            # `params` holds every parameter, None for those without a value: only the
            # ones with a value are the statement's own (given at build or by .params()).
            own = {
                key: value
                for key, value in compiled.compiled.params.items()
                if value is not None or key not in binds or not binds[key].required
            }
            bound = compiled.bind(binds.values(), None, own)
        else:
            cached = self._cache.get(key.key)
            if cached is None:
                if len(self._cache) >= _MAX_COMPILED:
                    self._cache.clear()
                cached = self._cache[key.key] = self._compile(statement, key)
            bound = cached.bind(key.bindparams, key.bindparams, sqlalchemy_seam.given_params(key))
        if len(self._by_identity) >= _MAX_COMPILED:
            self._by_identity.clear()
        self._by_identity[id(statement)] = (weakref.ref(statement), bound)
        return bound

    def _compile(self, statement: ClauseElement, key: CacheKey | None) -> Compiled:
        # With its cache key, the compiled form takes the values of any statement of its shape.
        compiled = statement.compile(dialect=self.dialect, cache_key=key)
        assert isinstance(compiled, SQLCompiler)
        names = list(compiled.positiontup or ())
        bind_processors = []
        for position, name in enumerate(names):
            bind = compiled.binds[name]
            process = bind.type.dialect_impl(self.dialect).bind_processor(self.dialect)
            if process is not None:
                bind_processors.append((position, process))
        result_processors = []
        for column_key, type_ in sqlalchemy_seam.result_keys(compiled):
            process = type_.dialect_impl(self.dialect).result_processor(self.dialect, None)
            if process is not None:
                result_processors.append((column_key, process))
        return Compiled(
            sql=compiled.string,
            compiled=compiled,
            names=names,
            bind_processors=bind_processors,
            by_name=_by_name(compiled),
            result_processors=result_processors,
        )


def _by_name(compiled: SQLCompiler) -> bool:
    """Whether every parameter is the caller's value under its own name, or the statement's."""
    if compiled.literal_execute_params or compiled.post_compile_params:
        return False
    for name, bind in compiled.binds.items():
        if bind.callable is not None:
            return False
        # Renamed at compile time: only literal values (unique, anonymous) may be, since
        # the caller never names them.
        if name != bind.key and not (bind.unique and not bind.required):
            return False
    return True


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()
