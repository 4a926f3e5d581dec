"""`MemoryReader` over a `MemorySystem` in the same process."""

from __future__ import annotations

from typing import Any

from mindpalace.memory.reader import ToolResult
from mindpalace.memory.system import MemorySystem
from mindpalace.memory.tools import TOOLS, call_tool


class LocalReader:
    """Read-only access to one memory system (the planner's view of it)."""

    def __init__(self, memory: MemorySystem) -> None:
        self._memory = memory

    def tool_schemas(self) -> dict[str, dict[str, Any]]:
        return {name: tool.schema() for name, tool in TOOLS.items()}

    def call_tool(self, name: str, arguments: Any) -> ToolResult:
        return call_tool(self._memory, name, arguments)

    def context(self, task: str, budget_tokens: int) -> str:
        text, _ = self._memory.context(task, budget_tokens)
        return text

    def mentioned_labels(self, text: str) -> list[str]:
        return self._memory.mentioned_labels(text)

    def label_kinds(self) -> dict[str, str]:
        spatial = self._memory.spatial
        if spatial is None:
            return {}
        return {o.label: spatial.scene.kind_of(o) for o in spatial.objects.objects.values()}

    def room_names(self) -> list[str]:
        return [r.name for r in self._memory.spatial.rooms] if self._memory.spatial is not None else []
