"""sensor_msgs Image, CameraInfo, CompressedImage and tf2_msgs TFMessage (ROS 2 Jazzy)."""

from dataclasses import dataclass, field

from mindpalace.ros.messages.common import Header, TransformStamped, _typename
from mindpalace.ros.messages.idl import IdlStruct, Octets, t


@dataclass
class Image(IdlStruct, typename=_typename("sensor_msgs", "Image")):
    header: Header = field(default_factory=Header)
    height: t.uint32 = 0
    width: t.uint32 = 0
    encoding: str = ""
    is_bigendian: t.uint8 = 0
    step: t.uint32 = 0  # bytes per row, padding included
    data: Octets = b""


@dataclass
class CompressedImage(IdlStruct, typename=_typename("sensor_msgs", "CompressedImage")):
    header: Header = field(default_factory=Header)
    format: str = ""
    data: Octets = b""


@dataclass
class RegionOfInterest(IdlStruct, typename=_typename("sensor_msgs", "RegionOfInterest")):
    x_offset: t.uint32 = 0
    y_offset: t.uint32 = 0
    height: t.uint32 = 0
    width: t.uint32 = 0
    do_rectify: bool = False


@dataclass
class CameraInfo(IdlStruct, typename=_typename("sensor_msgs", "CameraInfo")):
    header: Header = field(default_factory=Header)
    height: t.uint32 = 0
    width: t.uint32 = 0
    distortion_model: str = ""
    d: t.sequence[t.float64] = field(default_factory=list)
    k: t.array[t.float64, 9] = field(default_factory=lambda: [0.0] * 9)
    r: t.array[t.float64, 9] = field(default_factory=lambda: [0.0] * 9)
    p: t.array[t.float64, 12] = field(default_factory=lambda: [0.0] * 12)
    binning_x: t.uint32 = 0
    binning_y: t.uint32 = 0
    roi: RegionOfInterest = field(default_factory=RegionOfInterest)


@dataclass
class TFMessage(IdlStruct, typename=_typename("tf2_msgs", "TFMessage")):
    transforms: t.sequence[TransformStamped] = field(default_factory=list)
