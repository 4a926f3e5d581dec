"""The transport seam: what the nodes need from ROS 2 (topics, services), and the two transports behind it.

- `dds`: DDS on the wire through cyclonedds, with ROS 2's topic and type names and CDR, so ROS 2 nodes on the
  same network (and domain) see our topics. It needs no ROS installation.
- `rclpy`: ROS 2's own client library, where ROS 2 is installed (imported only when chosen).

Actions are built on these primitives (`mindpalace.ros.actions`), as rcl_action builds them.
Callbacks run on the transport's threads: subscriptions one after another on one thread, each service on its
own thread (a service handler may block, e.g. an action's get_result until the goal ends).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from mindpalace.ros.messages.idl import IdlStruct
from mindpalace.ros.messages.interfaces import ServiceType
from mindpalace.ros.qos import QosProfile

log = logging.getLogger(__name__)

TRANSPORTS = ("dds", "rclpy")


class TransportError(RuntimeError):
    """A transport that cannot start, a service that does not answer in time."""


class Publisher(Protocol):
    def publish(self, msg: Any) -> None: ...

    def subscribers(self) -> int:
        """Readers matched now."""
        ...


class Client(Protocol):
    def call(self, request: Any, timeout_s: float = 5.0) -> Any:
        """The response, or TransportError when none comes within the timeout."""
        ...

    def wait_for_service(self, timeout_s: float) -> bool: ...


@dataclass
class TransportStats:
    """Messages received per topic, and those that could not be decoded (never passed to a callback)."""

    received: dict[str, int] = field(default_factory=dict)
    undecodable: dict[str, int] = field(default_factory=dict)


class Transport(Protocol):
    name: str
    stats: TransportStats

    def publisher(self, topic: str, msg_type: type[IdlStruct], qos: QosProfile) -> Publisher: ...

    def subscribe(self, topic: str, msg_type: type[IdlStruct], qos: QosProfile, callback: Callable[[Any], None]) -> None: ...

    def serve(self, service: str, srv: ServiceType, handler: Callable[[Any], Any]) -> None: ...

    def client(self, service: str, srv: ServiceType) -> Client: ...

    def close(self) -> None: ...


def resolve(name: str, namespace: str = "/") -> str:
    """A ROS name made absolute: "camera/image" in namespace "/robot" -> "/robot/camera/image"."""
    if not name or any(c.isspace() for c in name):
        raise ValueError(f"not a ROS name: {name!r}")
    if name.startswith("/"):
        return name
    return "/" + "/".join(part for part in (*namespace.strip("/").split("/"), *name.split("/")) if part)


def make_transport(kind: str, node_name: str, *, domain_id: int = 0, interface: str | None = None) -> Transport:
    """The transport `kind` ("dds" or "rclpy") for one node."""
    if kind == "dds":
        from mindpalace.ros.dds import DdsTransport

        return DdsTransport(node_name, domain_id=domain_id, interface=interface)
    if kind == "rclpy":
        from mindpalace.ros.rclpy_transport import RclpyTransport

        return RclpyTransport(node_name, domain_id=domain_id)
    raise ValueError(f"unknown transport {kind!r}; known: {', '.join(TRANSPORTS)}")
