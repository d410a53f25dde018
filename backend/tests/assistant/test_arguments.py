"""The tools take what the REST API takes: their schemas are derived from its request models."""

from typing import Any

import pytest
from jsonschema.validators import Draft202012Validator  # type: ignore[import-untyped]

from tests.assistant.conftest import USER_ARGUMENTS, argument_names
from todo_api.assistant.server import tool_definitions
from todo_api.tasks.list_query import TaskListQuery
from todo_api.tasks.schemas import TaskCreate, TaskUpdate

SCHEMAS = {tool.name: tool.input_schema for tool in tool_definitions()}


def _keys(schema: Any) -> set[str]:
    if isinstance(schema, dict):
        return set(schema) | {key for value in schema.values() for key in _keys(value)}
    if isinstance(schema, list):
        return {key for value in schema for key in _keys(value)}
    return set()


def test_a_field_of_the_rest_bodies_is_a_field_of_the_tools() -> None:
    # A field added to TaskCreate or TaskUpdate (remind_at, ...) reaches the tools by itself.
    assert SCHEMAS["add_task"]["properties"].keys() == TaskCreate.model_fields.keys()
    assert (
        SCHEMAS["update_task"]["properties"].keys() == {"task_id"} | TaskUpdate.model_fields.keys()
    )
    assert SCHEMAS["list_tasks"]["properties"].keys() == TaskListQuery.model_fields.keys()


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_each_schema_is_closed_valid_and_names_no_user(name: str) -> None:
    schema = SCHEMAS[name]

    Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert not USER_ARGUMENTS & argument_names(schema)
    assert not {"ge", "le", "gt", "lt"} & _keys(schema)  # pydantic's names, not JSON Schema's
    assert "examples" not in schema
