"""The DDS transport: ROS 2 on the wire through cyclonedds, without a ROS installation.

What makes a ROS 2 node on the same domain see our endpoints and us see theirs:
- topic names: ROS name "/camera/image" is DDS topic "rt/camera/image"; a service "/memory/query" is the request
  topic "rq/memory/queryRequest" and the reply topic "rr/memory/queryReply";
- type names: "sensor_msgs::msg::dds_::Image_" (the IDL structs in `mindpalace.ros.messages`);
- CDR: XCDR1 little-endian, as rmw_cyclonedds writes it (tests compare it byte for byte with rosbags');
- requests and replies carry rmw_cyclonedds' header first: the client's 64-bit id and a 64-bit sequence number.
  Topics interoperate with any RMW; this service layout only with rmw_cyclonedds (RMW_IMPLEMENTATION=
  rmw_cyclonedds_cpp on the ROS 2 side).

`CYCLONEDDS_URI` configures cyclonedds as usual; `interface="lo"` instead confines one transport to that network
interface with unicast discovery (what tests and `mindpalace ros e2e` use: nothing leaves the machine).
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import struct
import threading
import time
import types
import typing
from collections.abc import Callable
from typing import Any

from cyclonedds._clayer import ddspy_take, ddspy_write
from cyclonedds.core import GuardCondition, InstanceState, Policy, Qos, ReadCondition, SampleState, ViewState, WaitSet
from cyclonedds.domain import Domain, DomainParticipant
from cyclonedds.idl import IdlStruct
from cyclonedds.idl import types as t
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic
from cyclonedds.util import duration

from mindpalace.ros.messages.interfaces import ServiceType
from mindpalace.ros.qos import SERVICES, QosProfile
from mindpalace.ros.transport import TransportError, TransportStats, resolve

log = logging.getLogger(__name__)

_ANY = SampleState.Any | ViewState.Any | InstanceState.Any
_ENCAPSULATION = b"\x00\x01\x00\x00"  # CDR little-endian, no options
_REQUEST_HEADER = struct.Struct("<Qq")  # rmw_cyclonedds' cdds_request_header_t: client id, sequence number
_BATCH = 64


def loopback_config(interface: str = "lo", max_participants: int = 60) -> str:
    """cyclonedds configuration for one network interface with unicast discovery of peers on this host."""
    return (
        '<CycloneDDS><Domain id="any"><General><Interfaces>'
        f'<NetworkInterface name="{interface}"/></Interfaces><AllowMulticast>false</AllowMulticast></General>'
        "<Discovery><ParticipantIndex>auto</ParticipantIndex>"
        f"<MaxAutoParticipantIndex>{max_participants}</MaxAutoParticipantIndex>"
        '<Peers><Peer address="127.0.0.1"/></Peers></Discovery>'
        # Room for a few 640x480 RGB-D frames in the socket while a busy process catches up (up to net.core.rmem_max).
        '<Internal><SocketReceiveBufferSize min="default" max="8MB"/></Internal></Domain></CycloneDDS>'
    )


_domains: dict[int, tuple[str, Domain]] = {}  # a process configures each domain id once
_domains_lock = threading.Lock()


def _configure_domain(domain_id: int, interface: str) -> None:
    with _domains_lock:
        known = _domains.get(domain_id)
        if known is None:
            _domains[domain_id] = (interface, Domain(domain_id, loopback_config(interface)))
        elif known[0] != interface:
            raise TransportError(f"domain {domain_id} is already configured for interface {known[0]!r} in this process")


def dds_qos(profile: QosProfile, user_data: bytes | None = None) -> Qos:
    policies = [
        Policy.Reliability.Reliable(duration(seconds=1)) if profile.reliable else Policy.Reliability.BestEffort,
        Policy.Durability.TransientLocal if profile.transient_local else Policy.Durability.Volatile,
        Policy.History.KeepLast(profile.depth),
    ]
    if user_data is not None:
        policies.append(Policy.Userdata(user_data))
    return Qos(*policies)


_wire_types: dict[type[IdlStruct], type[IdlStruct]] = {}


def wire_type(msg_type: type[IdlStruct]) -> type[IdlStruct]:
    """The struct a request or reply is on the wire: rmw_cyclonedds' header, then the message's fields.

    cyclonedds checks written samples against the topic's type, so the topic is made with this struct; it keeps
    the message's DDS type name (rmw_cyclonedds offers no type object, so endpoints match on that name).
    """
    with _domains_lock:
        wire = _wire_types.get(msg_type)
        if wire is None:
            assert dataclasses.is_dataclass(msg_type), f"{msg_type.__name__}: message structs are dataclasses"
            hints = typing.get_type_hints(msg_type, include_extras=True)
            fields = [f.name for f in dataclasses.fields(msg_type)]

            def body(namespace: dict[str, Any]) -> None:
                # Never instantiated: it describes the bytes, which are written and read as header + message.
                namespace["__annotations__"] = {"client_id_": t.uint64, "sequence_": t.int64, **{f: hints[f] for f in fields}}
                namespace.update(dict.fromkeys(namespace["__annotations__"]))

            typename = msg_type.__idl_typename__
            wire = _wire_types[msg_type] = dataclasses.dataclass(
                types.new_class(f"{msg_type.__name__}Wire", (IdlStruct,), {"typename": typename}, body)
            )
        return wire


def _padded(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % 4)


class DdsPublisher:
    def __init__(self, writer: DataWriter, msg_type: type[IdlStruct]) -> None:
        self._writer = writer
        self._type = msg_type

    def publish(self, msg: Any) -> None:
        if not isinstance(msg, self._type):
            raise TypeError(f"{type(msg).__name__} published on a {self._type.__name__} topic")
        self._writer.write(msg)

    def publish_raw(self, cdr: bytes) -> None:
        """Serialized CDR (encapsulation header included), e.g. from a bag."""
        if ddspy_write(self._writer._ref, _padded(cdr)) < 0:
            raise TransportError("cannot write")

    def subscribers(self) -> int:
        return len(self._writer.get_matched_subscriptions())


class DdsClient:
    """A service client in rmw_cyclonedds' layout: its id is its request writer's instance handle."""

    def __init__(self, transport: DdsTransport, service: str, srv: ServiceType) -> None:
        self._srv = srv
        user_data = f"clientid={transport.next_endpoint_id()};".encode()
        qos = dds_qos(SERVICES, user_data)
        self._writer = DataWriter(transport.participant, transport.topic(f"rq{service}Request", wire_type(srv.request)), qos)
        self._reader = DataReader(transport.participant, transport.topic(f"rr{service}Reply", wire_type(srv.response)), qos)
        self._id = self._writer.get_instance_handle() & 0xFFFFFFFFFFFFFFFF  # as rmw_cyclonedds: uint64
        self._waitset = WaitSet(transport.participant)
        self._waitset.attach(ReadCondition(self._reader, _ANY))
        self._sequence = itertools.count(1)
        self._lock = threading.Lock()
        self.name = service

    def wait_for_service(self, timeout_s: float) -> bool:
        """True once a server's request reader and reply writer are both matched."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if self._writer.get_matched_subscriptions() and self._reader.get_matched_publications():
                return True
            time.sleep(0.01)
        return False

    def call(self, request: Any, timeout_s: float = 5.0) -> Any:
        if not isinstance(request, self._srv.request):
            raise TypeError(f"{type(request).__name__} is not a {self._srv.name} request")
        with self._lock:  # one call at a time per client: replies are matched by sequence number
            sequence = next(self._sequence)
            body = request.serialize()
            if ddspy_write(self._writer._ref, _padded(_ENCAPSULATION + _REQUEST_HEADER.pack(self._id, sequence) + body[4:])) < 0:
                raise TransportError(f"{self.name}: cannot write the request")
            end = time.monotonic() + timeout_s
            while (left := end - time.monotonic()) > 0:
                self._waitset.wait(duration(seconds=left))
                for data, info in ddspy_take(self._reader._ref, _ANY, _BATCH):
                    if not info.valid_data or len(data) < 4 + _REQUEST_HEADER.size:
                        continue
                    client, number = _REQUEST_HEADER.unpack_from(data, 4)
                    if client == self._id and number == sequence:
                        return self._srv.response.deserialize(_ENCAPSULATION + data[4 + _REQUEST_HEADER.size :])
            raise TransportError(f"{self.name}: no reply within {timeout_s:.1f} s")


