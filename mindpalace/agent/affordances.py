"""The skill calls that make sense now (SayCan's affordances), from what the robot itself knows.

A candidate must be valid in the current state: pick only what is within reach with empty hands, place
only when holding something, open only a closed part within reach, navigate only to things memory knows.
The targets offered are those the task or the memory results so far name, so the model chooses among a
handful of grounded calls instead of every object in the house. Likeliest first: that order is the
fallback when the model cannot score.
"""

from __future__ import annotations

import math
import re

import numpy as np

from mindpalace.agent.references import grounded
from mindpalace.agent.runtime import AgentRuntime, display_name
from mindpalace.agent.skills import SkillConfig, skills_for
from mindpalace.memory.spatial.objects import MapObject
from mindpalace.planning.critic import Clause, Critic, MultiStop, stop_due, stops_asked
from mindpalace.planning.parsing import Call

_MENTION = re.compile(r"#(\d+)")
_EVENT = re.compile(
    r"robot (place)\(object=([^,)]+)(?:, receptacle=([^,)]+), relation=(on|in))?\)"
    r"(?: in the ([a-z ]+?))? at"
)
# Where memory's results say the robot picked a thing up from or put it down (interaction_order's "picked from
# table #3", "put shelf #5"; recall_events's "from=table #3", "receptacle=shelf #5").
_SOURCE = re.compile(r"(?:picked (?:up )?from|from=)\s*[a-z _]*#(\d+)")
_GOAL = re.compile(r"(?:\bput|receptacle=)\s*[a-z _]*#(\d+)")
_QUESTION = re.compile(r"^\s*(where|which|what|when|who|how|did|do|is|are)\b|\?\s*$", re.IGNORECASE)


def is_question(task: str) -> bool:
    return bool(_QUESTION.search(task))


def asks_for_a_room(runtime: AgentRuntime, task: str) -> bool:
    """Whether the task speaks of a room it does not name ("the room where you ..."): "room" as a word of its own,
    not inside a room's name ("living room")."""
    text = " ".join(task.lower().replace("_", " ").split())
    for room in runtime.spatial.rooms:
        text = text.replace(room.name.lower().replace("_", " "), " ")
    return bool(re.search(r"\brooms?\b", text))


def mentioned_objects(runtime: AgentRuntime, texts: list[str], task: str) -> list[MapObject]:
    """Objects named by id in memory results (merged ids resolved), then those the task names by label.

    A label memory's results already named by id ("the drawer you opened" -> drawer #13) adds no other thing of that
    label: memory has said which one the task means, and its neighbours would only be distractors.
    """
    objects = runtime.objects()
    found: dict[int, MapObject] = {}
    for text in texts:
        for raw in _MENTION.findall(text):
            resolved = runtime.spatial.objects.resolve(int(raw))
            if resolved in objects:
                found.setdefault(resolved, objects[resolved])
    recalled = {obj.label for obj in found.values()}
    for obj in task_named(runtime, task):
        if obj.label not in recalled:
            found.setdefault(obj.id, obj)
    return list(found.values())


def step_named(runtime: AgentRuntime, texts: list[str], words: str) -> tuple[list[MapObject], set[str]]:
    """What a step of an instruction names, and the labels it names only to say where something is or was.

    Of each label the step names, the records its words single out ("the block in the centre zone"), else those
    memory's results named by id (the drawer the robot last closed), else every record of the label.
    """
    fits, qualifiers = grounded(runtime, words)
    recalled = mentioned_objects(runtime, texts, "")
    named = []
    for obj in task_named(runtime, words):
        if obj.label in fits:
            keep = obj in fits[obj.label]
        elif any(o.label == obj.label for o in recalled):
            keep = obj in recalled
        else:
            keep = True
        if keep:
            named.append(obj)
    return named, qualifiers


def task_named(runtime: AgentRuntime, task: str) -> list[MapObject]:
    """Everything memory knows of a label the task's words name ("the coffee table" -> every coffee table)."""
    words = f" {' '.join(task.lower().replace('_', ' ').replace('?', ' ').replace('.', ' ').split())} "
    return [obj for obj in runtime.objects().values() if f" {obj.label.replace('_', ' ')} " in words]


def part_state(runtime: AgentRuntime, obj: MapObject) -> str:
    """Open or closed: as the robot left it (its own open or close), else as the map sees it (a drawer sticking out)."""
    spatial = runtime.spatial
    own = spatial.scene.states.get(obj.id)
    if own:
        return own
    node = spatial.scene_graph().nodes.get(f"part:{obj.id}", {})
    return str(node.get("state", ""))


