"""Services and actions as ROS 2 lays them out: a service is a request and a response type; an action is a goal,
a result and a feedback type plus the services and messages rcl_action builds from them.

An action `pkg/action/Name` is carried by two services (`<name>/_action/send_goal`, `<name>/_action/get_result`),
action_msgs' CancelGoal (`<name>/_action/cancel_goal`), a feedback topic and a status topic. The wrapper types are
generated here with ROS 2's names (`pkg::action::dds_::Name_SendGoal_Request_`, ...).
"""

import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mindpalace.ros.messages.common import UUID, CancelGoalRequest, CancelGoalResponse, Time
from mindpalace.ros.messages.idl import IdlStruct, ros_type_name, t


@dataclass(frozen=True)
class ServiceType:
    """`pkg/srv/Name`: its request and response types."""

    name: str
    request: type[IdlStruct]
    response: type[IdlStruct]


@dataclass(frozen=True)
class ActionType:
    """`pkg/action/Name`: its goal, result and feedback, and the wrappers that carry them."""

    name: str
    goal: type[IdlStruct]
    result: type[IdlStruct]
    feedback: type[IdlStruct]
    send_goal: ServiceType
    get_result: ServiceType
    feedback_message: type[IdlStruct]


def service_type(request: type[IdlStruct], response: type[IdlStruct]) -> ServiceType:
    name = ros_type_name(request).removesuffix("_Request")
    if ros_type_name(response) != f"{name}_Response":
        raise ValueError(f"{ros_type_name(response)} is not the response of {name}")
    return ServiceType(name, request, response)


CANCEL_GOAL = service_type(CancelGoalRequest, CancelGoalResponse)


def _struct(package: str, name: str, fields: dict[str, tuple[Any, Any]]) -> type[IdlStruct]:
    """A dataclass IDL struct `package::action::dds_::name_` with (annotation, default factory) fields."""

    def body(namespace: dict[str, Any]) -> None:
        namespace["__annotations__"] = {key: annotation for key, (annotation, _) in fields.items()}
        for key, (_, factory) in fields.items():
            namespace[key] = field(default_factory=factory)

    cls = types.new_class(name, (IdlStruct,), {"typename": f"{package}::action::dds_::{name}_"}, body)
    return dataclass(cls)


def build(cls: type[IdlStruct], *values: Any) -> IdlStruct:
    """An instance of `cls` from its fields in order. For the wrappers made at run time (`_struct`), whose fields the
    type checker cannot see: their constructor, as a callable of any arguments."""
    constructor: Callable[..., IdlStruct] = cls
    return constructor(*values)


def action_type(goal: type[IdlStruct], result: type[IdlStruct], feedback: type[IdlStruct]) -> ActionType:
    """The action whose `Name_Goal`, `Name_Result` and `Name_Feedback` structs are given."""
    package, _, goal_name = ros_type_name(goal).split("/")
    name = goal_name.removesuffix("_Goal")
    send_goal = service_type(
        _struct(package, f"{name}_SendGoal_Request", {"goal_id": (UUID, UUID), "goal": (goal, goal)}),
        _struct(package, f"{name}_SendGoal_Response", {"accepted": (bool, bool), "stamp": (Time, Time)}),
    )
    get_result = service_type(
        _struct(package, f"{name}_GetResult_Request", {"goal_id": (UUID, UUID)}),
        _struct(package, f"{name}_GetResult_Response", {"status": (t.int8, int), "result": (result, result)}),
    )
    message = _struct(package, f"{name}_FeedbackMessage", {"goal_id": (UUID, UUID), "feedback": (feedback, feedback)})
    return ActionType(f"{package}/action/{name}", goal, result, feedback, send_goal, get_result, message)
