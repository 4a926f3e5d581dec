"""QoS profiles, as ROS 2 names them (rmw_qos_profile_*), for both transports.

A best-effort reader matches reliable and best-effort writers; a reliable reader misses best-effort writers. So
sensor streams are read best effort (what any camera driver offers matches), and what a late joiner must get
(/tf_static, the map, the scene graph, an action's status) is reliable and transient local.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QosProfile:
    reliable: bool = True
    transient_local: bool = False  # a late-joining reader gets the last `depth` samples of each writer
    depth: int = 10  # keep last


SENSOR_DATA = QosProfile(reliable=False, depth=5)  # rmw_qos_profile_sensor_data
DEFAULT = QosProfile()  # rmw_qos_profile_default
SERVICES = QosProfile()  # rmw_qos_profile_services_default
TRANSIENT_LOCAL = QosProfile(transient_local=True, depth=1)  # /tf_static (tf2's static broadcaster), latched maps
TF = QosProfile(depth=100)  # tf2's dynamic broadcaster and listener
ACTION_STATUS = QosProfile(transient_local=True, depth=1)  # rcl_action_qos_profile_status_default

PROFILES = {"sensor_data": SENSOR_DATA, "default": DEFAULT, "transient_local": TRANSIENT_LOCAL}


def profile(name: str) -> QosProfile:
    """A profile by the name a parameter file gives it."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown QoS profile {name!r}; known: {', '.join(PROFILES)}") from None
