"""`MemoryReader` over the memory node's query service: the planner in the agent node asks memory what it would
ask a `LocalReader`, and gets the same answers, over ROS 2."""

from __future__ import annotations

import json
import logging
from typing import Any

from mindpalace.memory.reader import ToolResult
from mindpalace.memory.retrieval import MemoryItem
from mindpalace.ros.messages.mindpalace_msgs import QueryRequest
from mindpalace.ros.transport import Client, TransportError

log = logging.getLogger(__name__)


class RemoteReader:
    """Read-only memory queries through `<namespace>/query`; a query that fails is an error result, never a crash."""

    def __init__(self, client: Client, timeout_s: float = 10.0) -> None:
        self._client = client
        self._timeout_s = timeout_s
        self._schemas: dict[str, dict[str, Any]] | None = None

    def _ask(self, tool: str, arguments: Any) -> tuple[bool, Any, str]:
        try:
            text = json.dumps(arguments)
        except (TypeError, ValueError) as error:
            return False, None, f"arguments are not JSON: {error}"
        try:
            response = self._client.call(QueryRequest(tool, text), timeout_s=self._timeout_s)
        except TransportError as error:
            return False, None, f"the memory node did not answer: {error}"
        if not response.ok:
            return False, None, response.error
        try:
            return True, json.loads(response.result_json), ""
        except ValueError as error:
            return False, None, f"the memory node's answer is not JSON: {error}"

    def tool_schemas(self) -> dict[str, dict[str, Any]]:
        if self._schemas is None:
            ok, value, error = self._ask("tool_schemas", {})
            if not ok:
                raise TransportError(f"cannot read the memory tools from the memory node: {error}")
            self._schemas = value
        return self._schemas

    def call_tool(self, name: str, arguments: Any) -> ToolResult:
        ok, value, error = self._ask(name, arguments)
        if not ok:
            return ToolResult(False, [], error)
        try:
            return ToolResult(True, [MemoryItem(**item) for item in value["items"]])
        except (KeyError, TypeError) as error:
            return ToolResult(False, [], f"the memory node's answer has no items: {error}")

    def context(self, task: str, budget_tokens: int) -> str:
        ok, value, error = self._ask("context", {"task": task, "budget_tokens": budget_tokens})
        if not ok:
            log.warning("no memory context: %s", error)
            return ""
        return str(value)

    def mentioned_labels(self, text: str) -> list[str]:
        ok, value, _ = self._ask("mentioned_labels", {"text": text})
        return list(value) if ok else []

    def label_kinds(self) -> dict[str, str]:
        ok, value, _ = self._ask("label_kinds", {})
        return dict(value) if ok else {}

    def room_names(self) -> list[str]:
        ok, value, _ = self._ask("room_names", {})
        return list(value) if ok else []
