"""The mindpalace_msgs package (ros/mindpalace_msgs): memory queries, events, instructions and manipulation.

The .msg/.srv/.action files there are the definition; these classes carry the same fields in the same order
(tests serialize both and compare the bytes).
"""

from dataclasses import dataclass, field

from mindpalace.ros.messages.common import Point, PoseStamped, Time, Vector3
from mindpalace.ros.messages.idl import IdlStruct, t
from mindpalace.ros.messages.interfaces import action_type, service_type


def _typename(name: str, kind: str = "msg") -> str:
    return f"mindpalace_msgs::{kind}::dds_::{name}_"


@dataclass
class MemoryObject(IdlStruct, typename=_typename("MemoryObject")):
    id: t.int64 = 0
    label: str = ""
    kind: str = ""
    room: str = ""
    position: Point = field(default_factory=Point)
    last_seen: Time = field(default_factory=Time)
    state: str = ""
    confidence: t.float32 = 0.0


@dataclass
class Event(IdlStruct, typename=_typename("Event")):
    actor: str = ""
    action: str = ""
    start: Time = field(default_factory=Time)
    end: Time = field(default_factory=Time)
    arguments_json: str = ""
    object_ids: t.sequence[t.int64] = field(default_factory=list)
    source_ids: t.sequence[t.uint32] = field(default_factory=list)
    place: str = ""
    success: bool = True
    reason: str = ""
    has_position: bool = False
    position: Point = field(default_factory=Point)


@dataclass
class QueryRequest(IdlStruct, typename=_typename("Query_Request", "srv")):
    tool: str = ""
    arguments_json: str = ""


@dataclass
class QueryResponse(IdlStruct, typename=_typename("Query_Response", "srv")):
    ok: bool = False
    error: str = ""
    result_json: str = ""


@dataclass
class WhereIsRequest(IdlStruct, typename=_typename("WhereIs_Request", "srv")):
    object: str = ""


@dataclass
class WhereIsResponse(IdlStruct, typename=_typename("WhereIs_Response", "srv")):
    ok: bool = False
    error: str = ""
    objects: t.sequence[MemoryObject] = field(default_factory=list)


@dataclass
class ContextRequest(IdlStruct, typename=_typename("Context_Request", "srv")):
    task: str = ""
    budget_tokens: t.int32 = 0


@dataclass
class ContextResponse(IdlStruct, typename=_typename("Context_Response", "srv")):
    text: str = ""


@dataclass
class RecordEventRequest(IdlStruct, typename=_typename("RecordEvent_Request", "srv")):
    event: Event = field(default_factory=Event)


@dataclass
class RecordEventResponse(IdlStruct, typename=_typename("RecordEvent_Response", "srv")):
    ok: bool = False
    error: str = ""
    event_id: t.int64 = 0


@dataclass
class TellRequest(IdlStruct, typename=_typename("Tell_Request", "srv")):
    text: str = ""
    speaker: str = ""
    grounding_json: str = ""
    pinned: bool = False


@dataclass
class TellResponse(IdlStruct, typename=_typename("Tell_Response", "srv")):
    ok: bool = False
    error: str = ""
    stored: t.int32 = 0


@dataclass
class SaveRequest(IdlStruct, typename=_typename("Save_Request", "srv")):
    structure_needs_at_least_one_member: t.uint8 = 0  # an empty ROS 2 request on the wire


@dataclass
class SaveResponse(IdlStruct, typename=_typename("Save_Response", "srv")):
    ok: bool = False
    error: str = ""
    path: str = ""


@dataclass
class ForgetRequest(IdlStruct, typename=_typename("Forget_Request", "srv")):
    budget_items: t.int64 = 0
    budget_bytes: t.int64 = 0


@dataclass
class ForgetResponse(IdlStruct, typename=_typename("Forget_Response", "srv")):
    ok: bool = False
    error: str = ""
    report_json: str = ""


@dataclass
class InstructGoal(IdlStruct, typename=_typename("Instruct_Goal", "action")):
    instruction: str = ""


@dataclass
class InstructResult(IdlStruct, typename=_typename("Instruct_Result", "action")):
    success: bool = False
    answer: str = ""
    reason: str = ""
    record_json: str = ""


@dataclass
class InstructFeedback(IdlStruct, typename=_typename("Instruct_Feedback", "action")):
    step: t.int32 = 0
    skill: str = ""
    arguments_json: str = ""
    ok: bool = False
    message: str = ""


@dataclass
class ManipulateGoal(IdlStruct, typename=_typename("Manipulate_Goal", "action")):
    action: str = ""
    object_id: t.int64 = 0
    label: str = ""
    source_id: t.uint32 = 0
    target_pose: PoseStamped = field(default_factory=PoseStamped)
    target_size: Vector3 = field(default_factory=Vector3)
    relation: str = ""


@dataclass
class ManipulateResult(IdlStruct, typename=_typename("Manipulate_Result", "action")):
    success: bool = False
    reason: str = ""
    message: str = ""


@dataclass
class ManipulateFeedback(IdlStruct, typename=_typename("Manipulate_Feedback", "action")):
    stage: str = ""


QUERY = service_type(QueryRequest, QueryResponse)
WHERE_IS = service_type(WhereIsRequest, WhereIsResponse)
CONTEXT = service_type(ContextRequest, ContextResponse)
RECORD_EVENT = service_type(RecordEventRequest, RecordEventResponse)
TELL = service_type(TellRequest, TellResponse)
SAVE = service_type(SaveRequest, SaveResponse)
FORGET = service_type(ForgetRequest, ForgetResponse)
INSTRUCT = action_type(InstructGoal, InstructResult, InstructFeedback)
MANIPULATE = action_type(ManipulateGoal, ManipulateResult, ManipulateFeedback)
