"""Read-only memory tools for the planner: each has a description, typed arguments and a JSON schema.

Arguments from a model are data: they are validated against the schema (jsonschema) and then passed to a
typed query; nothing from the model is evaluated. A bad call returns an error result, not an exception.

Tools take an object by any name the tools and skills print: "hat #66", "#66", "object:66" (an id, followed
through merges to the object it lives on as), "red hat", "hat", "hats", "wine_glass", "the hat".
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jsonschema

from mindpalace.memory.reader import ToolResult
from mindpalace.memory.retrieval import FactQuery, MemoryItem, OrderQuery, Query, TimeQuery
from mindpalace.memory.system import MemorySystem, change_item, event_item, object_item


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


# ---------------------------------------------------------------------- the day's interactions, rooms and times
@dataclass(frozen=True)
class Interaction:
    """One object the robot moved: picked (from where) and put down (onto what), with the rooms and times."""

    object: str  # as the timeline names it: "mug #12"
    source: str  # "table #3", or "" when unknown
    goal: str  # "shelf #5 (in)", or "" when unknown (not put down yet, or a design without a timeline)
    start_s: float
    end_s: float
    source_room: str | None
    goal_room: str | None


def interactions(memory: MemorySystem) -> list[Interaction]:
    """The day's moves in order: each successful pick paired with the next successful place of the held object.

    A design without a timeline (no events) still keeps its objects' change history: each object seen moved is one
    interaction at the time the move was noticed, with no source or goal.
    """
    if memory.config.events:
        rows = memory.bank.query(
            "SELECT * FROM events WHERE action IN ('pick', 'place') AND success = 1 AND actor = 'robot' ORDER BY start_s, id"
        )
        found: list[Interaction] = []
        held: Any = None
        for row in rows:
            arguments = json.loads(row["arguments"])
            if row["action"] == "pick":
                held = (str(arguments.get("object", "something")), str(arguments.get("from", "")), row["start_s"], row["place"])
            elif held is not None:
                goal = f"{arguments.get('receptacle', '')} ({arguments.get('relation', 'on')})"
                found.append(Interaction(held[0], held[1], goal, float(held[2]), float(row["end_s"]), held[3], row["place"]))
                held = None
        if held is not None:
            found.append(Interaction(held[0], held[1], "", float(held[2]), float(held[2]), held[3], None))
        return found
    changes = sorted(memory.objects.changes(-math.inf, math.inf, kinds=("moved",), limit=1000), key=lambda c: c.time_s)
    return [Interaction(f"{c.label.replace('_', ' ')} #{c.object_id}", "", "", c.time_s, c.time_s, None, c.room) for c in changes]


def clock_span(memory: MemorySystem, start_s: float, end_s: float) -> float:
    """Seconds on the world's clock between two memory times (a recorded day's clock runs faster than its time_s)."""
    a, b = memory.clock.at(start_s), memory.clock.at(end_s)
    return b.absolute_s - a.absolute_s if a is not None and b is not None else end_s - start_s


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def _when(memory: MemorySystem, time_s: float) -> str:
    return memory.clock.describe(time_s) or f"{time_s:.0f}s"


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _interaction_item(memory: MemorySystem, index: int, move: Interaction) -> MemoryItem:
    source = f", picked from {move.source}" if move.source else ""
    source += f" in the {move.source_room}" if move.source_room else ""
    goal = f", put {move.goal}" if move.goal else ""
    goal += f" in the {move.goal_room}" if move.goal_room else ""
    when = _when(memory, move.start_s)
    if move.end_s > move.start_s:
        when += f" to {_when(memory, move.end_s)}"
    text = f"{_ordinal(index + 1)} object moved: {move.object}{source}{goal}, {when}"
    return MemoryItem(
        f"interaction:{index + 1}",
        "interaction",
        text,
        move.start_s,
        data={"seconds": clock_span(memory, move.start_s, move.end_s)},
    )


def _matches(memory: MemorySystem, move: Interaction, phrase: str) -> bool:
    """Whether a move's object (or its source or goal) is what `phrase` names: by id, else by label."""
    parts = (move.object, move.source, move.goal.split(" (")[0])
    name = read_object_name(memory, phrase)
    if name.object_id is not None:
        ids = set(same_object_ids(memory, name.object_id))
        return any((found := _ID.search(part)) is not None and int(found.group(1)) in ids for part in parts)
    wanted = (name.label or "").replace("_", " ")
    return bool(wanted) and any(re.sub(r"\s*#\d+$", "", part) == wanted for part in parts)


def _interaction_order(memory: MemorySystem, args: dict[str, Any]) -> list[MemoryItem]:
    moves = interactions(memory)
    indexed = list(enumerate(moves))
    if "position" in args:
        position = int(args["position"])
        index = position - 1 if position > 0 else len(moves) + position
        indexed = [indexed[index]] if 0 <= index < len(moves) else []
    if "relative_to" in args:
        anchors = [i for i, move in indexed if _matches(memory, move, args["relative_to"])]
        offset = int(args.get("offset", 1))
        indexed = [(i + offset, moves[i + offset]) for i in anchors[:1] if 0 <= i + offset < len(moves)]
    if "between" in args:
        first, second = args["between"]
        a = next((i for i, move in indexed if _matches(memory, move, first)), None)
        b = next((i for i, move in indexed if _matches(memory, move, second)), None)
        indexed = [] if a is None or b is None else [(i, moves[i]) for i in range(min(a, b) + 1, max(a, b))]
    return [_interaction_item(memory, i, move) for i, move in indexed]


