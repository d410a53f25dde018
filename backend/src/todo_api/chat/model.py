"""What the chat service needs of a model, without importing one (`agent.py` is the one used:
the Agents SDK takes seconds to import, so only a server with chat configured loads it)."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from todo_api.assistant.tools import TaskTools


@dataclass(frozen=True)
class Turn:
    """A stored message, as the model is shown it again."""

    role: Literal["user", "assistant"]
    content: str
    tool_calls: Sequence[dict[str, Any]] = ()


@dataclass
class Reply:
    text: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # name, arguments, result


class ModelFailed(Exception):
    """The model did not answer (`timed_out`: in time); `tool_calls` were made before."""

    def __init__(self, *, timed_out: bool, tool_calls: list[dict[str, Any]]) -> None:
        super().__init__("model timed out" if timed_out else "model failed")
        self.timed_out = timed_out
        self.tool_calls = tool_calls


class ChatModel(Protocol):
    async def reply(self, history: Sequence[Turn], message: str, tools: TaskTools) -> Reply:
        """The answer to `message` after `history`, the tools acting for the tools' user;
        raises ModelFailed."""
        ...

    async def close(self) -> None: ...
