"""Shared fixtures for the perception tests: one text embedder, and a tiny analytic RGB-D renderer.

The renderer ray-casts a floor plane (z = 0) and boxes turned about z, so every depth reading, every
segmentation pixel and every surface point is known exactly (no simulator needed).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from types import SimpleNamespace

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import pytest

from mindpalace.core.geometry import make_pose, rot_z, transform_points
from mindpalace.core.types import CameraInfo, InstanceInfo, Observation


@dataclass(frozen=True)
class SynthBox:
    """A box with centre `center` (3,), half sizes `half` (3,) and heading `yaw` (rad, about world z)."""

    center: tuple[float, float, float]
    half: tuple[float, float, float]
    yaw: float = 0.0
    instance: int = 5
    info: InstanceInfo | None = field(default=None, compare=False)


def look_at(eye, target) -> np.ndarray:
    """Camera optical frame (z forward, x right, y down) -> world pose at `eye`, looking at `target`."""
    eye, target = np.asarray(eye, float), np.asarray(target, float)
    z = target - eye
    z /= np.linalg.norm(z)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return make_pose(np.stack([x, y, z], axis=1), eye)


def _rays(camera: CameraInfo, pose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(H*W, 3) world ray directions scaled so that the optical-axis component is 1 (t = depth)."""
    v, u = np.mgrid[0 : camera.height, 0 : camera.width]
    d_cam = np.stack([(u - camera.cx) / camera.fx, (v - camera.cy) / camera.fy, np.ones(u.shape)], axis=-1)
    return pose[:3, 3], d_cam.reshape(-1, 3) @ pose[:3, :3].T


def _hit_box(origin: np.ndarray, dirs: np.ndarray, box: SynthBox) -> np.ndarray:
    """Ray parameter of the first hit on the box (inf where missed)."""
    rotation = rot_z(box.yaw)
    o = (origin - np.asarray(box.center)) @ rotation  # into the box frame
    d = dirs @ rotation
    half = np.asarray(box.half)
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (-half - o) / d
        t2 = (half - o) / d
    t_near = np.nanmax(np.minimum(t1, t2), axis=1)
    t_far = np.nanmin(np.maximum(t1, t2), axis=1)
    hit = (t_far >= t_near) & (t_near > 0)
    return np.where(hit, t_near, np.inf)


def render(camera: CameraInfo, pose: np.ndarray, boxes: list[SynthBox], floor: bool = True):
    """Exact depth (H, W) float32 (0 = no reading) and instance ids (H, W) int32 (floor = 1)."""
    origin, dirs = _rays(camera, pose)
    best = np.full(len(dirs), np.inf)
    ids = np.zeros(len(dirs), dtype=np.int32)
    if floor:
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(dirs[:, 2] < -1e-9, -origin[2] / dirs[:, 2], np.inf)
        best, ids = t, np.where(np.isfinite(t), 1, 0).astype(np.int32)
    for box in boxes:
        t = _hit_box(origin, dirs, box)
        closer = t < best
        best = np.where(closer, t, best)
        ids = np.where(closer, box.instance, ids)
    depth = np.where(np.isfinite(best), best, 0.0).astype(np.float32)
    return depth.reshape(camera.height, camera.width), ids.reshape(camera.height, camera.width)


def box_distance(points: np.ndarray, box: SynthBox) -> np.ndarray:
    """Unsigned distance of world points to the surface of `box`."""
    q = (np.asarray(points) - np.asarray(box.center)) @ rot_z(box.yaw)
    d = np.abs(q) - np.asarray(box.half)
    return np.linalg.norm(np.maximum(d, 0.0), axis=1) + np.abs(np.minimum(d.max(axis=1), 0.0))


def box_surface_points(box: SynthBox, step: float = 0.01) -> np.ndarray:
    """A symmetric grid of points on all six faces of `box`, in the world frame."""
    half = np.asarray(box.half)
    faces = []
    for axis in range(3):
        others = [a for a in range(3) if a != axis]
        grids = [np.linspace(-half[a], half[a], max(2, round(2 * half[a] / step) + 1)) for a in others]
        a, b = np.meshgrid(*grids, indexing="ij")
        for sign in (-1.0, 1.0):
            face = np.zeros((a.size, 3))
            face[:, others[0]], face[:, others[1]], face[:, axis] = a.ravel(), b.ravel(), sign * half[axis]
            faces.append(face)
    local = np.concatenate(faces)
    return transform_points(make_pose(rot_z(box.yaw), np.asarray(box.center)), local)


CAMERA = CameraInfo.from_horizontal_fov(160, 120, np.deg2rad(70.0))
MUG = InstanceInfo(5, "mug_1", "mug", "object", {"color": "red", "material": "ceramic"})
TABLE = InstanceInfo(6, "table_1", "table", "furniture")
FLOOR = InstanceInfo(1, "floor", "floor", "structure")


def observation(
    boxes: list[SynthBox], eye=(0.0, 0.0, 1.2), target=None, camera: CameraInfo = CAMERA, time_s: float = 3.0, floor: bool = True
) -> Observation:
    """A synthetic frame: the camera at `eye` looking at `target` (default: the first box's centre)."""
    target = boxes[0].center if target is None and boxes else (target if target is not None else (2.0, 0.0, 0.0))
    pose = look_at(eye, target)
    depth, ids = render(camera, pose, boxes, floor)
    rgb = np.zeros((camera.height, camera.width, 3), np.uint8)
    rgb[ids > 1] = (200, 30, 30)
    instances = {1: FLOOR}
    for box in boxes:
        instances[box.instance] = box.info or InstanceInfo(box.instance, f"thing_{box.instance}", "mug", "object")
    return Observation(rgb, depth, camera, pose, np.eye(4), time_s, ids, instances)


@pytest.fixture(scope="session")
def embedder():
    """The default offline text embedder (all-MiniLM-L6-v2), loaded once for the session."""
    from mindpalace.perception.embeddings import TextEmbedder

    text = TextEmbedder()
    text.embed(["object"])
    return text


@pytest.fixture(scope="session")
def synth():
    """The analytic renderer and its helpers (see the module docstring)."""
    return SimpleNamespace(
        Box=SynthBox,
        look_at=look_at,
        render=render,
        observation=observation,
        box_distance=box_distance,
        box_surface_points=box_surface_points,
        camera=CAMERA,
        mug=MUG,
        table=TABLE,
        floor=FLOOR,
    )
