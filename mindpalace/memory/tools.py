"""Read-only memory tools for the planner: each has a description, typed arguments and a JSON schema.

Arguments from a model are data: they are validated against the schema (jsonschema) and then passed to a
typed query; nothing from the model is evaluated. A bad call returns an error result, not an exception.

Tools take an object by any name the tools and skills print: "hat #66", "#66", "object:66" (an id, followed
through merges to the object it lives on as), "red hat", "hat", "hats", "wine_glass", "the hat".
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jsonschema

from mindpalace.memory.reader import ToolResult
from mindpalace.memory.retrieval import FactQuery, MemoryItem, OrderQuery, Query, TimeQuery
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


# ---------------------------------------------------------------------- names
_ID = re.compile(r"(?:^|[#:\s])(\d+)$")  # "hat #66", "#66", "object:66", "66"
_DETERMINERS = frozenset({"the", "a", "an", "my", "your", "our", "his", "her", "their", "its", "this", "that", "some"})


@dataclass(frozen=True)
class ObjectName:
    """What an object's name points at: one object by id, or the objects of a label with some attribute words."""

    object_id: int | None = None
    label: str | None = None  # as the bank stores it: "wine_glass"
    words: tuple[str, ...] = ()  # "red" of "red hat": attribute values to match where memory knows them


def _words(phrase: str) -> list[str]:
    """'The wine_glass.' -> ['wine', 'glass']: lower case, underscores as spaces, no determiners or punctuation."""
    text = re.sub(r"[^\w\s#:]", " ", str(phrase).lower().replace("_", " "))
    return [word for word in text.split() if word not in _DETERMINERS]


def _forms(word: str) -> list[str]:
    """The word, the singulars a plural may come from ('glasses' -> glass, glasse; 'berries' -> berry), then
    its plurals (a label may be stored as 'keys')."""
    forms = [word]
    if word.endswith("ies"):
        forms.append(word[:-3] + "y")
    if word.endswith("es"):
        forms.append(word[:-2])
    if word.endswith("s"):
        forms.append(word[:-1])
    return [*forms, word + "s", word + "es"]


def resolve_id(memory: MemorySystem, object_id: int) -> int:
    """The id an object is known by now: an id folded into another object by a merge leads to that object."""
    return memory.spatial.objects.resolve(object_id) if memory.spatial is not None else object_id


def same_object_ids(memory: MemorySystem, object_id: int) -> list[int]:
    """The object's current id and every id merged into it: events keep the id of their time."""
    target = resolve_id(memory, object_id)
    merged = memory.spatial.objects.aliases if memory.spatial is not None else {}
    return [target, *sorted(i for i in merged if resolve_id(memory, i) == target and i != target)]


def read_object_name(memory: MemorySystem, phrase: str) -> ObjectName:
    """An object's name in any form the tools print, resolved against what the bank knows.

    An id wins over the words around it ("hat #66" is object 66, followed through merges); an id memory does
    not hold falls back to those words. Otherwise the longest known label the phrase ends with, singular or
    plural, with the words before it as attribute values ("red hat" -> label hat, words red).
    """
    words = _words(phrase)
    id_match = _ID.search(" ".join(words))
    if id_match is not None:
        object_id = resolve_id(memory, int(id_match.group(1)))
        if memory.objects.get(object_id) is not None:
            return ObjectName(object_id=object_id)
        words = _words(re.sub(r"(?:object|furniture|part)?\s*[#:]?\s*\d+$", "", " ".join(words)))
    known = {str(row[0]) for row in memory.bank.query("SELECT DISTINCT label FROM objects")}
    for cut in range(len(words)):
        for form in _forms(words[-1]):
            label = "_".join([*words[cut:-1], form])
            if label in known:
                return ObjectName(label=label, words=tuple(words[:cut]))
    return ObjectName(label="_".join(words) or None)


def _records(memory: MemorySystem, name: ObjectName, limit: int) -> list[Any]:
    """The object records a name points at, latest seen first. Attribute words narrow the choice where some
    record of the label has them (perception's colours are approximate: an unknown word narrows nothing)."""
    if name.object_id is not None:
        record = memory.objects.get(name.object_id)
        return [record] if record is not None else []
    if name.label is None:
        return []
    records = memory.objects.find(name.label, limit=max(limit, 50))
    for word in name.words:
        matching = [r for r in records if word in {str(v).lower() for v in r.attributes.values()}]
        records = matching or records
    return records[:limit]


