"""The read-only face of memory: everything the planner may ask of it, and nothing that writes.

The planner is typed against `MemoryReader`, never against the memory system itself. In one process it
gets a `LocalReader` over a `MemorySystem`; a ROS 2 agent node gets one that calls the memory node's
query service. Every answer is plain data (text, JSON-ready items), so both look the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from mindpalace.memory.retrieval import MemoryItem


@dataclass
class ToolResult:
    """One memory tool call's answer: items, or an error that says what was wrong with the call."""

    ok: bool
    items: list[MemoryItem]
    error: str = ""

    def text(self) -> str:
        if not self.ok:
            return f"error: {self.error}"
        return "\n".join(f"- {item.text}" for item in self.items) or "nothing found"


class MemoryReader(Protocol):
    """Read-only memory queries, as the planner sees them."""

    def tool_schemas(self) -> dict[str, dict[str, Any]]:
        """Each memory tool's OpenAI-style function description, by name."""
        ...

    def call_tool(self, name: str, arguments: Any) -> ToolResult:
        """Validate and run one tool call; a bad call is an error result, never an exception."""
        ...

    def context(self, task: str, budget_tokens: int) -> str:
        """What memory holds about a task, within a token budget."""
        ...

    def mentioned_labels(self, text: str) -> list[str]:
        """Object labels memory knows that the text mentions ("the red mug" -> "mug")."""
        ...

    def label_kinds(self) -> dict[str, str]:
        """Each mapped label's kind: "object", "furniture" or "part" (what can be picked, placed on, opened)."""
        ...

    def room_names(self) -> list[str]: ...
