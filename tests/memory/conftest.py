"""Shared fixtures for the spatial-memory tests: hand-made percepts, map objects and camera poses.

Most tests use synthetic label embeddings (one orthogonal unit vector per label), so "same kind" is
exact and no model is loaded; `embedder` gives the real offline text model where meaning matters.
"""

from __future__ import annotations

import os
from types import SimpleNamespace

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pytest

from mindpalace.core.geometry import make_pose
from mindpalace.core.types import CameraInfo, Percept
from mindpalace.memory.spatial.objects import MapObject

LABELS = ("mug", "cup", "book", "bowl", "apple", "keys", "table", "dresser", "drawer", "door", "cabinet", "box", "soap", "thing")
CAMERA = CameraInfo.from_horizontal_fov(160, 120, np.deg2rad(70.0))


def label_embedding(label: str) -> np.ndarray:
    """A one-hot float32 unit vector per label: equal labels have cosine 1, different ones 0."""
    vector = np.zeros(len(LABELS), np.float32)
    vector[LABELS.index(label)] = 1.0
    return vector


def box_faces(center, half, faces=("-x", "+z"), step=0.01) -> np.ndarray:
    """Grid points on some faces of an axis-aligned box ("-x" is the face towards -x), as a camera would see them."""
    center, half = np.asarray(center, float), np.asarray(half, float)
    out = []
    for face in faces:
        axis = "xyz".index(face[1])
        sign = 1.0 if face[0] == "+" else -1.0
        others = [a for a in range(3) if a != axis]
        grids = [np.arange(-half[a], half[a] + 1e-9, step) for a in others]
        a, b = np.meshgrid(*grids, indexing="ij")
        pts = np.zeros((a.size, 3))
        pts[:, others[0]], pts[:, others[1]], pts[:, axis] = a.ravel(), b.ravel(), sign * half[axis]
        out.append(pts + center)
    return np.concatenate(out)


def make_percept(
    label: str,
    points: np.ndarray,
    embedding: np.ndarray | None = None,
    confidence: float = 0.9,
    time_s: float = 0.0,
    attributes: dict | None = None,
) -> Percept:
    """A Percept made directly from world points (no image): boxes and centroid computed from them."""
    points = np.asarray(points, float)
    low, high = points.min(axis=0), points.max(axis=0)
    return Percept(
        label=label,
        mask=np.zeros((2, 2), bool),
        points=points,
        centroid=points.mean(axis=0),
        aabb_min=low,
        aabb_max=high,
        obb_center=(low + high) / 2,
        obb_rotation=np.eye(3),
        obb_extent=high - low,
        embedding=label_embedding(label) if embedding is None else embedding,
        confidence=confidence,
        time_s=time_s,
        attributes=dict(attributes or {}),
        pixel_count=len(points),
    )


def box_object(object_id: int, label: str, low, high, observations: int = 3, time_s: float = 1.0) -> MapObject:
    """A MapObject whose points are the 8 corners of the box [low, high] (so its aabb is exactly that box)."""
    low, high = np.asarray(low, float), np.asarray(high, float)
    corners = np.array([[x, y, z] for x in (low[0], high[0]) for y in (low[1], high[1]) for z in (low[2], high[2])])
    return MapObject(object_id, label, label_embedding(label), corners, observations, time_s, time_s + 1.0, 0.9)


def render_boxes(boxes, pose, camera=CAMERA) -> tuple[np.ndarray, list[np.ndarray]]:
    """Ray-cast axis-aligned boxes [(low, high), ...] from a camera pose: (depth image, the points each box shows).

    A miniature of what a depth camera and a perfect instance segmenter report, for tests of negative evidence:
    each box's points are the surface it shows this camera, partial views and occlusions included.
    """
    v, u = np.mgrid[0 : camera.height, 0 : camera.width]
    rays = np.stack([(u - camera.cx) / camera.fx, (v - camera.cy) / camera.fy, np.ones(u.shape)], axis=-1).reshape(-1, 3)
    rays = rays @ pose[:3, :3].T  # unit optical depth along each ray: the hit parameter is the depth itself
    origin = pose[:3, 3]
    hits = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for low, high in boxes:
            t0, t1 = (np.asarray(low, float) - origin) / rays, (np.asarray(high, float) - origin) / rays
            near = np.nanmax(np.minimum(t0, t1), axis=1)
            far = np.nanmin(np.maximum(t0, t1), axis=1)
            hits.append(np.where((near <= far) & (near > 0.05), near, np.inf))
    hits = np.stack(hits)
    nearest = hits.min(axis=0)
    depth = np.where(np.isfinite(nearest), nearest, 0.0).reshape(camera.height, camera.width).astype(np.float32)
    shown = [
        origin + rays[(hits[i] == nearest) & np.isfinite(nearest)] * nearest[(hits[i] == nearest) & np.isfinite(nearest), None]
        for i in range(len(boxes))
    ]
    return depth, shown


def look_at(eye, target) -> np.ndarray:
    """Camera optical frame (z forward, x right, y down) -> world pose at `eye`, looking at `target`."""
    eye, target = np.asarray(eye, float), np.asarray(target, float)
    z = (target - eye) / np.linalg.norm(target - eye)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    return make_pose(np.stack([x, np.cross(z, x), z], axis=1), eye)


@pytest.fixture(scope="session")
def mem():
    """The helpers above, as one namespace."""
    return SimpleNamespace(
        embedding=label_embedding,
        box_faces=box_faces,
        percept=make_percept,
        box_object=box_object,
        look_at=look_at,
        render=render_boxes,
        camera=CAMERA,
    )


@pytest.fixture(scope="session")
def embedder():
    """The default offline text embedder (all-MiniLM-L6-v2), loaded once for the session."""
    from mindpalace.perception.embeddings import TextEmbedder

    text = TextEmbedder()
    text.embed(["object"])
    return text


@pytest.fixture
def bank(tmp_path):
    """A fresh memory bank in the test's own folder."""
    from mindpalace.memory.bank import Bank

    with Bank(tmp_path / "bank.db") as opened:
        yield opened
