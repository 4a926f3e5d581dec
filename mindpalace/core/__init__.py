"""Shared types, geometry, registries and config loading. Imports numpy only."""

from mindpalace.core.actions import (
    Action,
    ActionOutcome,
    BaseVelocity,
    Close,
    FailureReason,
    Look,
    Open,
    Pick,
    Place,
    Relation,
    Wait,
)
from mindpalace.core.registry import Registry
from mindpalace.core.types import CameraInfo, Event, InstanceInfo, Observation

__all__ = [
    "Action",
    "ActionOutcome",
    "BaseVelocity",
    "CameraInfo",
    "Close",
    "Event",
    "FailureReason",
    "InstanceInfo",
    "Look",
    "Observation",
    "Open",
    "Pick",
    "Place",
    "Registry",
    "Relation",
    "Wait",
]
