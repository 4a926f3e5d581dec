"""Task kinds: how a template's targets resolve from a day's ledger, with FindingDory's semantics (benchmark side).

A resolver lists every way its task kind can be asked about a day: each `Instance` fills the template's
slots (the words an instruction needs, e.g. {object} = "second mug") and names the targets that satisfy
it (any one of them for a single goal; all of them, or all in order, for a multi-goal task). A kind the
day cannot support yields nothing (too few interactions, durations too close to call, no unvisited room).

Objects are named by their kind, and by the order they were moved when the day moved several of a kind
("the second mug"); furniture by its kind, or its kind and room when the apartment has several.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mindpalace.benchmarks.findingdory.clock import DayClock, hhmm
from mindpalace.benchmarks.findingdory.ledger import Ledger, Target

ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
FARTHEST_MARGIN_M = 0.5  # the farthest must be this much farther than the next, or the task is not asked
DURATION_MARGIN_S = 2.0  # the longest (shortest) must beat the next by this many simulated seconds ...
DURATION_MARGIN = 0.1  # ... and by this share of its duration


@dataclass(frozen=True)
class Instance:
    slots: dict[str, str]
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class Resolver:
    name: str
    goals: tuple[str, ...]  # the goal kinds its instances fit
    slots: tuple[str, ...]  # the slots its instances fill
    params: dict[str, tuple[Any, ...]]  # parameter -> the values it takes (the first is the default)
    run: Callable[[Ledger, dict[str, Any]], list[Instance]]
    description: str

    def slots_for(self, params: dict[str, Any]) -> tuple[str, ...]:
        """The slots filled with these parameters (an attribute task fills the one attribute it asks about)."""
        return (params["attribute"],) if "attribute" in params else self.slots

    def check(self, params: dict[str, Any]) -> dict[str, Any]:
        """The parameters with defaults filled in; ValueError naming an unknown parameter or value."""
        unknown = sorted(set(params) - set(self.params))
        if unknown:
            raise ValueError(f"kind {self.name!r} takes no parameter {unknown[0]!r}; it takes: {sorted(self.params) or 'none'}")
        full = {name: values[0] for name, values in self.params.items()}
        for name, value in params.items():
            if value not in self.params[name]:
                raise ValueError(f"kind {self.name!r}: {name} must be one of {list(self.params[name])}, got {value!r}")
            full[name] = value
        return full


# ---------------------------------------------------------------------- naming
def object_phrase(ledger: Ledger, object_id: int) -> str:
    """'mug', or 'second mug' when the day moved several mugs (by the order they were moved)."""
    obj = ledger.object(object_id)
    same = [o for o in ledger.moved_objects() if ledger.object(o).category == obj.category]
    if len(same) <= 1 or object_id not in same:
        return obj.label
    return f"{ORDINALS[same.index(object_id)]} {obj.label}"


def furniture_phrase(ledger: Ledger, furniture_id: int) -> str | None:
    """'sofa', 'counter in the kitchen' when there are several counters, or None when neither tells it apart."""
    piece = ledger.piece(furniture_id)
    same = [f for f in ledger.furniture if f.type == piece.type]
    if len(same) == 1:
        return piece.label
    if sum(f.room == piece.room for f in same) == 1:
        return f"{piece.label} in the {piece.room}"
    return None


def _objects(ids: list[int]) -> tuple[Target, ...]:
    return tuple(Target("object", i) for i in ids)


def _furniture(ids: list[int]) -> tuple[Target, ...]:
    return tuple(Target("furniture", i) for i in ids)


def _end(ledger: Ledger, end: str) -> list[int]:
    return ledger.source_furniture() if end == "source" else ledger.goal_furniture()


def _set(ledger: Ledger, what: str) -> tuple[Target, ...]:
    moved = ledger.moved_objects()
    used = ledger.used_furniture()
    sets = {
        "moved_objects": lambda: _objects(moved),
        "unmoved_objects": lambda: _objects([o.id for o in ledger.objects if o.id not in moved]),
        "source_furniture": lambda: _furniture(ledger.source_furniture()),
        "goal_furniture": lambda: _furniture(ledger.goal_furniture()),
        "used_furniture": lambda: _furniture(used),
        "unused_furniture": lambda: _furniture([f.id for f in ledger.furniture if f.id not in used]),
    }
    return sets[what]()


SETS = ("moved_objects", "unmoved_objects", "source_furniture", "goal_furniture", "used_furniture", "unused_furniture")


# ---------------------------------------------------------------------- the kinds
def recall(ledger: Ledger, params: dict[str, Any]) -> list[Instance]:
    """Object recall: go to any object of a kind, or any piece of furniture of a kind, that the robot saw."""
    seen = set(ledger.seen)
    if params["what"] == "object":
        kinds = sorted({o.category for o in ledger.objects if o.id in seen})
        return [
            Instance({"category": kind.replace("_", " ")}, _objects([o.id for o in ledger.objects if o.category == kind]))
            for kind in kinds
        ]
    kinds = sorted({f.type for f in ledger.furniture if f.id in seen or seen & set(f.parts.values())})
    return [
        Instance({"furniture_type": kind.replace("_", " ")}, _furniture([f.id for f in ledger.furniture if f.type == kind]))
        for kind in kinds
    ]


def interaction_set(ledger: Ledger, params: dict[str, Any]) -> list[Instance]:
    """Interaction: any object moved (or not), any furniture picked from, placed on, used (or not)."""
    targets = _set(ledger, params["what"])
    return [Instance({}, targets)] if targets else []


def of_category(ledger: Ledger, params: dict[str, Any]) -> list[Instance]:
    """Conditional interaction: an object of a kind that was moved (or one of a moved kind that was not)."""
    moved = ledger.moved_objects()
    instances = []
    for kind in sorted({ledger.object(o).category for o in moved}):
        chosen = [o.id for o in ledger.objects if o.category == kind and (o.id in moved) == params["moved"]]
        if chosen:
            instances.append(Instance({"category": kind.replace("_", " ")}, _objects(chosen)))
    return instances


def furniture_of_object(ledger: Ledger, params: dict[str, Any]) -> list[Instance]:
    """Conditional interaction: the furniture an object was picked up from (or put on)."""
    return [
        Instance(
            {"object": object_phrase(ledger, i.object)},
            _furniture([(i.source if params["end"] == "source" else i.goal).furniture]),
        )
        for i in ledger.interactions
    ]


def object_of_furniture(ledger: Ledger, params: dict[str, Any]) -> list[Instance]:
    """Conditional interaction: the object(s) picked up from (or put on) a piece of furniture."""
    instances = []
    for furniture in _end(ledger, params["end"]):
        phrase = furniture_phrase(ledger, furniture)
        if phrase is None:
            continue
        objects = [
            i.object for i in ledger.interactions if (i.source if params["end"] == "source" else i.goal).furniture == furniture
        ]
        instances.append(Instance({"furniture": phrase}, _objects(objects)))
    return instances


def furniture_of_type(ledger: Ledger, params: dict[str, Any]) -> list[Instance]:
    """Conditional interaction: a piece of furniture of a kind that something was picked from (put on)."""
    used = _end(ledger, params["end"])
    kinds = sorted({ledger.piece(f).type for f in used})
    return [
        Instance({"furniture_type": kind.replace("_", " ")}, _furniture([f for f in used if ledger.piece(f).type == kind]))
        for kind in kinds
    ]


def attribute(ledger: Ledger, params: dict[str, Any]) -> list[Instance]:
    """Object attributes: a moved object of a colour, a material, a use or a shape."""
    name = params["attribute"]
    moved = ledger.moved_objects()
    values = sorted({ledger.object(o).attribute(name) for o in moved})
    return [
        Instance({name: value}, _objects([o for o in moved if ledger.object(o).attribute(name) == value])) for value in values
    ]


def farthest(ledger: Ledger, params: dict[str, Any]) -> list[Instance]:
    """Spatial relationship: of a set (moved objects, furniture used, ...), the one farthest by path from where the robot stands."""
    candidates = [(ledger.distances.get(t.key, float("inf")), t) for t in _set(ledger, params["what"])]
    candidates = sorted((c for c in candidates if c[0] < float("inf")), key=lambda c: -c[0])
    if len(candidates) < 2 or candidates[0][0] - candidates[1][0] < FARTHEST_MARGIN_M:
        return []
    return [Instance({}, (candidates[0][1],))]


def room_of_object(ledger: Ledger, params: dict[str, Any]) -> list[Instance]:
    """Room visitation: the room where an object was picked up (or put down)."""
    return [
        Instance(
            {"object": object_phrase(ledger, i.object)},
            (Target("room", ledger.piece((i.source if params["end"] == "source" else i.goal).furniture).room),),
        )
        for i in ledger.interactions
    ]


def room_of_nth(ledger: Ledger, params: dict[str, Any]) -> list[Instance]:
    """Room visitation: the room where the n-th object was picked up (or put down)."""
    return [
        Instance(
            {"ordinal": ORDINALS[n]},
            (Target("room", ledger.piece((i.source if params["end"] == "source" else i.goal).furniture).room),),
        )
        for n, i in enumerate(ledger.interactions)
    ]


def unvisited_room(ledger: Ledger, params: dict[str, Any]) -> list[Instance]:
    """Room visitation: a room the robot never entered all day."""
    rooms = ledger.unvisited_rooms()
    return [Instance({}, tuple(Target("room", r) for r in rooms))] if rooms else []


def start_room(ledger: Ledger, params: dict[str, Any]) -> list[Instance]:
    """Room visitation: the room the day started in."""
    return [Instance({}, (Target("room", ledger.start_room),))] if ledger.start_room else []


def nth_object(ledger: Ledger, params: dict[str, Any]) -> list[Instance]:
    """Interaction order: the n-th object moved, or the last one."""
    moved = ledger.moved_objects()
    if params["which"] == "last":
        return [Instance({}, _objects(moved[-1:]))] if len(moved) >= 2 else []
    return [Instance({"ordinal": ORDINALS[n]}, _objects([o])) for n, o in enumerate(moved)] if len(moved) >= 2 else []


def nth_furniture(ledger: Ledger, params: dict[str, Any]) -> list[Instance]:
    """Interaction order: the furniture the n-th object was picked up from (or put on)."""
    if len(ledger.interactions) < 2:
        return []
    return [
        Instance({"ordinal": ORDINALS[n]}, _furniture([(i.source if params["end"] == "source" else i.goal).furniture]))
        for n, i in enumerate(ledger.interactions)
    ]


def relative_object(ledger: Ledger, params: dict[str, Any]) -> list[Instance]:
    """Interaction order: the object moved immediately before or after another."""
    moved = ledger.moved_objects()
    direction = 1 if params["direction"] == "after" else -1
    instances = []
    for index, anchor in enumerate(moved):
        other = index + direction
        if 0 <= other < len(moved):
            instances.append(Instance({"object": object_phrase(ledger, anchor)}, _objects([moved[other]])))
    return instances


def relative_object_n(ledger: Ledger, params: dict[str, Any]) -> list[Instance]:
    """Interaction order: the object moved n interactions (two or more) before or after another."""
    moved = ledger.moved_objects()
    direction = 1 if params["direction"] == "after" else -1
    instances = []
    for index, anchor in enumerate(moved):
        for step in range(2, len(moved)):
            other = index + direction * step
            if 0 <= other < len(moved):
                slots = {"object": object_phrase(ledger, anchor), "n": NUMBERS[step]}
                instances.append(Instance(slots, _objects([moved[other]])))
    return instances


def object_between(ledger: Ledger, params: dict[str, Any]) -> list[Instance]:
    """Interaction order: any object moved after one object and before another."""
    moved = ledger.moved_objects()
    return [
        Instance(
            {"object": object_phrase(ledger, moved[a]), "object_b": object_phrase(ledger, moved[b])}, _objects(moved[a + 1 : b])
        )
        for a in range(len(moved))
        for b in range(a + 2, len(moved))
    ]


def _minutes(clock: DayClock, start_s: float, end_s: float) -> list[str]:
    """The clock minutes ("HH:MM") that lie wholly inside [start_s, end_s] of simulated time."""
    first = int(clock.time_of_day(start_s) // 60) + 1
    last = int(clock.time_of_day(end_s) // 60) - 1
    return [hhmm(m * 60.0) for m in range(first, last + 1) if m * 60 + 60 <= clock.sleep_s]


def at_time(ledger: Ledger, params: dict[str, Any]) -> list[Instance]:
    """Time: what the robot was moving, the furniture it was working at, or the room it was in at HH:MM."""
    if not ledger.clock:
        return []
    clock = DayClock.from_dict(ledger.clock)
    spans: list[tuple[float, float, Target]] = []
    if params["what"] == "object":
        spans = [(i.start_s, i.end_s, Target("object", i.object)) for i in ledger.interactions]
    elif params["what"] == "furniture":
        for i in ledger.interactions:
            spans += [
                (*i.source_span, Target("furniture", i.source.furniture)),
                (*i.goal_span, Target("furniture", i.goal.furniture)),
            ]
    else:
        spans = [(entered, left, Target("room", room)) for room, entered, left in ledger.room_visits]
    return [Instance({"time": minute}, (target,)) for start, end, target in spans for minute in _minutes(clock, start, end)]


def _clear_winner(values: list[tuple[float, Target]], extreme: str) -> list[Instance]:
    ranked = sorted(values, key=lambda v: -v[0] if extreme == "longest" else v[0])
    if len(ranked) < 2:
        return []
    best, runner_up = ranked[0][0], ranked[1][0]
    if abs(best - runner_up) < max(DURATION_MARGIN_S, DURATION_MARGIN * max(best, runner_up)):
        return []
    return [Instance({}, (ranked[0][1],))]


def duration(ledger: Ledger, params: dict[str, Any]) -> list[Instance]:
    """Duration: the object that took longest (shortest) to move, the room the robot spent most (least) time in."""
    if params["what"] == "object":
        values = [(i.duration_s, Target("object", i.object)) for i in ledger.interactions]
    else:
        values = [(seconds, Target("room", room)) for room, seconds in ledger.time_in_room.items()]
    return _clear_winner(values, params["extreme"])


def all_of(ledger: Ledger, params: dict[str, Any]) -> list[Instance]:
    """Unordered revisitation: every member of a set (the objects moved, the furniture used), in any order."""
    targets = _set(ledger, params["what"])
    return [Instance({}, targets)] if len(targets) >= 2 else []


def all_of_category(ledger: Ledger, params: dict[str, Any]) -> list[Instance]:
    """Unordered revisitation: every moved object of a kind (when the day moved several of it)."""
    moved = ledger.moved_objects()
    instances = []
    for kind in sorted({ledger.object(o).category for o in moved}):
        chosen = [o for o in moved if ledger.object(o).category == kind]
        if len(chosen) >= 2:
            instances.append(Instance({"category": kind.replace("_", " ")}, _objects(chosen)))
    return instances


def in_order(ledger: Ledger, params: dict[str, Any]) -> list[Instance]:
    """Ordered revisitation: the objects moved, or the furniture used, in the order of the day (or reversed)."""
    targets = _set(ledger, params["what"])
    if len(targets) < 2:
        return []
    return [Instance({}, tuple(reversed(targets)) if params["reverse"] else targets)]


def _kind(
    name: str,
    run: Callable[[Ledger, dict[str, Any]], list[Instance]],
    goals: tuple[str, ...],
    slots: tuple[str, ...],
    **params: tuple,
) -> Resolver:
    return Resolver(name, goals, slots, dict(params), run, (run.__doc__ or "").strip())


SINGLE = ("single",)
RESOLVERS: dict[str, Resolver] = {
    r.name: r
    for r in (
        _kind("recall_object", recall, SINGLE, ("category",), what=("object",)),
        _kind("recall_furniture", recall, SINGLE, ("furniture_type",), what=("furniture",)),
        _kind("interaction_set", interaction_set, SINGLE, (), what=SETS),
        _kind("object_of_category", of_category, SINGLE, ("category",), moved=(True, False)),
        _kind("furniture_of_object", furniture_of_object, SINGLE, ("object",), end=("source", "goal")),
        _kind("object_of_furniture", object_of_furniture, SINGLE, ("furniture",), end=("source", "goal")),
        _kind("furniture_of_type", furniture_of_type, SINGLE, ("furniture_type",), end=("goal", "source")),
        _kind(
            "attribute",
            attribute,
            SINGLE,
            ("color", "material", "function", "shape"),
            attribute=("color", "material", "function", "shape"),
        ),
        _kind("farthest", farthest, SINGLE, (), what=SETS),
        _kind("room_of_object", room_of_object, SINGLE, ("object",), end=("source", "goal")),
        _kind("room_of_nth", room_of_nth, SINGLE, ("ordinal",), end=("source", "goal")),
        _kind("unvisited_room", unvisited_room, SINGLE, ()),
        _kind("start_room", start_room, SINGLE, ()),
        _kind("nth_object", nth_object, SINGLE, ("ordinal",), which=("nth", "last")),
        _kind("nth_furniture", nth_furniture, SINGLE, ("ordinal",), end=("source", "goal")),
        _kind("relative_object", relative_object, SINGLE, ("object",), direction=("after", "before")),
        _kind("relative_object_n", relative_object_n, SINGLE, ("object", "n"), direction=("after", "before")),
        _kind("object_between", object_between, SINGLE, ("object", "object_b")),
        _kind("at_time", at_time, SINGLE, ("time",), what=("object", "furniture", "room")),
        _kind("duration", duration, SINGLE, (), what=("object", "room"), extreme=("longest", "shortest")),
        _kind("all_of", all_of, ("multi_unordered",), (), what=("moved_objects", "goal_furniture", "source_furniture")),
        _kind("all_of_category", all_of_category, ("multi_unordered",), ("category",)),
        _kind(
            "in_order",
            in_order,
            ("multi_ordered",),
            (),
            what=("moved_objects", "goal_furniture", "source_furniture"),
            reverse=(False, True),
        ),
    )
}
