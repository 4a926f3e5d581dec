"""Our IDL structs serialize byte for byte as rosbags does for the ROS 2 (Jazzy) definitions.

Values are random, drawn from the ROS definition of each field (rosbags' parsed one), so a field that is missing,
out of order or of another width fails. mindpalace_msgs is read from its .msg/.srv/.action files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.base import Nodetype

from mindpalace.ros.messages import MESSAGES
from mindpalace.ros.messages.idl import ros_type_name
from mindpalace.ros.messages.interfaces import CANCEL_GOAL
from mindpalace.ros.messages.mindpalace_msgs import (
    CONTEXT,
    FORGET,
    INSTRUCT,
    MANIPULATE,
    QUERY,
    RECORD_EVENT,
    SAVE,
    TELL,
    WHERE_IS,
)
from mindpalace.ros.messages.nav2 import NAVIGATE_TO_POSE

PACKAGE = Path(__file__).resolve().parents[2] / "ros" / "mindpalace_msgs"

# nav2_msgs/action/NavigateToPose as nav2 (Jazzy) defines it, and rcl_action's wrappers of an action's parts.
NAVIGATE_TO_POSE_ACTION = """geometry_msgs/PoseStamped pose
string behavior_tree
---
uint16 error_code
string error_msg
---
geometry_msgs/PoseStamped current_pose
builtin_interfaces/Duration navigation_time
builtin_interfaces/Duration estimated_time_remaining
int16 number_of_recoveries
float32 distance_remaining
"""
CANCEL_GOAL_SRV = """action_msgs/GoalInfo goal_info
---
int8 return_code
action_msgs/GoalInfo[] goals_canceling
"""
_INTS = {"int8": np.int8, "uint8": np.uint8, "int16": np.int16, "uint16": np.uint16, "int32": np.int32}
_INTS |= {"uint32": np.uint32, "int64": np.int64, "uint64": np.uint64, "byte": np.uint8, "char": np.uint8}
_FLOATS = {"float32": np.float32, "float64": np.float64}


def _flat(name: str) -> str:
    """rosbags registers only pkg/msg/Name; service and action parts go in as such."""
    package, _, base = name.split("/")
    return f"{package}/msg/{base}"


@pytest.fixture(scope="module")
def typestore():
    store = get_typestore(Stores.ROS2_JAZZY)
    definitions: dict[str, str] = {}
    for path in sorted((PACKAGE / "msg").glob("*.msg")):
        definitions[f"mindpalace_msgs/msg/{path.stem}"] = path.read_text()
    for path in sorted((PACKAGE / "srv").glob("*.srv")):
        request, response = path.read_text().split("---\n")
        definitions[f"mindpalace_msgs/msg/{path.stem}_Request"] = request
        definitions[f"mindpalace_msgs/msg/{path.stem}_Response"] = response
    actions = {f"mindpalace_msgs/{path.stem}": path.read_text() for path in sorted((PACKAGE / "action").glob("*.action"))}
    actions["nav2_msgs/NavigateToPose"] = NAVIGATE_TO_POSE_ACTION
    for name, text in actions.items():
        package, base = name.split("/")
        goal, result, feedback = text.split("---\n")
        parts = {"Goal": goal, "Result": result, "Feedback": feedback}
        parts["SendGoal_Request"] = f"unique_identifier_msgs/UUID goal_id\n{package}/msg/{base}_Goal goal\n"
        parts["SendGoal_Response"] = "bool accepted\nbuiltin_interfaces/Time stamp\n"
        parts["GetResult_Request"] = "unique_identifier_msgs/UUID goal_id\n"
        parts["GetResult_Response"] = f"int8 status\n{package}/msg/{base}_Result result\n"
        parts["FeedbackMessage"] = f"unique_identifier_msgs/UUID goal_id\n{package}/msg/{base}_Feedback feedback\n"
        for part, definition in parts.items():
            definitions[f"{package}/msg/{base}_{part}"] = definition
    request, response = CANCEL_GOAL_SRV.split("---\n")
    definitions["action_msgs/msg/CancelGoal_Request"] = request
    definitions["action_msgs/msg/CancelGoal_Response"] = response
    for name, text in definitions.items():
        store.register(get_types_from_msg(text, name))
    return store


def _random_value(store, node: tuple, rng: np.random.Generator):
    """(our value, rosbags' value) for one field definition."""
    kind, detail = node
    if kind == Nodetype.BASE:
        base = detail[0]
        if base == "string":
            text = "".join(rng.choice(list("abcxyz _/#é")) for _ in range(int(rng.integers(0, 12))))
            return text, text
        if base == "bool":
            value = bool(rng.integers(0, 2))
            return value, value
        if base in _FLOATS:
            value = float(_FLOATS[base](rng.normal(0, 100)))
            return value, value
        info = np.iinfo(_INTS[base])
        value = int(rng.integers(info.min, info.max, endpoint=True, dtype=np.int64 if base != "uint64" else np.uint64))
        return value, value
    if kind == Nodetype.NAME:
        return _random_message(store, detail, rng)
    element, count = detail
    length = count if kind == Nodetype.ARRAY else int(rng.integers(0, 5))
    if element[0] == Nodetype.BASE and element[1][0] != "string":
        base = element[1][0]
        if base in _FLOATS:
            array = rng.normal(0, 100, length).astype(_FLOATS[base])
            return [float(v) for v in array], array
        info = np.iinfo(_INTS[base])
        array = rng.integers(info.min, info.max, length, endpoint=True, dtype=np.int64 if base != "uint64" else np.uint64)
        array = array.astype(_INTS[base])
        if base in ("uint8", "int8", "byte"):
            return array.tobytes(), array
        return [int(v) for v in array], array
    pairs = [_random_value(store, element, rng) for _ in range(length)]
    return [ours for ours, _ in pairs], [theirs for _, theirs in pairs]


def _random_message(store, name: str, rng: np.random.Generator):
    _, fields = store.fielddefs[name]
    ours, theirs = {}, []
    for field_name, node in fields:
        mine, other = _random_value(store, node, rng)
        ours[field_name] = mine
        theirs.append(other)
    cls = next(c for c in _ALL if _flat(ros_type_name(c)) == name)
    return cls(**ours), store.types[name](*theirs)


_SERVICES = [CANCEL_GOAL, QUERY, WHERE_IS, CONTEXT, RECORD_EVENT, TELL, SAVE, FORGET]
_ACTIONS = [INSTRUCT, MANIPULATE, NAVIGATE_TO_POSE]
_ALL = (
    list(MESSAGES.values())
    + [t for s in _SERVICES for t in (s.request, s.response)]
    + [
        t
        for a in _ACTIONS
        for t in (a.goal, a.result, a.feedback, a.feedback_message, a.send_goal.request, a.send_goal.response)
        + (a.get_result.request, a.get_result.response)
    ]
)


@pytest.mark.parametrize("cls", _ALL, ids=lambda c: ros_type_name(c))
def test_cdr_is_byte_identical_to_rosbags(typestore, cls) -> None:
    name = _flat(ros_type_name(cls))
    assert name in typestore.fielddefs, f"rosbags has no definition of {name}"
    ours_fields = [f for f in cls.__dataclass_fields__]
    theirs_fields = [f for f, _ in typestore.fielddefs[name][1]]
    assert ours_fields == theirs_fields
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    for _ in range(3):
        ours, theirs = _random_message(typestore, name, rng)
        expected = typestore.serialize_cdr(theirs, name).tobytes()
        assert ours.serialize() == expected
        assert type(ours).deserialize(expected) == ours
