"""builtin_interfaces, std_msgs, geometry_msgs, rosgraph_msgs, unique_identifier_msgs and action_msgs (ROS 2 Jazzy).

Field names, types and order follow the ROS 2 interface definitions, so that the CDR is byte-identical.
"""

from dataclasses import dataclass, field

from mindpalace.ros.messages.idl import IdlStruct, t


def _typename(package: str, name: str, kind: str = "msg") -> str:
    return f"{package}::{kind}::dds_::{name}_"


@dataclass
class Time(IdlStruct, typename=_typename("builtin_interfaces", "Time")):
    sec: t.int32 = 0
    nanosec: t.uint32 = 0

    @staticmethod
    def from_seconds(seconds: float) -> "Time":
        nanoseconds = round(seconds * 1e9)
        return Time(int(nanoseconds // 1_000_000_000), int(nanoseconds % 1_000_000_000))

    def seconds(self) -> float:
        return self.sec + self.nanosec * 1e-9


@dataclass
class Duration(IdlStruct, typename=_typename("builtin_interfaces", "Duration")):
    sec: t.int32 = 0
    nanosec: t.uint32 = 0


@dataclass
class Header(IdlStruct, typename=_typename("std_msgs", "Header")):
    stamp: Time = field(default_factory=Time)
    frame_id: str = ""


@dataclass
class String(IdlStruct, typename=_typename("std_msgs", "String")):
    data: str = ""


@dataclass
class Empty(IdlStruct, typename=_typename("std_msgs", "Empty")):
    structure_needs_at_least_one_member: t.uint8 = 0  # what an empty ROS 2 message is on the wire


@dataclass
class ColorRGBA(IdlStruct, typename=_typename("std_msgs", "ColorRGBA")):
    r: t.float32 = 0.0
    g: t.float32 = 0.0
    b: t.float32 = 0.0
    a: t.float32 = 0.0


@dataclass
class Vector3(IdlStruct, typename=_typename("geometry_msgs", "Vector3")):
    x: t.float64 = 0.0
    y: t.float64 = 0.0
    z: t.float64 = 0.0


@dataclass
class Point(IdlStruct, typename=_typename("geometry_msgs", "Point")):
    x: t.float64 = 0.0
    y: t.float64 = 0.0
    z: t.float64 = 0.0


@dataclass
class Quaternion(IdlStruct, typename=_typename("geometry_msgs", "Quaternion")):
    x: t.float64 = 0.0
    y: t.float64 = 0.0
    z: t.float64 = 0.0
    w: t.float64 = 1.0


@dataclass
class Pose(IdlStruct, typename=_typename("geometry_msgs", "Pose")):
    position: Point = field(default_factory=Point)
    orientation: Quaternion = field(default_factory=Quaternion)


@dataclass
class PoseStamped(IdlStruct, typename=_typename("geometry_msgs", "PoseStamped")):
    header: Header = field(default_factory=Header)
    pose: Pose = field(default_factory=Pose)


@dataclass
class PoseArray(IdlStruct, typename=_typename("geometry_msgs", "PoseArray")):
    header: Header = field(default_factory=Header)
    poses: t.sequence[Pose] = field(default_factory=list)


@dataclass
class Transform(IdlStruct, typename=_typename("geometry_msgs", "Transform")):
    translation: Vector3 = field(default_factory=Vector3)
    rotation: Quaternion = field(default_factory=Quaternion)


@dataclass
class TransformStamped(IdlStruct, typename=_typename("geometry_msgs", "TransformStamped")):
    header: Header = field(default_factory=Header)
    child_frame_id: str = ""
    transform: Transform = field(default_factory=Transform)


@dataclass
class Twist(IdlStruct, typename=_typename("geometry_msgs", "Twist")):
    linear: Vector3 = field(default_factory=Vector3)
    angular: Vector3 = field(default_factory=Vector3)


@dataclass
class Clock(IdlStruct, typename=_typename("rosgraph_msgs", "Clock")):
    clock: Time = field(default_factory=Time)


@dataclass
class UUID(IdlStruct, typename=_typename("unique_identifier_msgs", "UUID")):
    uuid: t.array[t.uint8, 16] = field(default_factory=lambda: bytes(16))


@dataclass
class GoalInfo(IdlStruct, typename=_typename("action_msgs", "GoalInfo")):
    goal_id: UUID = field(default_factory=UUID)
    stamp: Time = field(default_factory=Time)


@dataclass
class GoalStatus(IdlStruct, typename=_typename("action_msgs", "GoalStatus")):
    STATUS_UNKNOWN = 0
    STATUS_ACCEPTED = 1
    STATUS_EXECUTING = 2
    STATUS_CANCELING = 3
    STATUS_SUCCEEDED = 4
    STATUS_CANCELED = 5
    STATUS_ABORTED = 6

    goal_info: GoalInfo = field(default_factory=GoalInfo)
    status: t.int8 = 0


@dataclass
class GoalStatusArray(IdlStruct, typename=_typename("action_msgs", "GoalStatusArray")):
    status_list: t.sequence[GoalStatus] = field(default_factory=list)


@dataclass
class CancelGoalRequest(IdlStruct, typename=_typename("action_msgs", "CancelGoal_Request", "srv")):
    goal_info: GoalInfo = field(default_factory=GoalInfo)


@dataclass
class CancelGoalResponse(IdlStruct, typename=_typename("action_msgs", "CancelGoal_Response", "srv")):
    ERROR_NONE = 0
    ERROR_REJECTED = 1
    ERROR_UNKNOWN_GOAL_ID = 2
    ERROR_GOAL_TERMINATED = 3

    return_code: t.int8 = 0
    goals_canceling: t.sequence[GoalInfo] = field(default_factory=list)
