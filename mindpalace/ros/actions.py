"""ROS 2 actions on the transport seam, laid out as rcl_action lays them out, so rclpy and rclcpp peers interoperate.

An action `/name` is the services `/name/_action/send_goal`, `/name/_action/get_result` and
`/name/_action/cancel_goal`, the topic `/name/_action/feedback` and the topic `/name/_action/status` (transient
local). The server runs each accepted goal on a thread of its own; get_result answers when the goal ends.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mindpalace.ros.messages.common import (
    UUID,
    CancelGoalRequest,
    CancelGoalResponse,
    GoalInfo,
    GoalStatus,
    GoalStatusArray,
    Time,
)
from mindpalace.ros.messages.interfaces import CANCEL_GOAL, ActionType, build
from mindpalace.ros.qos import ACTION_STATUS, DEFAULT
from mindpalace.ros.transport import Transport, TransportError

log = logging.getLogger(__name__)

TERMINAL = (GoalStatus.STATUS_SUCCEEDED, GoalStatus.STATUS_CANCELED, GoalStatus.STATUS_ABORTED)


@dataclass
class GoalHandle:
    """One accepted goal, as its execute function sees it."""

    goal_id: bytes
    goal: Any
    stamp: Time
    status: int = GoalStatus.STATUS_ACCEPTED
    result: Any = None
    cancel_requested: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    publish_feedback: Callable[[Any], None] = lambda feedback: None

    def abort(self) -> None:
        """End the goal as aborted (the result returned by execute is still sent)."""
        self.status = GoalStatus.STATUS_ABORTED

    def canceled(self) -> None:
        self.status = GoalStatus.STATUS_CANCELED


class ActionServer:
    """Serves one action: `execute(handle)` returns the result; it may publish feedback and check for cancellation."""

    def __init__(self, transport: Transport, name: str, action: ActionType, execute: Callable[[GoalHandle], Any]) -> None:
        self.action = action
        self._execute = execute
        self._goals: dict[bytes, GoalHandle] = {}
        self._lock = threading.Lock()
        self._feedback = transport.publisher(f"{name}/_action/feedback", action.feedback_message, DEFAULT)
        self._status = transport.publisher(f"{name}/_action/status", GoalStatusArray, ACTION_STATUS)
        transport.serve(f"{name}/_action/send_goal", action.send_goal, self._send_goal)
        transport.serve(f"{name}/_action/get_result", action.get_result, self._get_result)
        transport.serve(f"{name}/_action/cancel_goal", CANCEL_GOAL, self._cancel_goal)

    def _send_goal(self, request: Any) -> Any:
        goal_id = bytes(request.goal_id.uuid)
        handle = GoalHandle(goal_id, request.goal, Time.from_seconds(time.time()))
        handle.publish_feedback = lambda feedback: self._feedback.publish(
            build(self.action.feedback_message, UUID(goal_id), feedback)
        )
        with self._lock:
            if goal_id in self._goals:
                return build(self.action.send_goal.response, False, handle.stamp)
            self._goals[goal_id] = handle
        self._publish_status()
        threading.Thread(target=self._run, args=(handle,), name=f"goal-{goal_id.hex()[:8]}", daemon=True).start()
        return build(self.action.send_goal.response, True, handle.stamp)

    def _run(self, handle: GoalHandle) -> None:
        handle.status = GoalStatus.STATUS_EXECUTING
        self._publish_status()
        try:
            result = self._execute(handle)
        except Exception:
            log.exception("%s: goal %s failed", self.action.name, handle.goal_id.hex())
            result, handle.status = self.action.result(), GoalStatus.STATUS_ABORTED
        handle.result = result if result is not None else self.action.result()
        if handle.status not in TERMINAL:
            handle.status = GoalStatus.STATUS_SUCCEEDED
        handle.done.set()
        self._publish_status()

    def _get_result(self, request: Any) -> Any:
        with self._lock:
            handle = self._goals.get(bytes(request.goal_id.uuid))
        if handle is None:
            return build(self.action.get_result.response, GoalStatus.STATUS_UNKNOWN, self.action.result())
        handle.done.wait()
        return build(self.action.get_result.response, handle.status, handle.result)

    def _cancel_goal(self, request: CancelGoalRequest) -> CancelGoalResponse:
        with self._lock:
            handle = self._goals.get(bytes(request.goal_info.goal_id.uuid))
        if handle is None:
            return CancelGoalResponse(CancelGoalResponse.ERROR_UNKNOWN_GOAL_ID, [])
        if handle.done.is_set():
            return CancelGoalResponse(CancelGoalResponse.ERROR_GOAL_TERMINATED, [])
        handle.cancel_requested.set()
        handle.status = GoalStatus.STATUS_CANCELING
        self._publish_status()
        return CancelGoalResponse(CancelGoalResponse.ERROR_NONE, [GoalInfo(UUID(handle.goal_id), handle.stamp)])

    def _publish_status(self) -> None:
        with self._lock:
            statuses = [GoalStatus(GoalInfo(UUID(h.goal_id), h.stamp), h.status) for h in self._goals.values()]
        self._status.publish(GoalStatusArray(statuses))


class ActionClient:
    """Sends goals to one action server and waits for their results."""

    def __init__(self, transport: Transport, name: str, action: ActionType) -> None:
        self.action = action
        self.name = name
        self._send_goal = transport.client(f"{name}/_action/send_goal", action.send_goal)
        self._get_result = transport.client(f"{name}/_action/get_result", action.get_result)
        self._cancel = transport.client(f"{name}/_action/cancel_goal", CANCEL_GOAL)
        self._listeners: dict[bytes, Callable[[Any], None]] = {}
        transport.subscribe(f"{name}/_action/feedback", action.feedback_message, DEFAULT, self._on_feedback)

    def wait_for_server(self, timeout_s: float) -> bool:
        end = time.monotonic() + timeout_s
        return all(client.wait_for_service(max(0.0, end - time.monotonic())) for client in (self._send_goal, self._get_result))

    def _on_feedback(self, msg: Any) -> None:
        listener = self._listeners.get(bytes(msg.goal_id.uuid))
        if listener is not None:
            listener(msg.feedback)

    def run(
        self,
        goal: Any,
        feedback: Callable[[Any], None] | None = None,
        timeout_s: float = 600.0,
        cancel: threading.Event | None = None,
    ) -> tuple[int, Any]:
        """Send a goal and wait for its end: (final GoalStatus, result). A rejected goal is (STATUS_UNKNOWN, None).

        `cancel`, when set while the goal runs, asks the server to cancel it.
        """
        goal_id = uuid.uuid4().bytes
        finished = threading.Event()
        if feedback is not None:
            self._listeners[goal_id] = feedback
        try:
            accepted = self._send_goal.call(build(self.action.send_goal.request, UUID(goal_id), goal), timeout_s=10.0)
            if not accepted.accepted:
                return GoalStatus.STATUS_UNKNOWN, None
            if cancel is not None:
                threading.Thread(target=self._cancel_when, args=(cancel, finished, goal_id), daemon=True).start()
            response = self._get_result.call(build(self.action.get_result.request, UUID(goal_id)), timeout_s=timeout_s)
            return int(response.status), response.result
        finally:
            finished.set()
            self._listeners.pop(goal_id, None)

    def _cancel_when(self, cancel: threading.Event, finished: threading.Event, goal_id: bytes) -> None:
        while not finished.is_set():
            if cancel.wait(0.1):
                try:
                    self._cancel.call(CancelGoalRequest(GoalInfo(UUID(goal_id))), timeout_s=5.0)
                except TransportError:
                    log.warning("%s: cancel of %s got no reply", self.name, goal_id.hex())
                return