def _room(memory: MemorySystem, phrase: str) -> str:
    """A room as the bank names it ('The Kitchen', 'living_room', 'room #3'); the phrase itself when none matches."""
    wanted = " ".join(_words(phrase.replace("#", " ")))
    return next((room for room in memory.objects.rooms() if " ".join(_words(room)) == wanted), phrase)


def _where_is(memory: MemorySystem, args: dict[str, Any]) -> list[MemoryItem]:
    return [object_item(r) for r in _records(memory, read_object_name(memory, args["object"]), 5)]


def _last_seen(memory: MemorySystem, args: dict[str, Any]) -> list[MemoryItem]:
    records = _records(memory, read_object_name(memory, args["object"]), 20)
    return [object_item(r) for r in sorted(records, key=lambda r: -(r.last_seen or 0.0))[:1]]


def _find_objects(memory: MemorySystem, args: dict[str, Any]) -> list[MemoryItem]:
    room = _room(memory, args["room"]) if args.get("room") else None
    limit = args.get("limit", 10)
    if not args.get("category"):
        return [object_item(r) for r in memory.objects.find(None, room, limit=limit)]
    name = read_object_name(memory, args["category"])
    return [object_item(r) for r in _records(memory, name, 200) if room is None or r.room == room][:limit]


def _recall_events(memory: MemorySystem, args: dict[str, Any]) -> list[MemoryItem]:
    order = args.get("order", "last")
    object_ids: list[int | None] = [None] if args.get("object_id") is None else [*same_object_ids(memory, args["object_id"])]
    if "object" in args:
        name = read_object_name(memory, args["object"])
        if name.object_id is not None:
            object_ids = [*same_object_ids(memory, name.object_id)]
        else:
            # Every object memory holds under that name: perception may have kept two records of one thing.
            rows = memory.bank.query("SELECT id FROM objects WHERE label = ?", (name.label,)) if name.label else []
            object_ids = [int(r[0]) for r in rows]
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
    return [object_item(r) for r in memory.objects.in_room(_room(memory, args["room"]), args.get("limit", 20))]


def _facts_about(memory: MemorySystem, args: dict[str, Any]) -> list[MemoryItem]:
    """Facts are stored under what was said ("red mug", "Alice") or an object's key ("object:12"): each
    name the subject may go by is asked."""
    subject = " ".join(str(args["subject"]).split())
    subjects = [subject, " ".join(_words(subject))]
    name = read_object_name(memory, subject)
    if name.object_id is not None:
        record = memory.objects.get(name.object_id)
        subjects += [f"object:{i}" for i in same_object_ids(memory, name.object_id)]
        if record is not None:
            label = record.label.replace("_", " ")
            subjects += [label, *(f"{str(v).lower()} {label}" for v in record.attributes.values())]
    elif name.label is not None:
        subjects.append(" ".join([*name.words, name.label.replace("_", " ")]))
    queries: list[Query] = [FactQuery(s, args.get("at_time")) for s in dict.fromkeys(s for s in subjects if s)]
    return memory.retrieve(queries, k=args.get("limit", 10))


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


def check_call(name: Any, arguments: Any) -> str:
    """Why a tool call cannot run (an unknown tool, arguments its schema refuses), or "" when it can."""
    tool = TOOLS.get(name) if isinstance(name, str) else None
    if tool is None:
        return f"unknown tool {name!r}; tools: {', '.join(TOOLS)}"
    try:
        jsonschema.validate(arguments, tool.parameters)
    except jsonschema.ValidationError as error:
        return f"bad arguments for {name}: {error.message}"
    return ""


def call_tool(memory: MemorySystem, name: str, arguments: Any) -> ToolResult:
    """Validate and run one tool call; unknown tools and bad arguments come back as errors."""
    error = check_call(name, arguments)
    if error:
        return ToolResult(False, [], error)
    return ToolResult(True, TOOLS[name].run(memory, arguments))