def distance_to(runtime: AgentRuntime, obj: MapObject) -> float:
    """Horizontal distance from the base to what the arm must reach: a piece of furniture's nearest edge,
    the centre of anything else (a drawer's box can be larger than the drawer where perception merged two)."""
    x, y = runtime.xy
    if runtime.spatial.scene.kind_of(obj) == "furniture":
        nearest = np.clip([x, y], obj.aabb_min[:2], obj.aabb_max[:2])
        return float(math.hypot(nearest[0] - x, nearest[1] - y))
    return float(math.hypot(obj.center[0] - x, obj.center[1] - y))


_INVERSE = {"open": "close", "close": "open"}
_MANIPULATION = ("pick", "place", "open", "close", "press")


def propose(
    runtime: AgentRuntime,
    texts: list[str],
    task: str,
    can_finish: bool = True,
    last: Call | None = None,
    skill_config: SkillConfig | None = None,
    step: Clause | None = None,
    stopped: list[str] | None = None,
) -> list[Call]:
    """Valid skill calls in the current state, likeliest first; `done` only when the caller allows it.

    Only skills the robot has are offered, and "within reach" is the robot's reach less the skills' margin.
    The call that would undo `last` (the previous successful skill: closing the drawer just opened) is left
    out: right after it, it can never be progress.

    `step` is the step of a multi-step instruction to do now ("press the button" after "close the open drawer"):
    its skill is the only manipulation offered, with what it needs first (a pick before a place, a place to free
    the hand), and what its words name is where things go and which of a kind is meant.

    A visit to several things ("visit every object you moved, in the order you moved them"; `stops_asked`) goes to the
    targets memory's results name (`stop_targets`), in memory's order where the task asks for one, and stops at each:
    on arriving at a target, `checkpoint` while targets remain after it and `done` at the last (`stopped`: the targets
    stopped at so far). `checkpoint` is offered for nothing else: a task of one stop ends with `done`.
    """
    reach = (skill_config or SkillConfig()).stop_distance(runtime.robot)
    available = skills_for(runtime.robot)
    kind_of = runtime.spatial.scene.kind_of
    states = runtime.spatial.scene.states
    mentioned = mentioned_objects(runtime, texts, task)
    nearby = [o for o in runtime.objects().values() if distance_to(runtime, o) <= reach]
    # Where the task says to put things ("to the coffee table"), nothing else is a place to put them down, nor a
    # place to go to with them in hand.
    destinations = {o.id for o in task_named(runtime, task) if kind_of(o) != "object"}
    if step is not None:
        named, qualifiers = step_named(runtime, texts, step.text)
        labels = {o.label for o in named}
        mentioned = named + [o for o in mentioned if o.label not in labels]
        destinations = {o.id for o in named if kind_of(o) in ("furniture", "part") and o.label not in qualifiers} or destinations
    else:
        fits, qualifiers = grounded(runtime, task, clause_only=True)
        if qualifiers:
            # "Go to the glasses you saw on the bed": the bed says which glasses are meant (those memory saw there, when
            # it can tell); it is neither a place to go to nor one to put things down.
            mentioned = [o for o in mentioned if o.label not in qualifiers and (o.label not in fits or o in fits[o.label])]
            destinations = {i for i in destinations if runtime.objects()[i].label not in qualifiers}
    multi = None if is_question(task) else stops_asked(task, known_names(runtime))
    targets = stop_targets(runtime, texts, task, multi) if multi is not None else []
    if multi is not None and targets:
        return _visit_calls(targets, multi, stopped or [], last, can_finish, set(available))
    if is_question(task):
        # A question is answered from memory, not acted on: the answers memory supports, or look for more.
        offered = [
            *(Call("answer", {"text": text}) for text in answers(runtime, texts, task)),
            Call("look_around", {}),
            Call("explore", {}),
        ]
        return [c for c in offered if c.name in available]
    calls: list[Call] = []
    needed: set[str] = set()  # calls that make a wanted one possible (opening the drawer it lies in)
    # A task that only asks to go to a room memory must find ("the room where you ...") is done by going to a room:
    # the things memory names there are its clues, not its destination.
    to_a_room = not Critic.required_skills(task) and asks_for_a_room(runtime, task)
    # What the task or memory names comes first; furniture and parts within reach are offered too, as places to put
    # things down and drawers to open, unless of a label named already (which one is meant is known; its neighbours
    # would be distractors).
    named_labels = {o.label for o in mentioned}
    things = mentioned + [o for o in nearby if o not in mentioned and kind_of(o) != "object" and o.label not in named_labels]
    for obj in [] if to_a_room else things:
        if runtime.held is not None and destinations and obj.id not in destinations:
            continue  # with the thing in hand, the way on is to where the task says it goes (or a room on the way)
        kind, name = kind_of(obj), display_name(obj)
        if obj in nearby:
            enclosure = runtime.enclosed.get(obj.id)
            if enclosure is not None and enclosure in runtime.objects() and states.get(enclosure) != "open":
                # A pick found it inside a closed drawer: opening that drawer (from in front of it) is what helps.
                part = runtime.objects()[enclosure]
                verb = "open" if distance_to(runtime, part) <= reach else "navigate_to"
                calls.append(Call(verb, {"target": display_name(part)}))
                needed.add(calls[-1].key())
            elif kind == "object" and runtime.held is None and states.get(obj.id) != "held":
                calls.append(Call("pick", {"object": name}))
            if kind == "furniture" and runtime.held is not None:
                calls.append(Call("place", {"receptacle": name, "relation": "on"}))
            if kind == "part" and runtime.held is not None and part_state(runtime, obj) == "open":
                calls.append(Call("place", {"receptacle": name, "relation": "in"}))
            if kind == "part":
                calls.append(Call("close" if part_state(runtime, obj) == "open" else "open", {"target": name}))
            if kind == "control" and runtime.held is None:
                calls.append(Call("press", {"target": name}))
        elif obj.id != runtime.held:
            calls.append(Call("navigate_to", {"target": name}))
    rooms = [room.name for room in runtime.spatial.rooms]
    if to_a_room:
        # Where memory's results say it happened ("... in the bedroom at 95s"), if they say; the room it is in may be it.
        recalled = [r for r in rooms if any(re.search(rf"\b{re.escape(r)}\b", text, re.IGNORECASE) for text in texts)]
        rooms = recalled or rooms
    else:
        rooms = [r for r in rooms if r != runtime.room]
    calls += [Call("navigate_to", {"target": room}) for room in rooms]
    calls += [Call("look_around", {}), Call("explore", {})]
    if can_finish:
        # A stop the task asks for ends it; several stops whose targets memory could not name are the model's to count.
        calls += [Call("done", {})] + ([Call("checkpoint", {})] if multi is not None else [])
    if last is not None and last.name in _INVERSE:
        undo = Call(_INVERSE[last.name], dict(last.arguments)).key()
        calls = [c for c in calls if c.key() != undo]
    if step is not None:
        wanted = {step.skill} | ({"pick"} if step.skill == "place" else set())
        if runtime.held is not None and step.skill != "place":
            wanted.add("place")  # the hand must be free for the step
        calls = [c for c in calls if c.name not in _MANIPULATION or c.name in wanted or c.key() in needed]
    calls = [c for c in calls if c.name in available]
    return _unique(calls)


