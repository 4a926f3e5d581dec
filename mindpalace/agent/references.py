"""Which record an instruction's words mean, where they say more than a label: "the block in the centre zone",
"the empty patch", "the block that was on a patch before".

These are the English patterns of a noun qualified by where it is, was, where the robot saw or left it ("the glasses
you saw on the bed"), or by being empty; they are read
against what memory holds (the scene graph's supports, the robot's own pick events), never against the
simulator. What was somewhere "before" is memory's to say: the place the robot's first pick of it took it
from, else (never picked) where it is now.
"""

from __future__ import annotations

import re

from mindpalace.agent.runtime import AgentRuntime
from mindpalace.memory.retrieval import OrderQuery
from mindpalace.memory.spatial.objects import MapObject

_MENTION = re.compile(r"#(\d+)")
_ARTICLE = r"(?:the|a|an)"
_PAST = ("was", "were")
_SAW = ("saw", "noticed", "spotted", "found")
_LEFT = ("left", "put", "placed")


def grounded(runtime: AgentRuntime, text: str, clause_only: bool = False) -> tuple[dict[str, list[MapObject]], set[str]]:
    """For each label the text qualifies, the records of that label that fit the qualification (labels whose
    qualification fits no record are left out: an unresolved phrase narrows nothing); and the labels named only
    as such a place ("the patch" in "the block that was on a patch"), which are no destination.

    `clause_only`: only places given in a relative clause ("that was on", "you saw on"); a bare "the mug on the table"
    may as well say where to put the mug."""
    objects = runtime.objects()
    names = {o.label.replace("_", " "): o.label for o in objects.values()}
    if not names:
        return {}, set()
    words = " ".join(re.findall(r"[a-z0-9]+", text.lower().replace("_", " ")))
    name = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    found: dict[str, list[MapObject]] = {}
    places: set[str] = set()
    for match in [] if clause_only else re.finditer(rf"\bempty ({name})\b", words):
        label = names[match[1]]
        found[label] = [o for o in objects.values() if o.label == label and not holds_something(runtime, o)]
    # "the X (that was) on the Y", and a relative clause of the robot's own seeing or leaving: "the X you saw on the Y".
    clause = rf"(?:(?:that|which) (is|are|was|were) |(?:that |which )?(?:you|i|we) ({'|'.join(_SAW + _LEFT)}) )"
    relation = rf"\b({name}) {clause}{'' if clause_only else '?'}(?:in|on) {_ARTICLE} ({name})\b"
    for match in re.finditer(relation, words):
        label, holder = names[match[1]], names[match[4]]
        places.add(holder)
        # Seen there: where it was then (before the robot moved it, if it did). Left there: where it is now.
        support = earlier_support if match[2] in _PAST or match[3] in _SAW else current_support
        found[label] = [o for o in objects.values() if o.label == label and _label_of(runtime, support(runtime, o)) == holder]
    # A label that is also named for itself elsewhere ("the empty patch") is a destination after all.
    qualifiers = {
        label
        for label in places
        if label not in found and len(re.findall(rf"\b{re.escape(label.replace('_', ' '))}\b", words)) == 1
    }
    return {label: records for label, records in found.items() if records}, qualifiers


def current_support(runtime: AgentRuntime, obj: MapObject) -> int | None:
    """What memory's scene graph has the object on or in now."""
    return runtime.support_of(obj.id)


def earlier_support(runtime: AgentRuntime, obj: MapObject) -> int | None:
    """Where the object was before the robot first moved it: its first pick's source, else where it is now."""
    resolve = runtime.spatial.objects.resolve
    for item in runtime.memory.retrieve([OrderQuery("first", "pick", obj.id, None, 1)]):
        source = str(item.data.get("arguments", {}).get("from", ""))
        ids = _MENTION.findall(source)
        return resolve(int(ids[0])) if ids else None
    return current_support(runtime, obj)


def holds_something(runtime: AgentRuntime, obj: MapObject) -> bool:
    """Whether memory's scene graph has any object on or in this one."""
    graph = runtime.spatial.scene_graph()
    kind = runtime.spatial.scene.kind_of(obj)
    node = f"{kind}:{obj.id}"
    if node not in graph:
        return False
    return any(data.get("relation") in ("on", "in") for _, _, data in graph.out_edges(node, data=True))


def _label_of(runtime: AgentRuntime, object_id: int | None) -> str | None:
    obj = runtime.objects().get(object_id) if object_id is not None else None
    return obj.label if obj is not None else None
