"""What the message modules need from cyclonedds' IDL: its types, and `Octets`, a byte sequence kept as `bytes`.

A `uint8[]` (or `int8[]`) declared as cyclonedds' `sequence[uint8]` is (de)serialized element by element into a
Python list, a few 640x480 images a second. `Octets` keeps the same CDR on the wire (a uint32 length, then the
bytes) and the same XTypes type object (a sequence of uint8 or int8, so ROS 2 readers match it), but is read and
written as one `bytes` object. cyclonedds' builder picks the `bytes` codec for it through its table of simple
types; this module adds the entries. Pinned to the cyclonedds version in pyproject.toml (tests cover it).

Modules that define IDL structs must not use `from __future__ import annotations`: cyclonedds reads the field
annotations as types.
"""

from typing import Annotated, Any

from cyclonedds.idl import IdlStruct
from cyclonedds.idl import types as t
from cyclonedds.idl._builder import Builder
from cyclonedds.idl._machinery import BytesMachine


class _OctetSequence(t.sequence):
    """A `sequence[uint8]` or `sequence[int8]` for the type object, read and written as `bytes`."""

    def __eq__(self, other: object) -> bool:
        return type(other) is _OctetSequence and other.subtype == self.subtype

    def __hash__(self) -> int:
        return hash(("mindpalace-octets", self.subtype))


_UINT8 = _OctetSequence(t.uint8)
_INT8 = _OctetSequence(t.int8)
Builder.easy_types[_UINT8] = BytesMachine
Builder.easy_types[_INT8] = BytesMachine

# cyclonedds reads only the metadata (the second argument); the first is the Python type the field holds.
Octets = Annotated[bytes, _UINT8]  # ROS uint8[] as bytes
SignedOctets = Annotated[bytes, _INT8]  # ROS int8[] as bytes (two's complement)


def ros_type_name(cls: Any) -> str:
    """ "sensor_msgs::msg::dds_::Image_" -> "sensor_msgs/msg/Image"."""
    package, kind, _, name = cls.__idl_typename__.split("::")
    return f"{package}/{kind}/{name.removesuffix('_')}"


__all__ = ["IdlStruct", "Octets", "SignedOctets", "ros_type_name", "t"]