def known_names(runtime: AgentRuntime) -> list[str]:
    """The labels and room names memory knows: words that name a thing, not the grammar of an instruction."""
    return [*{o.label for o in runtime.objects().values()}, *(room.name for room in runtime.spatial.rooms)]


def stop_targets(runtime: AgentRuntime, texts: list[str], task: str, multi: MultiStop) -> list[str]:
    """The things a visit to several asks for, as memory's results name them, in their order (reversed where asked).

    Of the kind the task asks for: rooms memory says the robot entered; furniture memory says it picked things up from
    (`role` "source") or put them down on ("goal"), else either; objects (of the labels the task names, if it names
    any). Where the task's nouns say no kind ("each mug you moved"), the kind of the labels it names. Where the task
    lists its destinations ("the mug, then the kitchen"), each in the task's order: a room, or the record of the label
    that memory's results named (else the nearest one).
    """
    if multi.listed:
        return _listed_targets(runtime, texts, task)
    if multi.kind == "room":
        rooms = [room.name for room in runtime.spatial.rooms]
        lines = [line for text in texts for line in text.splitlines() if "never entered" not in line]
        mentions = []  # (line, position, room): memory's order
        for index, line in enumerate(lines):
            for room in rooms:
                if match := re.search(rf"\b{re.escape(room)}\b", line, re.IGNORECASE):
                    mentions.append((index, match.start(), room))
        ordered = list(dict.fromkeys(room for _, _, room in sorted(mentions)))
        return ordered[::-1] if multi.order == "reverse" else ordered
    kind_of = runtime.spatial.scene.kind_of
    named = [o for o in task_named(runtime, task) if kind_of(o) != "part"]
    kind = multi.kind or (kind_of(named[0]) if named else "object")
    labels = {o.label for o in named if kind_of(o) == kind}
    pattern = {"source": _SOURCE, "goal": _GOAL}.get(multi.role) if kind == "furniture" else None
    objects = runtime.objects()
    resolve = runtime.spatial.objects.resolve
    found: dict[int, MapObject] = {}
    for text in texts:
        for raw in (pattern or _MENTION).findall(text):
            obj = objects.get(resolve(int(raw)))
            if obj is not None and kind == "furniture" and kind_of(obj) == "part":
                obj = objects.get(runtime.furniture_of(obj.id) or obj.id)  # from a drawer: from its piece of furniture
            if obj is not None and kind_of(obj) == kind and (not labels or obj.label in labels):
                found.setdefault(obj.id, obj)
    ordered = [display_name(obj) for obj in found.values()]
    return ordered[::-1] if multi.order == "reverse" else ordered