class DdsTransport:
    """One DDS participant for one node. `close()` stops its threads and deletes its entities."""

    name = "dds"

    def __init__(self, node_name: str, *, domain_id: int = 0, interface: str | None = None, namespace: str = "/") -> None:
        if not 0 <= domain_id <= 232:
            raise ValueError(f"a ROS domain id is 0..232, got {domain_id}")
        self.node_name = node_name
        self.namespace = namespace
        if interface:
            _configure_domain(domain_id, interface)
        self.participant = DomainParticipant(domain_id)
        self.stats = TransportStats()
        self._topics: dict[str, Topic] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._subscriptions: list[tuple[str, DataReader, type[IdlStruct], Callable[[Any], None]]] = []
        self._waitset = WaitSet(self.participant)
        self._wake = GuardCondition(self.participant)
        self._waitset.attach(self._wake)
        self._threads: list[threading.Thread] = []
        self._keep: list[Any] = []  # entities that must outlive their Python references
        self._start(self._dispatch_subscriptions, f"{node_name}-subscriptions")

    # ------------------------------------------------------------------ entities
    def next_endpoint_id(self) -> str:
        """A unique id for a client or service in this process: the participant's GUID and a counter."""
        return f"{self.participant.guid.hex}.{next(self._ids)}"

    def topic(self, dds_name: str, msg_type: type[IdlStruct]) -> Topic:
        with self._lock:
            topic = self._topics.get(dds_name)
            if topic is None:
                topic = self._topics[dds_name] = Topic(self.participant, dds_name, msg_type)
            elif topic.data_type is not msg_type:
                raise TransportError(f"{dds_name} is already used with type {topic.data_type.__name__}")
            return topic

    def publisher(self, topic: str, msg_type: type[IdlStruct], qos: QosProfile) -> DdsPublisher:
        """A writer that lives as long as the transport (a transient local sample stays offered after a one-off publish)."""
        name = resolve(topic, self.namespace)
        writer = DataWriter(self.participant, self.topic(f"rt{name}", msg_type), dds_qos(qos))
        with self._lock:
            self._keep.append(writer)
        return DdsPublisher(writer, msg_type)

    def subscribe(self, topic: str, msg_type: type[IdlStruct], qos: QosProfile, callback: Callable[[Any], None]) -> None:
        name = resolve(topic, self.namespace)
        reader = DataReader(self.participant, self.topic(f"rt{name}", msg_type), dds_qos(qos))
        condition = ReadCondition(reader, _ANY)
        with self._lock:
            self._subscriptions.append((name, reader, msg_type, callback))
            self._keep.append(condition)
        self._waitset.attach(condition)

    def serve(self, service: str, srv: ServiceType, handler: Callable[[Any], Any]) -> None:
        name = resolve(service, self.namespace)
        qos = dds_qos(SERVICES, f"serviceid={self.next_endpoint_id()};".encode())
        reader = DataReader(self.participant, self.topic(f"rq{name}Request", wire_type(srv.request)), qos)
        writer = DataWriter(self.participant, self.topic(f"rr{name}Reply", wire_type(srv.response)), qos)
        waitset = WaitSet(self.participant)
        waitset.attach(ReadCondition(reader, _ANY))
        self._keep += [reader, writer, waitset]
        self._start(lambda: self._serve(name, srv, handler, reader, writer, waitset), f"{self.node_name}-service{name}")

    def client(self, service: str, srv: ServiceType) -> DdsClient:
        return DdsClient(self, resolve(service, self.namespace), srv)

    def close(self) -> None:
        self._closing.set()
        self._wake.set(True)
        for thread in self._threads:
            thread.join(timeout=2.0)
        self._subscriptions.clear()
        self._keep.clear()
        self._topics.clear()

    def __enter__(self) -> DdsTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ threads
    def _start(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _dispatch_subscriptions(self) -> None:
        while not self._closing.is_set():
            self._waitset.wait(duration(milliseconds=200))
            with self._lock:
                subscriptions = list(self._subscriptions)
            for name, reader, msg_type, callback in subscriptions:
                for data, info in ddspy_take(reader._ref, _ANY, _BATCH):
                    if not info.valid_data:
                        continue
                    self.stats.received[name] = self.stats.received.get(name, 0) + 1
                    try:
                        msg = msg_type.deserialize(data)
                    except Exception as error:  # bytes that are not this type: counted, never passed on
                        self.stats.undecodable[name] = self.stats.undecodable.get(name, 0) + 1
                        log.warning("%s: undecodable %s message dropped: %s", name, msg_type.__name__, error)
                        continue
                    try:
                        callback(msg)
                    except Exception:
                        log.exception("%s: callback failed", name)

    def _serve(
        self, name: str, srv: ServiceType, handler: Callable[[Any], Any], reader: DataReader, writer: DataWriter, waitset: WaitSet
    ) -> None:
        header = _REQUEST_HEADER.size
        while not self._closing.is_set():
            waitset.wait(duration(milliseconds=200))
            for data, info in ddspy_take(reader._ref, _ANY, _BATCH):
                if not info.valid_data or len(data) < 4 + header:
                    continue
                self.stats.received[name] = self.stats.received.get(name, 0) + 1
                prefix = data[4 : 4 + header]
                try:
                    request = srv.request.deserialize(_ENCAPSULATION + data[4 + header :])
                except Exception as error:
                    self.stats.undecodable[name] = self.stats.undecodable.get(name, 0) + 1
                    log.warning("%s: undecodable request dropped: %s", name, error)
                    continue
                try:
                    response = handler(request)
                except Exception:
                    log.exception("%s: handler failed; no reply", name)
                    continue
                ddspy_write(writer._ref, _padded(_ENCAPSULATION + prefix + response.serialize()[4:]))
