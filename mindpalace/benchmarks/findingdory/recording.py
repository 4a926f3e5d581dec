"""A recorded day on disk: every frame the robot saw, its poses and times, and the actions it took with their outcomes.

Written once by the benchmark while the oracle lives the day; read by any agent's replay. It holds only
what the robot itself sensed and did (no ground truth, not even the apartment's seed), so replaying it is
the same experience as living it.

Layout of a recording folder:
    meta.json            format version, frame count, camera intrinsics, the robot, the floor plan, the day's
                         clock, the instances seen (what a ground-truth segmenter reports), write statistics
    steps.jsonl          per frame: the action that led to it (null for the first) and its outcome
    chunk_NNNNN.npz      64 frames each: PNG-encoded RGB, depth (uint16 millimetres, 0 = no reading) and
                         segmentation (uint16 instance ids), camera and base poses, simulated times

Depth is kept to the millimetre (the simulator renders float32 metres); everything else is lossless.
`meta.json` is written last: a folder without it is an unfinished recording.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from mindpalace.benchmarks.findingdory.clock import DayClock
from mindpalace.core.actions import Action, ActionOutcome, FailureReason, action_from_dict, action_to_dict
from mindpalace.core.env import FloorPlan
from mindpalace.core.robot import HeadLimits, RobotDescription
from mindpalace.core.types import CameraInfo, InstanceInfo, Observation

FORMAT_VERSION = 1
CHUNK_FRAMES = 64
META = "meta.json"
STEPS = "steps.jsonl"
MAX_DEPTH_MM = 65535


class RecordingError(ValueError):
    """A recording folder that cannot be read: missing, unfinished, or of another format version."""


@dataclass
class RecordingMeta:
    version: int
    frames: int
    chunk_frames: int
    camera: CameraInfo
    robot: RobotDescription
    floor_plan: FloorPlan
    instances: dict[int, InstanceInfo]
    clock: DayClock
    bytes: int  # the recording's size on disk
    write_s: float  # seconds spent encoding and writing frames (the recorder's own cost, not the simulation's)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "frames": self.frames,
            "chunk_frames": self.chunk_frames,
            "camera": asdict(self.camera),
            "robot": robot_to_dict(self.robot),
            "floor_plan": [[name, [list(p) for p in polygon]] for name, polygon in self.floor_plan],
            "instances": {str(i): asdict(info) for i, info in sorted(self.instances.items())},
            "clock": self.clock.to_dict(),
            "bytes": self.bytes,
            "write_s": self.write_s,
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> RecordingMeta:
        return RecordingMeta(
            version=int(data["version"]),
            frames=int(data["frames"]),
            chunk_frames=int(data["chunk_frames"]),
            camera=CameraInfo(**data["camera"]),
            robot=robot_from_dict(data["robot"]),
            floor_plan=[(str(name), [(float(x), float(y)) for x, y in polygon]) for name, polygon in data["floor_plan"]],
            instances={int(i): InstanceInfo(**info) for i, info in data["instances"].items()},
            clock=DayClock.from_dict(data["clock"]),
            bytes=int(data["bytes"]),
            write_s=float(data["write_s"]),
        )


def robot_to_dict(robot: RobotDescription) -> dict[str, Any]:
    data = asdict(robot)
    data["manipulation"] = sorted(robot.manipulation)
    return data


def robot_from_dict(data: dict[str, Any]) -> RobotDescription:
    head = data.get("head")
    return RobotDescription(
        name=data["name"],
        footprint_radius=float(data["footprint_radius"]),
        reach=float(data["reach"]),
        hand_offset=tuple(data["hand_offset"]),
        head=HeadLimits(tuple(head["pivot"]), tuple(head["pan"]), tuple(head["tilt"])) if head else None,
        max_linear=float(data["max_linear"]),
        max_angular=float(data["max_angular"]),
        manipulation=frozenset(data["manipulation"]),
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _png(array: NDArray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _unpng(data: bytes) -> NDArray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image)


def _pack(blobs: list[bytes]) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    offsets = np.zeros(len(blobs) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(b) for b in blobs])
    return np.frombuffer(b"".join(blobs), dtype=np.uint8), offsets


class RecordingWriter:
    """Appends frames to a recording folder; `close(clock)` finishes it (writes the meta last)."""

    def __init__(self, folder: Path, camera: CameraInfo, robot: RobotDescription, floor_plan: FloorPlan) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.camera, self.robot, self.floor_plan = camera, robot, floor_plan
        self.frames = 0
        self.write_s = 0.0
        self.instances: dict[int, InstanceInfo] = {}
        self._buffer: list[tuple[bytes, bytes, bytes, NDArray, NDArray, float]] = []
        self._chunk = 0
        self._steps = (self.folder / STEPS).open("w")

    def add(self, obs: Observation, action: Action | None) -> None:
        """Frame `obs`, reached by `action` (None for the first frame, after reset)."""
        started = time.perf_counter()
        if obs.segmentation is None:
            raise ValueError("a recorded frame needs its segmentation")
        if obs.segmentation.max(initial=0) > np.iinfo(np.uint16).max:
            raise ValueError("instance ids above 65535 do not fit the recording's segmentation format")
        depth_mm = np.clip(np.round(np.nan_to_num(obs.depth, nan=0.0, posinf=0.0) * 1000.0), 0, MAX_DEPTH_MM).astype(np.uint16)
        self._buffer.append(
            (
                _png(obs.rgb),
                _png(depth_mm),
                _png(obs.segmentation.astype(np.uint16)),
                np.asarray(obs.camera_pose, dtype=np.float64),
                np.asarray(obs.base_pose, dtype=np.float64),
                float(obs.time_s),
            )
        )
        self.instances.update(obs.instances)
        step = {
            "action": action_to_dict(action) if action is not None else None,
            "outcome": obs.last_outcome.to_dict() if obs.last_outcome is not None else None,
        }
        self._steps.write(json.dumps(step, default=_json_default) + "\n")
        self.frames += 1
        if len(self._buffer) == CHUNK_FRAMES:
            self._flush()
        self.write_s += time.perf_counter() - started

    def _flush(self) -> None:
        if not self._buffer:
            return
        rgb, depth, seg, camera_poses, base_poses, times = zip(*self._buffer)
        arrays: dict[str, NDArray[Any]] = {}
        for name, blobs in (("rgb", rgb), ("depth", depth), ("seg", seg)):
            arrays[name], arrays[f"{name}_offsets"] = _pack(list(blobs))
        path = self.folder / f"chunk_{self._chunk:05d}.npz"
        np.savez(
            path,
            allow_pickle=False,  # numbers only
            **arrays,
            camera_pose=np.stack(camera_poses),
            base_pose=np.stack(base_poses),
            time_s=np.asarray(times, np.float64),
        )
        self._chunk += 1
        self._buffer = []

    def abandon(self) -> None:
        """Stop writing without finishing: the folder stays an unfinished recording (no meta)."""
        self._steps.close()
        self._buffer = []

    def close(self, clock: DayClock) -> RecordingMeta:
        started = time.perf_counter()
        self._flush()
        self._steps.close()
        self.write_s += time.perf_counter() - started
        size = sum(p.stat().st_size for p in self.folder.iterdir())
        meta = RecordingMeta(
            FORMAT_VERSION,
            self.frames,
            CHUNK_FRAMES,
            self.camera,
            self.robot,
            self.floor_plan,
            self.instances,
            clock,
            size,
            round(self.write_s, 3),
        )
        text = json.dumps(meta.to_dict(), indent=1)
        (self.folder / META).write_text(text)
        meta.bytes = size + len(text)
        return meta


class Recording:
    """A finished recording, read frame by frame (one chunk decoded at a time)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        path = self.folder / META
        if not path.is_file():
            raise RecordingError(f"{self.folder}: not a finished recording (no {META})")
        data = json.loads(path.read_text())
        if data.get("version") != FORMAT_VERSION:
            raise RecordingError(f"{self.folder}: recording format {data.get('version')}, this mindpalace reads {FORMAT_VERSION}")
        self.meta = RecordingMeta.from_dict(data)
        self.steps = [json.loads(line) for line in (self.folder / STEPS).read_text().splitlines()]
        if len(self.steps) != self.meta.frames:
            raise RecordingError(f"{self.folder}: {len(self.steps)} steps for {self.meta.frames} frames")
        self._cached: tuple[int, dict[str, NDArray]] | None = None

    def __len__(self) -> int:
        return self.meta.frames

    def action(self, index: int) -> Action | None:
        """The action that led to frame `index` (None for the first frame)."""
        step = self.steps[index]["action"]
        return action_from_dict(step) if step is not None else None

    def outcome(self, index: int) -> ActionOutcome | None:
        data = self.steps[index]["outcome"]
        if data is None:
            return None
        return ActionOutcome(bool(data["success"]), FailureReason(data["reason"]), data["message"], dict(data["details"]))

    def _chunk(self, number: int) -> dict[str, NDArray]:
        if self._cached is None or self._cached[0] != number:
            with np.load(self.folder / f"chunk_{number:05d}.npz") as chunk:
                self._cached = (number, {key: chunk[key] for key in chunk.files})
        return self._cached[1]

    def observation(self, index: int) -> Observation:
        if not 0 <= index < self.meta.frames:
            raise IndexError(f"frame {index} of a {self.meta.frames}-frame recording")
        chunk = self._chunk(index // self.meta.chunk_frames)
        k = index % self.meta.chunk_frames

        def blob(name: str) -> bytes:
            offsets = chunk[f"{name}_offsets"]
            return chunk[name][offsets[k] : offsets[k + 1]].tobytes()

        segmentation = _unpng(blob("seg")).astype(np.int32)
        time_s = float(chunk["time_s"][k])
        table = self.meta.instances
        clock = self.meta.clock
        return Observation(
            rgb=_unpng(blob("rgb")).copy(),
            depth=(_unpng(blob("depth")).astype(np.float32) / 1000.0),
            camera=self.meta.camera,
            camera_pose=chunk["camera_pose"][k].copy(),
            base_pose=chunk["base_pose"][k].copy(),
            time_s=time_s,
            segmentation=segmentation,
            instances={int(i): table[int(i)] for i in np.unique(segmentation) if int(i) in table},
            time_of_day_s=clock.time_of_day(time_s),
            last_outcome=self.outcome(index),
            day=clock.day,
        )
