"""The rclpy transport: the same seam on ROS 2's own client library, where ROS 2 is installed.

Messages stay mindpalace's IDL structs in the nodes; here they are copied field by field to and from the
generated rclpy classes of the same ROS type. rclpy is imported when this transport is made, and a machine
without ROS 2 gets a message that says what to do.
"""

from __future__ import annotations

import dataclasses
import threading
import typing
from collections.abc import Callable
from typing import Any

from cyclonedds.idl import IdlStruct

from mindpalace.ros.messages.idl import ros_type_name
from mindpalace.ros.messages.interfaces import ServiceType
from mindpalace.ros.qos import QosProfile
from mindpalace.ros.transport import TransportError, TransportStats, resolve

INSTALL_HINT = (
    "rclpy is not importable: source a ROS 2 installation first (e.g. `source /opt/ros/jazzy/setup.bash`, and "
    "build ros/mindpalace_msgs with colcon), or use the DDS transport (`--transport dds`), which needs no ROS 2"
)


def _import_rclpy() -> Any:
    try:
        import rclpy
    except ImportError as error:
        raise TransportError(INSTALL_HINT) from error
    return rclpy


def ros_class(name: str) -> Any:
    """The rclpy class of a ROS type name: pkg/msg/Name, pkg/srv/Name, pkg/action/Name and its parts."""
    from rosidl_runtime_py.utilities import get_action, get_message, get_service

    package, kind, base = name.split("/")
    if kind == "msg":
        return get_message(name)
    if kind == "srv":
        return get_service(name)
    parts = {"_Goal": "Goal", "_Result": "Result", "_Feedback": "Feedback", "_FeedbackMessage": "Impl.FeedbackMessage"}
    parts |= {"_SendGoal": "Impl.SendGoalService", "_GetResult": "Impl.GetResultService"}
    for suffix, attribute in sorted(parts.items(), key=lambda item: -len(item[0])):
        if base.endswith(suffix):
            found: Any = get_action(f"{package}/action/{base.removesuffix(suffix)}")
            for step in attribute.split("."):
                found = getattr(found, step)
            return found
    return get_action(name)


def _element_type(annotation: Any) -> Any:
    """The element type of a sequence or array field, or the field's own type."""
    for meta in getattr(annotation, "__metadata__", ()):
        subtype = getattr(meta, "subtype", None)
        if subtype is not None:
            return subtype
    return annotation


def to_ros(msg: Any, cls: Any) -> Any:
    """An rclpy message of class `cls` with the fields of one of our structs."""
    out = cls()
    hints = typing.get_type_hints(type(msg), include_extras=True)
    for f in dataclasses.fields(msg):
        value = getattr(msg, f.name)
        element = _element_type(hints[f.name])
        if isinstance(value, IdlStruct):
            value = to_ros(value, type(getattr(out, f.name)))
        elif isinstance(value, list) and isinstance(element, type) and issubclass(element, IdlStruct):
            value = [to_ros(v, ros_class(ros_type_name(element))) for v in value]
        setattr(out, f.name, value)
    return out


def from_ros(ros_msg: Any, cls: type) -> Any:
    """One of our structs of class `cls` from an rclpy message of the same ROS type."""
    hints = typing.get_type_hints(cls, include_extras=True)
    values = {}
    for f in dataclasses.fields(cls):
        value = getattr(ros_msg, f.name)
        annotation = hints[f.name]
        element = _element_type(annotation)
        if isinstance(annotation, type) and issubclass(annotation, IdlStruct):
            value = from_ros(value, annotation)
        elif isinstance(element, type) and issubclass(element, IdlStruct):
            value = [from_ros(v, element) for v in value]
        elif isinstance(value, str | bool | int | float):
            pass
        elif element is not annotation and getattr(element, "__name__", "") in ("uint8", "int8"):
            value = bytes(value) if not hasattr(value, "tobytes") else value.tobytes()
        else:
            value = list(value)
        values[f.name] = value
    return cls(**values)


def _qos(profile: QosProfile) -> Any:
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=profile.depth,
        reliability=ReliabilityPolicy.RELIABLE if profile.reliable else ReliabilityPolicy.BEST_EFFORT,
        durability=DurabilityPolicy.TRANSIENT_LOCAL if profile.transient_local else DurabilityPolicy.VOLATILE,
    )


class RclpyPublisher:
    def __init__(self, publisher: Any, cls: Any) -> None:
        self._publisher = publisher
        self._cls = cls

    def publish(self, msg: Any) -> None:
        self._publisher.publish(to_ros(msg, self._cls))

    def subscribers(self) -> int:
        return int(self._publisher.get_subscription_count())


class RclpyClient:
    def __init__(self, client: Any, srv: ServiceType, cls: Any) -> None:
        self._client = client
        self._srv = srv
        self._cls = cls

    def wait_for_service(self, timeout_s: float) -> bool:
        return bool(self._client.wait_for_service(timeout_sec=timeout_s))

    def call(self, request: Any, timeout_s: float = 5.0) -> Any:
        future = self._client.call_async(to_ros(request, self._cls.Request))
        done = threading.Event()
        future.add_done_callback(lambda _: done.set())
        if not done.wait(timeout_s):
            future.cancel()
            raise TransportError(f"{self._srv.name}: no reply within {timeout_s:.1f} s")
        return from_ros(future.result(), self._srv.response)


class RclpyTransport:
    """One rclpy node, spun by a multi-threaded executor on a thread of its own."""

    name = "rclpy"

    def __init__(self, node_name: str, *, domain_id: int = 0) -> None:
        rclpy = _import_rclpy()
        from rclpy.callback_groups import ReentrantCallbackGroup
        from rclpy.executors import MultiThreadedExecutor

        self._context = rclpy.context.Context()
        rclpy.init(context=self._context, domain_id=domain_id)
        self.node = rclpy.create_node(node_name, context=self._context)
        self.stats = TransportStats()
        self._group = ReentrantCallbackGroup()
        self._executor = MultiThreadedExecutor(context=self._context)
        self._executor.add_node(self.node)
        self._thread = threading.Thread(target=self._executor.spin, name=f"{node_name}-rclpy", daemon=True)
        self._thread.start()

    def publisher(self, topic: str, msg_type: type[IdlStruct], qos: QosProfile) -> RclpyPublisher:
        cls = ros_class(ros_type_name(msg_type))
        return RclpyPublisher(self.node.create_publisher(cls, resolve(topic), _qos(qos)), cls)

    def subscribe(self, topic: str, msg_type: type[IdlStruct], qos: QosProfile, callback: Callable[[Any], None]) -> None:
        name = resolve(topic)

        def receive(ros_msg: Any) -> None:
            self.stats.received[name] = self.stats.received.get(name, 0) + 1
            callback(from_ros(ros_msg, msg_type))

        cls = ros_class(ros_type_name(msg_type))
        self.node.create_subscription(cls, name, receive, _qos(qos), callback_group=self._group)

    def serve(self, service: str, srv: ServiceType, handler: Callable[[Any], Any]) -> None:
        cls = ros_class(srv.name)

        def answer(request: Any, response: Any) -> Any:
            return to_ros(handler(from_ros(request, srv.request)), type(response))

        self.node.create_service(cls, resolve(service), answer, callback_group=self._group)

    def client(self, service: str, srv: ServiceType) -> RclpyClient:
        cls = ros_class(srv.name)
        return RclpyClient(self.node.create_client(cls, resolve(service), callback_group=self._group), srv, cls)

    def close(self) -> None:
        self._executor.shutdown()
        self.node.destroy_node()
        self._context.try_shutdown()
        self._thread.join(timeout=2.0)