def _listed_targets(runtime: AgentRuntime, texts: list[str], task: str) -> list[str]:
    words = f" {' '.join(re.findall(r'[a-z0-9]+', task.lower().replace('_', ' ')))} "
    recalled = mentioned_objects(runtime, texts, "")
    places: list[tuple[int, str]] = []
    for room in runtime.spatial.rooms:
        if (at := words.find(f" {room.name.lower().replace('_', ' ')} ")) >= 0:
            places.append((at, room.name))
    by_label: dict[str, list[MapObject]] = {}
    for obj in runtime.objects().values():  # what the words name, commas and all ("the vase, then the bottle")
        if f" {obj.label.replace('_', ' ')} " in words:
            by_label.setdefault(obj.label, []).append(obj)
    for label, records in by_label.items():
        chosen = [o for o in records if o in recalled] or sorted(records, key=lambda o: distance_to(runtime, o))
        places.append((words.find(f" {label.replace('_', ' ')} "), display_name(chosen[0])))
    return [name for _, name in sorted(places)]


def _visit_calls(
    targets: list[str], multi: MultiStop, stopped: list[str], last: Call | None, can_finish: bool, available: set[str]
) -> list[Call]:
    """The calls of a visit to several targets: the stop due on arriving at one (alone: leaving without it would waste
    the visit), else going to the targets not stopped at yet (only the next one, where the task gives an order)."""
    arrived = str(last.arguments.get("target")) if last is not None and last.name == "navigate_to" else None
    due = stop_due(targets, stopped, arrived, multi.order) if can_finish else None
    if due is not None:
        return [Call(due, {})]
    remaining = [t for t in targets if t not in stopped]
    following = remaining if multi.order == "any" else remaining[:1]
    calls = [Call("navigate_to", {"target": t}) for t in following if t != arrived]
    calls += [Call("look_around", {}), Call("explore", {})]
    return [c for c in calls if c.name in available]


def answers(runtime: AgentRuntime, texts: list[str], task: str) -> list[str]:
    """Answers grounded in memory about what the task names: the robot's own events, and where memory places things."""
    sentences = []
    for text in texts:
        for verb, obj, receptacle, relation, room in _EVENT.findall(text):
            where = f" in the {room}" if room else ""
            # Where something is, or was put: what the robot put down says so; a pick says where it was before.
            if verb == "place":
                sentences.append(f"I put the {obj} {relation} the {receptacle}{where}.")
    graph = runtime.spatial.scene_graph()
    objects = runtime.objects()
    for obj in mentioned_objects(runtime, texts, task):
        node = f"object:{obj.id}"
        # The graph's edges run holder -> object ("on" / "in").
        supports = (
            [
                (data.get("relation"), holder)
                for holder, _, data in graph.in_edges(node, data=True)
                if data.get("relation") in ("on", "in")
            ]
            if node in graph
            else []
        )
        room = runtime.room_at(float(obj.center[0]), float(obj.center[1]))
        where = f" in the {room}" if room else ""
        for relation, holder in supports[:1]:
            support = objects.get(int(str(holder).split(":")[-1]))
            if support is not None:
                sentences.append(f"The {display_name(obj)} is {relation} the {display_name(support)}{where}.")
        if not supports and room:
            sentences.append(f"The {display_name(obj)} is in the {room}.")
    labels = {o.label.replace("_", " ") for o in mentioned_objects(runtime, [], task)}
    relevant = [s for s in sentences if any(f"the {label} #" in s for label in labels)] or sentences
    return list(dict.fromkeys(relevant))[:8]


def _unique(calls: list[Call]) -> list[Call]:
    seen: set[str] = set()
    result = []
    for call in calls:
        if call.key() not in seen:
            seen.add(call.key())
            result.append(call)
    return result