@dataclass(frozen=True)
class RoomVisit:
    room: str
    start_s: float
    end_s: float


def room_visits(memory: MemorySystem) -> list[RoomVisit]:
    """The rooms the robot was in, in order, from its own enter_room events; the last visit lasts to the last event."""
    rows = memory.bank.query(
        "SELECT action, arguments, place, start_s, end_s FROM events WHERE actor = 'robot' ORDER BY start_s, id"
    )
    if not rows:
        return []
    end = max(float(r["end_s"]) for r in rows)
    entries = [
        (str(json.loads(r["arguments"]).get("room", r["place"])), float(r["start_s"]))
        for r in rows
        if r["action"] == "enter_room"
    ]
    if rows[0]["place"] and (not entries or entries[0][1] > float(rows[0]["start_s"])):
        entries.insert(0, (str(rows[0]["place"]), float(rows[0]["start_s"])))
    return [RoomVisit(room, start, entries[i + 1][1] if i + 1 < len(entries) else end) for i, (room, start) in enumerate(entries)]


def _rooms_visited(memory: MemorySystem, args: dict[str, Any]) -> list[MemoryItem]:
    if not memory.config.events:
        return []  # a design without a timeline cannot tell a room never entered from one it did not note
    visits = room_visits(memory)
    spent: dict[str, float] = {}
    for visit in visits:
        spent[visit.room] = spent.get(visit.room, 0.0) + clock_span(memory, visit.start_s, visit.end_s)
    items = []
    for room, seconds in spent.items():
        first = min(v.start_s for v in visits if v.room == room)
        text = f"the {room}: {_minutes(seconds)} in all, first entered {_when(memory, first)}"
        items.append(MemoryItem(f"room:{room}", "room", text, first, data={"seconds": seconds}))
    order = args.get("order", "first")
    if order in ("most", "least"):
        items.sort(key=lambda item: item.data["seconds"], reverse=order == "most")
    never = [room for room in memory.objects.rooms() + _floor_rooms(memory) if room not in spent]
    items += [MemoryItem(f"room:{room}", "room", f"the {room}: never entered") for room in dict.fromkeys(never)]
    return items


def _floor_rooms(memory: MemorySystem) -> list[str]:
    return [room.name for room in memory.spatial.rooms] if memory.spatial is not None else []


def _at_time(memory: MemorySystem, args: dict[str, Any]) -> list[MemoryItem]:
    """What the robot was doing in the minute HH:MM: the objects it was moving, its events then, the room it was in."""
    hours, minutes = (int(part) for part in args["time"].split(":"))
    start = hours * 3600 + minutes * 60

    def overlaps(t0: float, t1: float) -> bool:
        a, b = memory.clock.at(t0), memory.clock.at(t1)
        return a is not None and b is not None and a.time_of_day_s < start + 60 and b.time_of_day_s >= start

    items = [_interaction_item(memory, i, m) for i, m in enumerate(interactions(memory)) if overlaps(m.start_s, m.end_s)]
    rows = memory.bank.query("SELECT * FROM events WHERE actor = 'robot' AND action != 'enter_room' ORDER BY start_s, id")
    items += [event_item(memory.events.get(int(r["id"]))) for r in rows if overlaps(float(r["start_s"]), float(r["end_s"]))]
    items += [
        MemoryItem(
            f"room:{v.room}", "room", f"in the {v.room} from {_when(memory, v.start_s)} to {_when(memory, v.end_s)}", v.start_s
        )
        for v in room_visits(memory)
        if overlaps(v.start_s, v.end_s)
    ]
    return items


def _durations(memory: MemorySystem, args: dict[str, Any]) -> list[MemoryItem]:
    """The moves ranked by how long each took (pick to place), or the rooms by the time spent in them."""
    order = args.get("order", "longest")
    if args.get("what", "object") == "room":
        return _rooms_visited(memory, {"order": "most" if order == "longest" else "least"})[: args.get("limit", 10)]
    items = [_interaction_item(memory, i, move) for i, move in enumerate(interactions(memory))]
    items.sort(key=lambda item: item.data["seconds"], reverse=order == "longest")
    return [
        MemoryItem(item.key, item.kind, f"{item.text} (took {_minutes(item.data['seconds'])})", item.time_s, data=item.data)
        for item in items[: args.get("limit", 10)]
    ]


def _here(memory: MemorySystem) -> tuple[float, float] | None:
    """Where the robot is, as memory knows it: the place of its latest event with a position (the task's own event)."""
    rows = memory.bank.query("SELECT x, y FROM events WHERE x IS NOT NULL ORDER BY start_s DESC, id DESC LIMIT 1")
    return (float(rows[0]["x"]), float(rows[0]["y"])) if rows else None


