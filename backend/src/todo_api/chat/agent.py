"""The chat model, run by the OpenAI Agents SDK with the task tools; the one module that uses it.

The model is any OpenAI-compatible Chat Completions API (OPENAI_BASE_URL, OPENAI_API_KEY,
CHAT_MODEL). Its tools are the MCP server's own (`assistant.tools`), bound on the server to the
verified user before the model sees them: their schemas have no user, and a `user_id` the model
adds anyway is refused as any unknown argument is. A message's run is bounded: at most
CHAT_MAX_TOOL_CALLS tool calls (later ones are answered with an error), one at a time, and
CHAT_TIMEOUT_SECONDS in all. Tracing is off: conversations never leave for OpenAI's tracing.

`openai-agents` is held to its tested minor (pyproject.toml): it is 0.x. It is imported only
when chat is configured (it takes seconds to import).
"""

import asyncio
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import openai
from agents import (
    Agent,
    AgentsException,
    FunctionTool,
    ModelTimeoutError,
    RunConfig,
    RunErrorHandlerInput,
    RunErrorHandlerResult,
    Runner,
    ToolExecutionConfig,
    set_tracing_disabled,
)
from agents.models.openai_chatcompletions import OpenAIChatCompletionsModel
from agents.tool_context import ToolContext

from todo_api.assistant.arguments import input_schema
from todo_api.assistant.tools import TOOLS, TaskTools, ToolSpec
from todo_api.chat.model import ModelFailed, Reply, Turn
from todo_api.config import Settings

logger = logging.getLogger(__name__)

# A tool result replayed in the history is cut here: a long list need not be re-read in full.
MAX_REPLAYED_RESULT_CHARS = 4000

INSTRUCTIONS = (
    "You are the assistant of a todo app. You manage the signed-in user's tasks with the tools "
    "and answer briefly. The tools act for that user only; never ask for or pass a user id. "
    "Task ids come from list_tasks or add_task: look a task up before changing it when you "
    "are unsure which one the user means. Due dates are ISO 8601 instants; now is {now} (UTC)."
)


class AgentsChatModel:
    """Answers a message of a conversation (a `model.ChatModel`); one per app, closed with it."""

    def __init__(self, settings: Settings) -> None:
        assert settings.openai_api_key is not None
        set_tracing_disabled(True)
        self._client = openai.AsyncOpenAI(
            api_key=settings.openai_api_key.get_secret_value(),
            base_url=settings.openai_base_url,
            timeout=settings.chat_timeout_seconds,
            max_retries=0,  # the user retries: a retried model call could repeat tool calls
        )
        self._model = OpenAIChatCompletionsModel(
            model=settings.chat_model, openai_client=self._client
        )
        self._timeout = settings.chat_timeout_seconds
        self._max_tool_calls = settings.chat_max_tool_calls

    async def close(self) -> None:
        await self._client.close()

    async def reply(self, history: Sequence[Turn], message: str, tools: TaskTools) -> Reply:
        """The model's answer to `message`, after `history`; raises ModelFailed."""
        calls: list[dict[str, Any]] = []
        agent = Agent(
            name="todo assistant",
            instructions=INSTRUCTIONS.format(now=datetime.now(UTC).isoformat(timespec="minutes")),
            tools=[self._tool(spec, tools, calls) for spec in TOOLS.values()]
            if self._max_tool_calls
            else [],
            model=self._model,
        )
        items: list[Any] = [*_replayed(history), {"role": "user", "content": message}]
        try:
            async with asyncio.timeout(self._timeout):
                result = await Runner.run(
                    agent,
                    items,
                    max_turns=self._max_tool_calls + 2,
                    run_config=RunConfig(
                        tracing_disabled=True,
                        tool_not_found_behavior="return_error_to_model",
                        tool_execution=ToolExecutionConfig(max_function_tool_concurrency=1),
                    ),
                    error_handlers={"max_turns": _out_of_turns},
                )
        except (TimeoutError, openai.APITimeoutError, ModelTimeoutError):
            logger.warning("chat model timed out after %d tool calls", len(calls))
            raise ModelFailed(timed_out=True, tool_calls=calls) from None
        except (openai.OpenAIError, AgentsException) as exc:
            logger.warning("chat model failed: %s", _described(exc))
            raise ModelFailed(timed_out=False, tool_calls=calls) from None
        return Reply(text=str(result.final_output or ""), tool_calls=calls)

    def _tool(self, spec: ToolSpec, tools: TaskTools, calls: list[dict[str, Any]]) -> FunctionTool:
        limit = self._max_tool_calls

        async def invoke(_context: ToolContext[Any], raw_arguments: str) -> str:
            if len(calls) >= limit:
                return json.dumps(
                    {"error": f"No more tool calls for this message (at most {limit}); answer now."}
                )
            arguments = _parsed(raw_arguments)
            if isinstance(arguments, dict):
                outcome = await tools.call(spec.name, arguments)
                result = outcome.result or {"error": outcome.error}
            else:
                result = {"error": "Invalid arguments: must be a JSON object."}
            calls.append({"name": spec.name, "arguments": arguments, "result": result})
            return json.dumps(result)

        return FunctionTool(
            name=spec.name,
            description=spec.description,
            params_json_schema=input_schema(spec.arguments),
            on_invoke_tool=invoke,
            strict_json_schema=False,  # strict mode needs every field required: not these
        )


def _out_of_turns(_input: RunErrorHandlerInput[Any]) -> RunErrorHandlerResult:
    return RunErrorHandlerResult(
        final_output="I had to stop: answering this took more steps than I may take for one "
        "message. Please ask again, perhaps in smaller steps.",
        include_in_history=False,
    )


def _parsed(raw_arguments: str) -> Any:
    try:
        return json.loads(raw_arguments or "{}")
    except ValueError:
        return raw_arguments


def _replayed(history: Sequence[Turn]) -> list[dict[str, Any]]:
    """The stored messages as model input: each assistant answer after the tool calls it made
    (their ids are made up: only their pairing matters)."""
    items: list[dict[str, Any]] = []
    for number, turn in enumerate(history):
        for index, call in enumerate(turn.tool_calls):
            call_id = f"call_{number}_{index}"
            arguments = call["arguments"]
            items.append(
                {
                    "type": "function_call",
                    "call_id": call_id,
                    "name": call["name"],
                    "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments),
                }
            )
            output = json.dumps(call["result"])
            if len(output) > MAX_REPLAYED_RESULT_CHARS:
                output = f"{output[:MAX_REPLAYED_RESULT_CHARS]}... (cut)"
            items.append({"type": "function_call_output", "call_id": call_id, "output": output})
        if turn.content:
            items.append({"role": turn.role, "content": turn.content})
    return items


def _described(exc: BaseException) -> str:
    status = getattr(exc, "status_code", None)
    return f"{type(exc).__name__}{f' (HTTP {status})' if status else ''}"
