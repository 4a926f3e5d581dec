"""Actions: dict round trips, parse errors, finite-number checks, outcomes."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from mindpalace.core.actions import (
    ACTION_TYPES,
    ActionOutcome,
    BaseVelocity,
    Close,
    FailureReason,
    KeyPose,
    Look,
    Open,
    Pick,
    Place,
    Press,
    Relation,
    Wait,
    action_from_dict,
    action_name,
    action_to_dict,
    is_finite_number,
)

# One non-default instance per registered action type (Place twice: "on" and "in").
SAMPLES = {
    "base_velocity": [BaseVelocity(v=0.4, omega=-0.7, duration=0.25)],
    "look": [Look(pan=0.3, tilt=-0.2)],
    "wait": [Wait(duration=1.5)],
    "pick": [Pick(object_id=17)],
    "place": [Place(receptacle_id=4), Place(receptacle_id=9, relation=Relation.IN)],
    "open": [Open(target_id=3)],
    "close": [Close(target_id=8)],
    "press": [Press(target_id=5)],
    "key_pose": [KeyPose((0.1, -0.2, 0.8), (0.7071, 0.0, 0.0, 0.7071), gripper_open=False, ignore_collisions=True)],
}
ALL_SAMPLES = [(name, action) for name, actions in SAMPLES.items() for action in actions]


def test_samples_cover_every_action_type():
    assert set(SAMPLES) == set(ACTION_TYPES)
    for name, action in ALL_SAMPLES:
        assert type(action) is ACTION_TYPES[name]


@pytest.mark.parametrize(("name", "action"), ALL_SAMPLES, ids=[repr(a) for _, a in ALL_SAMPLES])
def test_round_trip(name, action):
    data = action_to_dict(action)
    assert data["type"] == name == action_name(action)
    assert set(data) == {"type"} | {f.name for f in dataclasses.fields(action)}
    assert action_from_dict(data) == action
    # The dict is JSON-ready and survives a trip through JSON text.
    assert action_from_dict(json.loads(json.dumps(data))) == action


def test_place_in_serialises_relation_as_plain_string():
    data = action_to_dict(Place(receptacle_id=9, relation=Relation.IN))
    assert data == {"type": "place", "receptacle_id": 9, "relation": "in"}
    assert type(data["relation"]) is str
    parsed = action_from_dict({"type": "place", "receptacle_id": 9, "relation": "in"})
    assert isinstance(parsed.relation, Relation)
    assert parsed.relation is Relation.IN


def test_defaults_apply_when_fields_are_omitted():
    assert action_from_dict({"type": "wait"}) == Wait(0.1)
    assert action_from_dict({"type": "base_velocity", "v": 1.0, "omega": 0.0}).duration == 0.1
    assert action_from_dict({"type": "place", "receptacle_id": 2}).relation is Relation.ON


@pytest.mark.parametrize("kind", ["jump", "Pick", "", None])
def test_unknown_type(kind):
    data = {"object_id": 1} if kind is None else {"type": kind, "object_id": 1}
    with pytest.raises(ValueError, match=r"unknown action type") as info:
        action_from_dict(data)
    message = str(info.value)
    assert repr(kind) in message
    for name in ACTION_TYPES:  # the message lists what would have been accepted
        assert repr(name) in message


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"type": "pick"}, ["'pick'", "object_id"]),
        ({"type": "look", "pan": 0.1}, ["'look'", "tilt"]),
        ({"type": "base_velocity"}, ["'base_velocity'", "v"]),
        ({"type": "open"}, ["'open'", "target_id"]),
    ],
)
def test_missing_fields(data, words):
    with pytest.raises(ValueError, match="bad arguments") as info:
        action_from_dict(data)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize(
    "data",
    [
        {"type": "pick", "object_id": 1, "force": 3.0},
        {"type": "wait", "duration": 1.0, "force": 3.0},
        {"type": "close", "target_id": 1, "force": 3.0},
    ],
)
def test_extra_fields(data):
    with pytest.raises(ValueError, match=r"bad arguments for .*force"):
        action_from_dict(data)


@pytest.mark.parametrize(
    ("data", "type_name"),
    [(["pick", 1], "list"), ("pick", "str"), (None, "NoneType"), (7, "int"), (Pick(1), "Pick")],
)
def test_non_mapping_input(data, type_name):
    with pytest.raises(ValueError, match=f"must be a mapping, got {type_name}"):
        action_from_dict(data)


@pytest.mark.parametrize("relation", ["under", "IN", "", None, 1])
def test_bad_relation(relation):
    with pytest.raises(ValueError, match=r"bad arguments for 'place'") as info:
        action_from_dict({"type": "place", "receptacle_id": 1, "relation": relation})
    assert repr(relation) in str(info.value)


@pytest.mark.parametrize("kind", [["pick"], {"name": "pick"}])
def test_unhashable_type_is_a_value_error(kind):
    with pytest.raises(ValueError, match="unknown action type"):
        action_from_dict({"type": kind, "object_id": 1})


@pytest.mark.parametrize("value", [0, 1, -3, 2.5, -1e-300, 1e300, np.float64(0.5), np.int64(2).item()])
def test_is_finite_number_accepts_real_numbers(value):
    assert is_finite_number(value) is True


@pytest.mark.parametrize(
    "value",
    [math.nan, math.inf, -math.inf, np.float64("nan"), np.float64("inf"), True, False, "1", "1.5", None, 1j, [1.0]],
    ids=repr,
)
def test_is_finite_number_rejects(value):
    assert is_finite_number(value) is False


def test_outcome_ok():
    outcome = ActionOutcome.ok("picked the mug", object_id=5, distance=0.8)
    assert outcome.success is True
    assert outcome.reason is FailureReason.NONE
    assert outcome.message == "picked the mug"
    assert outcome.details == {"object_id": 5, "distance": 0.8}
    assert ActionOutcome.ok() == ActionOutcome(True)


def test_outcome_fail():
    outcome = ActionOutcome.fail(FailureReason.OUT_OF_REACH, "too far", distance=2.4)
    assert outcome.success is False
    assert outcome.reason is FailureReason.OUT_OF_REACH
    assert outcome.message == "too far"
    assert outcome.details == {"distance": 2.4}
    assert ActionOutcome.fail(FailureReason.BLOCKED, "x").details == {}


def test_outcome_to_dict():
    ok = ActionOutcome.ok("done", object_id=5).to_dict()
    assert ok == {"success": True, "reason": "none", "message": "done", "details": {"object_id": 5}}
    failed = ActionOutcome.fail(FailureReason.HANDS_FULL, "holding 3", held=3).to_dict()
    assert failed == {"success": False, "reason": "hands_full", "message": "holding 3", "details": {"held": 3}}
    # A detail named like a main key cannot overwrite it.
    assert ActionOutcome.ok(reason="x").to_dict()["reason"] == "none"
    assert type(failed["reason"]) is str
    assert json.loads(json.dumps(failed)) == failed


def test_outcome_is_frozen_and_details_are_not_shared():
    a, b = ActionOutcome.ok(), ActionOutcome.ok()
    assert a.details is not b.details
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.success = False  # type: ignore[misc]