def _farthest(memory: MemorySystem, args: dict[str, Any]) -> list[MemoryItem]:
    """Of the objects of a kind (or the things the robot moved, picked from or put on), the farthest from here first."""
    here = _here(memory)
    if here is None:
        return []
    moves = interactions(memory)
    sets = {
        "moved": [m.object for m in moves],
        "picked_from": [m.source for m in moves],
        "placed_on": [m.goal.split(" (")[0] for m in moves],
    }
    names = sets.get(str(args["of"]).strip().lower().replace(" ", "_"))
    if names is None:
        records = _records(memory, read_object_name(memory, args["of"]), 200)
    else:
        records = [r for n in dict.fromkeys(n for n in names if n) for r in _records(memory, read_object_name(memory, n), 1)]
    placed = [
        (math.hypot(r.position[0] - here[0], r.position[1] - here[1]), r)
        for r in {r.id: r for r in records}.values()
        if r.position
    ]
    placed.sort(key=lambda pair: -pair[0])
    return [
        MemoryItem(f"object:{r.id}", "object", f"{r.describe()}; {d:.1f} m from here") for d, r in placed[: args.get("limit", 5)]
    ]


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
            "interaction_order",
            "The objects the robot moved today, in order (1 = first, -1 = last): where each came from and went, with times. "
            "Optionally only the n-th, the one n moves before (offset < 0) or after (offset > 0) an object, or those between two.",
            {
                "type": "object",
                "properties": {
                    "position": {"type": "integer", "minimum": -50, "maximum": 50, "not": {"const": 0}},
                    "relative_to": {"type": "string", "minLength": 1, "maxLength": 60, "description": "an object's name"},
                    "offset": {"type": "integer", "minimum": -50, "maximum": 50, "not": {"const": 0}},
                    "between": {
                        "type": "array",
                        "items": {"type": "string", "minLength": 1, "maxLength": 60},
                        "minItems": 2,
                        "maxItems": 2,
                    },
                },
                "additionalProperties": False,
            },
            _interaction_order,
        ),
        MemoryTool(
            "at_time",
            "What the robot was doing at a time of day (HH:MM): what it was moving, its actions, the room it was in.",
            {
                "type": "object",
                "properties": {"time": {"type": "string", "pattern": "^([01]?[0-9]|2[0-3]):[0-5][0-9]$"}},
                "required": ["time"],
                "additionalProperties": False,
            },
            _at_time,
        ),
        MemoryTool(
            "durations",
            "How long things took: the moved objects by the time from pick to place, or the rooms by the time spent in them.",
            {
                "type": "object",
                "properties": {
                    "what": {"type": "string", "enum": ["object", "room"]},
                    "order": {"type": "string", "enum": ["longest", "shortest"]},
                    "limit": _LIMIT,
                },
                "additionalProperties": False,
            },
            _durations,
        ),
        MemoryTool(
            "rooms_visited",
            "The rooms the robot entered today with the time spent in each (first entered first, or most / least time "
            "first), then the rooms it never entered.",
            {
                "type": "object",
                "properties": {"order": {"type": "string", "enum": ["first", "most", "least"]}},
                "additionalProperties": False,
            },
            _rooms_visited,
        ),
        MemoryTool(
            "farthest",
            "Of the objects of a kind ('mug'), or of those the robot moved / picked from / placed on, the farthest from "
            "where it stands first (straight-line distance).",
            {
                "type": "object",
                "properties": {"of": {"type": "string", "minLength": 1, "maxLength": 60}, "limit": _LIMIT},
                "required": ["of"],
                "additionalProperties": False,
            },
            _farthest,
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


# One validator per tool, its schema checked once: `jsonschema.validate` checks the schema against the metaschema on
# every call, most of a memory query's time.
def _validator(schema: dict[str, Any]) -> Any:
    kind = jsonschema.validators.validator_for(schema)
    kind.check_schema(schema)
    return kind(schema)


_VALIDATORS = {name: _validator(tool.parameters) for name, tool in TOOLS.items()}


def check_call(name: Any, arguments: Any) -> str:
    """Why a tool call cannot run (an unknown tool, arguments its schema refuses), or "" when it can."""
    tool = TOOLS.get(name) if isinstance(name, str) else None
    if tool is None:
        return f"unknown tool {name!r}; tools: {', '.join(TOOLS)}"
    error = jsonschema.exceptions.best_match(_VALIDATORS[name].iter_errors(arguments))  # what jsonschema.validate raises
    if error is not None:
        return f"bad arguments for {name}: {error.message}"
    return ""


def call_tool(memory: MemorySystem, name: str, arguments: Any) -> ToolResult:
    """Validate and run one tool call; unknown tools and bad arguments come back as errors."""
    error = check_call(name, arguments)
    if error:
        return ToolResult(False, [], error)
    return ToolResult(True, TOOLS[name].run(memory, arguments))
