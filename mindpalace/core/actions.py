"""Actions an agent sends to an env, and the structured outcome each one gets back.

Every env answers every action with an `ActionOutcome`; a bad request is a failure
outcome with a `FailureReason`, never an exception, so one bad call cannot crash a loop.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

import numpy as np


class Relation(str, Enum):
    """Where a placed object ends up relative to a receptacle."""

    ON = "on"
    IN = "in"


class FailureReason(str, Enum):
    """Why an action failed. `NONE` on success."""

    NONE = "none"
    INVALID_ARGUMENT = "invalid_argument"
    UNKNOWN_TARGET = "unknown_target"
    NOT_PICKABLE = "not_pickable"
    NOT_A_RECEPTACLE = "not_a_receptacle"
    NOT_ARTICULATED = "not_articulated"
    OUT_OF_REACH = "out_of_reach"
    NOT_VISIBLE = "not_visible"
    HANDS_FULL = "hands_full"
    HANDS_EMPTY = "hands_empty"
    CONTAINER_CLOSED = "container_closed"
    ALREADY_OPEN = "already_open"
    ALREADY_CLOSED = "already_closed"
    NO_FREE_SPOT = "no_free_spot"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class BaseVelocity:
    """Drive the base at forward speed `v` (m/s) and yaw rate `omega` (rad/s) for `duration` s."""

    v: float
    omega: float
    duration: float = 0.1


@dataclass(frozen=True)
class Look:
    """Point the head camera: `pan` left-positive about z, `tilt` down-positive, radians, base frame."""

    pan: float
    tilt: float


@dataclass(frozen=True)
class Wait:
    """Let `duration` seconds pass without moving."""

    duration: float = 0.1


@dataclass(frozen=True)
class Pick:
    """Grasp the object with instance id `object_id` (must be in reach and in view)."""

    object_id: int


@dataclass(frozen=True)
class Place:
    """Put the held object on or in the receptacle (furniture or articulated part) `receptacle_id`."""

    receptacle_id: int
    relation: Relation = Relation.ON


@dataclass(frozen=True)
class Open:
    """Open an articulated part (drawer, door), or the only one of a piece of furniture."""

    target_id: int


@dataclass(frozen=True)
class Close:
    """Close an articulated part (drawer, door), or the only one of a piece of furniture."""

    target_id: int


@dataclass(frozen=True)
class Press:
    """Press the button with instance id `target_id` (must be in reach and in view)."""

    target_id: int


@dataclass(frozen=True)
class KeyPose:
    """Move the hand's tool centre point to `position` (world, m) at `orientation` (x, y, z, w), then open or close it.

    A motion primitive executes it, as RLBench and PerAct execute their key-poses: with `ignore_collisions` the
    hand takes the straight line; without, it travels at a safe height above the workspace and comes down.
    """

    position: tuple[float, float, float]
    orientation: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)
    gripper_open: bool = True
    ignore_collisions: bool = False


Action = BaseVelocity | Look | Wait | Pick | Place | Open | Close | Press | KeyPose

ACTION_TYPES: dict[str, type] = {
    "base_velocity": BaseVelocity,
    "look": Look,
    "wait": Wait,
    "pick": Pick,
    "place": Place,
    "open": Open,
    "close": Close,
    "press": Press,
    "key_pose": KeyPose,
}
ACTION_NAMES: dict[type, str] = {cls: name for name, cls in ACTION_TYPES.items()}


def action_name(action: Action) -> str:
    """The registry name of an action instance, e.g. "pick"."""
    return ACTION_NAMES[type(action)]


def action_to_dict(action: Action) -> dict[str, Any]:
    """A JSON-ready dict {"type": name, **fields}."""
    data = {key: (value.value if isinstance(value, Enum) else value) for key, value in asdict(action).items()}
    return {"type": action_name(action), **data}


def action_from_dict(data: Mapping[str, Any]) -> Action:
    """Parse {"type": name, **fields} into an Action; raise ValueError with the reason if malformed."""
    if not isinstance(data, Mapping):
        raise ValueError(f"an action must be a mapping, got {type(data).__name__}")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in ACTION_TYPES:
        raise ValueError(f"unknown action type {kind!r}; expected one of {sorted(ACTION_TYPES)}")
    cls = ACTION_TYPES[kind]
    fields = {key: value for key, value in data.items() if key != "type"}
    try:
        if cls is Place and "relation" in fields:
            fields["relation"] = Relation(fields["relation"])
        if cls is KeyPose:
            for key in ("position", "orientation"):
                if key in fields:
                    fields[key] = tuple(fields[key])
        return cls(**fields)
    except (TypeError, ValueError) as error:
        raise ValueError(f"bad arguments for {kind!r}: {error}") from error


def is_finite_number(value: Any) -> bool:
    """True for a real number (Python or numpy) that is neither NaN nor infinite; bools excluded."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and math.isfinite(value)


@dataclass(frozen=True)
class ActionOutcome:
    """What happened when an action ran: success, why not, and a human-readable message."""

    success: bool
    reason: FailureReason = FailureReason.NONE
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def ok(message: str = "", **details: Any) -> ActionOutcome:
        return ActionOutcome(True, FailureReason.NONE, message, dict(details))

    @staticmethod
    def fail(reason: FailureReason, message: str, **details: Any) -> ActionOutcome:
        return ActionOutcome(False, reason, message, dict(details))

    def to_dict(self) -> dict[str, Any]:
        return {"success": self.success, "reason": self.reason.value, "message": self.message, "details": dict(self.details)}
