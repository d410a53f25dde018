"""The MCP server: the task tools, listed and called through the official SDK's low-level
`Server`, whatever the transport (streamable HTTP in `http.py`, stdio in `stdio.py`).

The low-level server rather than `MCPServer`: `MCPServer` derives each tool's input schema from
the Python function's parameters, and these tools take the REST API's own request models
(`arguments.py`) so that both always agree. Who the caller is comes from `tools_for`, which
the transport binds to the verified token: no argument can name another user.
"""

from collections.abc import Callable
from typing import Any

import mcp_types as types
import orjson
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError

from todo_api.assistant.arguments import input_schema, output_schema
from todo_api.assistant.tools import TOOLS, TaskTools, ToolOutcome, ToolSpec

SERVER_NAME = "todo-api"
INSTRUCTIONS = (
    "Tools for the signed-in user's todo list. The user is the one the token names: no tool "
    "takes a user id. Task ids come from list_tasks or from the result of add_task."
)


def tool_definitions() -> list[types.Tool]:
    return [_definition(spec) for spec in TOOLS.values()]


def _definition(spec: ToolSpec) -> types.Tool:
    return types.Tool(
        name=spec.name,
        description=spec.description,
        input_schema=input_schema(spec.arguments),
        output_schema=output_schema(spec.result),
        annotations=types.ToolAnnotations(
            read_only_hint=spec.read_only,
            destructive_hint=spec.destructive,
            idempotent_hint=spec.idempotent,
            open_world_hint=False,
        ),
    )


def build_server(tools_for: Callable[[], TaskTools | None], *, version: str) -> Server[Any]:
    """An MCP server whose tools act for the user `tools_for()` is bound to (None: refused)."""
    definitions = tool_definitions()

    async def list_tools(
        _ctx: Any, _params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=definitions)

    async def call_tool(_ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        if params.name not in TOOLS:
            # Not a tool failure the model could fix with other arguments: a protocol error.
            raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown tool: {params.name}")
        tools = tools_for()
        if tools is None:
            return _result(ToolOutcome(error="Not signed in: no user to act for."))
        return _result(await tools.call(params.name, params.arguments))

    return Server(
        SERVER_NAME,
        version=version,
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def _result(outcome: ToolOutcome) -> types.CallToolResult:
    if outcome.result is None:
        message = outcome.error or "The tool failed."
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=message)], is_error=True
        )
    # The text block repeats the structured result for clients that only read text.
    text = orjson.dumps(outcome.result).decode()
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], structured_content=outcome.result
    )
