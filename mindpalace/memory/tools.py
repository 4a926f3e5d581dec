"""Read-only memory tools for the planner: each has a description, typed arguments and a JSON schema.

Arguments from a model are data: they are validated against the schema (jsonschema) and then passed to a
typed query; nothing from the model is evaluated. A bad call returns an error result, not an exception.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jsonschema

from mindpalace.memory.reader import ToolResult
from mindpalace.memory.retrieval import FactQuery, MemoryItem, ObjectQuery, OrderQuery, TimeQuery
from mindpalace.memory.system import MemorySystem, change_item, object_item


@dataclass(frozen=True)
class MemoryTool:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON schema of the arguments
    run: Callable[[MemorySystem, dict[str, Any]], list[MemoryItem]]

    def schema(self) -> dict[str, Any]:
        """The OpenAI-style function description."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


def _object_args(extra: dict[str, Any] | None = None, required: tuple[str, ...] = ("object",)) -> dict[str, Any]:
    properties = {
        "object": {"type": "string", "minLength": 1, "maxLength": 60, "description": "an object's name, e.g. 'mug' or 'red mug'"}
    }
    properties.update(extra or {})
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


def _split_object(phrase: str, memory: MemorySystem) -> ObjectQuery:
    """'red mug' -> label mug with colour red, when the bank knows a label the phrase ends with."""
    words = phrase.lower().strip().split()
    known = {label.replace("_", " ") for label in (r[0] for r in memory.bank.query("SELECT DISTINCT label FROM objects"))}
    for cut in range(len(words)):
        label = " ".join(words[cut:])
        if label in known or label.rstrip("s") in known:
            adjectives = words[:cut]
            return ObjectQuery(
                label.rstrip("s") if label not in known else label, attributes=tuple(("color", a) for a in adjectives[:1])
            )
    return ObjectQuery(" ".join(words))


def _where_is(memory: MemorySystem, args: dict[str, Any]) -> list[MemoryItem]:
    return memory.retrieve([_split_object(args["object"], memory)], k=5)


def _last_seen(memory: MemorySystem, args: dict[str, Any]) -> list[MemoryItem]:
    items = memory.retrieve([_split_object(args["object"], memory)], k=20)
    return sorted(items, key=lambda i: -(i.time_s or 0.0))[:1]


def _find_objects(memory: MemorySystem, args: dict[str, Any]) -> list[MemoryItem]:
    records = memory.objects.find(args.get("category"), args.get("room"), limit=args.get("limit", 10))
    return [object_item(r) for r in records]


def _recall_events(memory: MemorySystem, args: dict[str, Any]) -> list[MemoryItem]:
    order = args.get("order", "last")
    object_ids: list[int | None] = [args.get("object_id")]
    if "object" in args:
        # Every object memory holds under that name: perception may have kept two records of one thing.
        query = _split_object(args["object"], memory)
        assert query.label is not None  # _split_object always names a label
        object_ids = [
            int(r[0]) for r in memory.bank.query("SELECT id FROM objects WHERE label = ?", (query.label.replace(" ", "_"),))
        ]
        if not object_ids:
            return []
    if order in ("first", "last", "longest"):
        found = memory.retrieve(
            [OrderQuery(order, args.get("action"), i, args.get("since"), args.get("limit", 5)) for i in object_ids]
        )
        if order == "longest":
            return found
        found.sort(key=lambda item: item.time_s or 0.0, reverse=order == "last")
        return found[:1]
    return memory.retrieve([TimeQuery(args.get("since", -math.inf), args.get("until", math.inf), args.get("limit", 10))])


def _what_changed(memory: MemorySystem, args: dict[str, Any]) -> list[MemoryItem]:
    changes = memory.objects.changes(args.get("since", -math.inf), args.get("until", math.inf), limit=args.get("limit", 10))
    return [change_item(c) for c in changes]


def _describe_room(memory: MemorySystem, args: dict[str, Any]) -> list[MemoryItem]:
    return [object_item(r) for r in memory.objects.in_room(args["room"], args.get("limit", 20))]


def _facts_about(memory: MemorySystem, args: dict[str, Any]) -> list[MemoryItem]:
    return memory.retrieve([FactQuery(args["subject"], args.get("at_time"))], k=args.get("limit", 10))


_TIME = {"type": "number", "description": "seconds since the episode started"}
_LIMIT = {"type": "integer", "minimum": 1, "maximum": 50}

TOOLS: dict[str, MemoryTool] = {
    t.name: t
    for t in (
        MemoryTool(
            "where_is", "Where is an object now, as far as memory knows (room, position, state).", _object_args(), _where_is
        ),
        MemoryTool("last_seen", "When and where an object was last seen.", _object_args(), _last_seen),
        MemoryTool(
            "find_objects",
            "List known objects, optionally of one category and in one room.",
            {
                "type": "object",
                "properties": {
                    "category": {"type": "string", "maxLength": 60},
                    "room": {"type": "string", "maxLength": 60},
                    "limit": _LIMIT,
                },
                "additionalProperties": False,
            },
            _find_objects,
        ),
        MemoryTool(
            "recall_events",
            "Recall what the robot did: the first, last or longest events (of an action or object), or those in a time window.",
            {
                "type": "object",
                "properties": {
                    "order": {"type": "string", "enum": ["first", "last", "longest", "window"]},
                    "action": {"type": "string", "maxLength": 40},
                    "object_id": {"type": "integer", "minimum": 0},
                    "object": {"type": "string", "minLength": 1, "maxLength": 60, "description": "an object's name"},
                    "since": _TIME,
                    "until": _TIME,
                    "limit": _LIMIT,
                },
                "additionalProperties": False,
            },
            _recall_events,
        ),
        MemoryTool(
            "what_changed",
            "Objects that appeared, moved, went missing or changed state in a time window.",
            {"type": "object", "properties": {"since": _TIME, "until": _TIME, "limit": _LIMIT}, "additionalProperties": False},
            _what_changed,
        ),
        MemoryTool(
            "describe_room",
            "The objects memory places in a room.",
            {
                "type": "object",
                "properties": {"room": {"type": "string", "minLength": 1, "maxLength": 60}, "limit": _LIMIT},
                "required": ["room"],
                "additionalProperties": False,
            },
            _describe_room,
        ),
        MemoryTool(
            "facts_about",
            "Facts known about a person or thing (ownership, routines, preferences), as of now or a given time.",
            {
                "type": "object",
                "properties": {"subject": {"type": "string", "minLength": 1, "maxLength": 60}, "at_time": _TIME, "limit": _LIMIT},
                "required": ["subject"],
                "additionalProperties": False,
            },
            _facts_about,
        ),
    )
}


def call_tool(memory: MemorySystem, name: str, arguments: Any) -> ToolResult:
    """Validate and run one tool call; unknown tools and bad arguments come back as errors."""
    tool = TOOLS.get(name) if isinstance(name, str) else None
    if tool is None:
        return ToolResult(False, [], f"unknown tool {name!r}; tools: {', '.join(TOOLS)}")
    try:
        jsonschema.validate(arguments, tool.parameters)
    except jsonschema.ValidationError as error:
        return ToolResult(False, [], f"bad arguments for {name}: {error.message}")
    return ToolResult(True, tool.run(memory, arguments))
