"""nav2_msgs/action/NavigateToPose, as nav2 (Jazzy) defines it."""

from dataclasses import dataclass, field

from mindpalace.ros.messages.common import Duration, PoseStamped
from mindpalace.ros.messages.idl import IdlStruct, t
from mindpalace.ros.messages.interfaces import action_type


def _typename(name: str) -> str:
    return f"nav2_msgs::action::dds_::{name}_"


@dataclass
class NavigateToPoseGoal(IdlStruct, typename=_typename("NavigateToPose_Goal")):
    pose: PoseStamped = field(default_factory=PoseStamped)
    behavior_tree: str = ""


@dataclass
class NavigateToPoseResult(IdlStruct, typename=_typename("NavigateToPose_Result")):
    NONE = 0
    UNKNOWN = 9000
    TIMEOUT = 9003

    error_code: t.uint16 = 0
    error_msg: str = ""


@dataclass
class NavigateToPoseFeedback(IdlStruct, typename=_typename("NavigateToPose_Feedback")):
    current_pose: PoseStamped = field(default_factory=PoseStamped)
    navigation_time: Duration = field(default_factory=Duration)
    estimated_time_remaining: Duration = field(default_factory=Duration)
    number_of_recoveries: t.int16 = 0
    distance_remaining: t.float32 = 0.0


NAVIGATE_TO_POSE = action_type(NavigateToPoseGoal, NavigateToPoseResult, NavigateToPoseFeedback)
