"""nav_msgs OccupancyGrid and visualization_msgs Marker / MarkerArray (ROS 2 Jazzy)."""

from dataclasses import dataclass, field

from mindpalace.ros.messages.common import ColorRGBA, Duration, Header, Point, Pose, Time, Vector3, _typename
from mindpalace.ros.messages.idl import IdlStruct, Octets, SignedOctets, t
from mindpalace.ros.messages.sensor import CompressedImage


@dataclass
class MapMetaData(IdlStruct, typename=_typename("nav_msgs", "MapMetaData")):
    map_load_time: Time = field(default_factory=Time)
    resolution: t.float32 = 0.0  # m per cell
    width: t.uint32 = 0
    height: t.uint32 = 0
    origin: Pose = field(default_factory=Pose)  # the cell (0, 0)'s corner in the map frame


@dataclass
class OccupancyGrid(IdlStruct, typename=_typename("nav_msgs", "OccupancyGrid")):
    header: Header = field(default_factory=Header)
    info: MapMetaData = field(default_factory=MapMetaData)
    data: SignedOctets = b""  # row-major from the origin; 0 free, 100 occupied, -1 unknown


@dataclass
class UVCoordinate(IdlStruct, typename=_typename("visualization_msgs", "UVCoordinate")):
    u: t.float32 = 0.0
    v: t.float32 = 0.0


@dataclass
class MeshFile(IdlStruct, typename=_typename("visualization_msgs", "MeshFile")):
    filename: str = ""
    data: Octets = b""


@dataclass
class Marker(IdlStruct, typename=_typename("visualization_msgs", "Marker")):
    ARROW = 0
    CUBE = 1
    SPHERE = 2
    CYLINDER = 3
    LINE_STRIP = 4
    LINE_LIST = 5
    TEXT_VIEW_FACING = 9
    ADD = 0
    DELETE = 2
    DELETEALL = 3

    header: Header = field(default_factory=Header)
    ns: str = ""
    id: t.int32 = 0
    type: t.int32 = 0
    action: t.int32 = 0
    pose: Pose = field(default_factory=Pose)
    scale: Vector3 = field(default_factory=Vector3)
    color: ColorRGBA = field(default_factory=ColorRGBA)
    lifetime: Duration = field(default_factory=Duration)
    frame_locked: bool = False
    points: t.sequence[Point] = field(default_factory=list)
    colors: t.sequence[ColorRGBA] = field(default_factory=list)
    texture_resource: str = ""
    texture: CompressedImage = field(default_factory=CompressedImage)
    uv_coordinates: t.sequence[UVCoordinate] = field(default_factory=list)
    text: str = ""
    mesh_resource: str = ""
    mesh_file: MeshFile = field(default_factory=MeshFile)
    mesh_use_embedded_materials: bool = False


@dataclass
class MarkerArray(IdlStruct, typename=_typename("visualization_msgs", "MarkerArray")):
    markers: t.sequence[Marker] = field(default_factory=list)
