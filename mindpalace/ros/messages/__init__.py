"""ROS 2 message, service and action types as cyclonedds IDL structs, with ROS 2's DDS type names.

`MESSAGES` maps a ROS type name ("sensor_msgs/msg/Image") to its struct: what a bag's topics are read with.
"""

from cyclonedds.idl import IdlStruct

from mindpalace.ros.messages import common, maps, mindpalace_msgs, nav2, sensor
from mindpalace.ros.messages.idl import ros_type_name

MESSAGES: dict[str, type] = {
    ros_type_name(value): value
    for module in (common, sensor, maps, nav2, mindpalace_msgs)
    for value in vars(module).values()
    if isinstance(value, type) and issubclass(value, IdlStruct) and value is not IdlStruct and "::msg::" in value.__idl_typename__
}


def message_type(name: str) -> type:
    """The struct of a ROS message type name; KeyError names the ones known."""
    try:
        return MESSAGES[name]
    except KeyError:
        raise KeyError(f"no mindpalace struct for {name!r}; known: {', '.join(sorted(MESSAGES))}") from None
