"""Test-only helpers for the household env tests (imported by conftest.py and the test modules).

Several of these use PRIVILEGED access (MuJoCo joint addresses, `env.privileged`, the generator's
layout) to set scenes up quickly. Agents, perception and memory code must never do this.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import mujoco
import numpy as np

from mindpalace.core.actions import ActionOutcome, Look, Wait
from mindpalace.core.geometry import invert_pose, transform_points
from mindpalace.core.grid import GridMap
from mindpalace.core.types import Observation
from mindpalace.envs import make
from mindpalace.envs.household.catalog import Receptacle
from mindpalace.envs.household.layout import Apartment, Furniture, SmallObject, occupancy_grid

ENV_ID = "mindpalace/Household-v0"
SMALL = {"width": 160, "height": 120}
HEAD_PIVOT_IN_BASE = np.array([-0.12, 0.0, 1.25])  # pan/tilt pivot (= camera centre) in the base frame
PAN_LIMIT, TILT_LIMITS = 2.6, (-0.8, 1.3)
ROBOT_RADIUS = 0.25
SEEN_WELL_PIXELS = 20  # several times the env's "in view" threshold at 160x120 (2e-4 of the image, >= 3 px)


# ------------------------------------------------------------------ env creation and stepping
def make_env(seed: int = 0, n_rooms: int | None = 3, **config: Any):
    """A small (160x120) household env reset on `seed`; returns (env, first observation)."""
    env = make(ENV_ID, **{**SMALL, "n_rooms": n_rooms, **config})
    obs, _ = env.reset(seed=seed)
    return env, obs


def make_env_where(predicate: Callable[[Apartment], bool], seeds: Iterable[int] = range(12), **config: Any):
    """The first small env (lowest seed) whose apartment satisfies `predicate`; fails the test if none does."""
    for seed in seeds:
        env, obs = make_env(seed, **config)
        if predicate(env.apartment):
            return env, obs
        env.close()
    raise AssertionError(f"no apartment among seeds {list(seeds)} satisfies {predicate.__name__}")


def step(env, action) -> tuple[Observation, ActionOutcome]:
    """Step and return (observation, outcome); the outcome is reported in both info and the observation."""
    obs, _reward, _terminated, _truncated, info = env.step(action)
    assert obs.last_outcome is info["outcome"]
    return obs, info["outcome"]


def step_ok(env, action) -> Observation:
    """Step an action that must succeed."""
    obs, outcome = step(env, action)
    assert outcome.success, f"{action!r} failed: {outcome}"
    return obs


# ------------------------------------------------------------------ privileged scene set-up
def teleport_for_test(env, x: float, y: float, yaw: float) -> Observation:
    """PRIVILEGED test helper: write the base joints, zero velocities, then Wait briefly for a fresh observation."""
    for joint, value in (("base_x", x), ("base_y", y), ("base_yaw", yaw)):
        env.data.qpos[env._qadr[joint]] = value
    env.data.qvel[:] = 0.0
    mujoco.mj_forward(env.model, env.data)
    return step_ok(env, Wait(0.05))


teleport = teleport_for_test


def face(env, piece: Furniture) -> Observation:
    """PRIVILEGED: stand at a furniture piece's access pose, facing it."""
    return teleport_for_test(env, *piece.access_pose())


def pan_tilt_towards(env, xyz: Iterable[float]) -> tuple[float, float]:
    """Head pan (left-positive) and tilt (down-positive) that aim the camera at world point `xyz`."""
    x, y, yaw = env.privileged.robot_pose()
    c, s = math.cos(yaw), math.sin(yaw)
    px, py, pz = HEAD_PIVOT_IN_BASE
    head = np.array([x + c * px - s * py, y + s * px + c * py, pz])
    d = np.asarray(xyz, dtype=float) - head
    pan = (math.atan2(d[1], d[0]) - yaw + math.pi) % (2 * math.pi) - math.pi
    tilt = math.atan2(-d[2], math.hypot(d[0], d[1]))
    return pan, tilt


def look_at(env, xyz: Iterable[float]) -> Observation:
    """Aim the head camera at world point `xyz` with a Look action (clipped to the head's joint ranges)."""
    pan, tilt = pan_tilt_towards(env, xyz)
    return step_ok(env, Look(float(np.clip(pan, -PAN_LIMIT, PAN_LIMIT)), float(np.clip(tilt, *TILT_LIMITS))))


def look_away_from(env, xyz: Iterable[float]) -> Observation:
    """Turn the head to the opposite direction of `xyz` (pan + pi, clipped), level."""
    pan, _ = pan_tilt_towards(env, xyz)
    away = pan - math.pi if pan > 0 else pan + math.pi
    return step_ok(env, Look(float(np.clip(away, -PAN_LIMIT, PAN_LIMIT)), 0.0))


# ------------------------------------------------------------------ privileged queries
def object_xyz(env, object_id: int) -> np.ndarray:
    return env.privileged.object_pose(object_id)[:3, 3].copy()


def pixels_of(obs: Observation, instance_id: int) -> int:
    return int(np.count_nonzero(obs.segmentation == instance_id))


def furniture_of(env, obj: SmallObject) -> Furniture:
    return env.apartment.furniture_by_id(obj.furniture)


def part_kind(piece: Furniture, part: str) -> str:
    return next(p.kind for p in piece.type.parts if p.name == part)


def part_travel(piece: Furniture, part: str) -> float:
    return next(p.travel for p in piece.type.parts if p.name == part)


def to_furniture_frame(piece: Furniture, xyz: Iterable[float]) -> np.ndarray:
    """World point -> the furniture's own frame (x towards its front, z up)."""
    c, s = math.cos(piece.yaw), math.sin(piece.yaw)
    dx, dy, z = np.asarray(xyz, dtype=float) - np.array([piece.x, piece.y, 0.0])
    return np.array([c * dx + s * dy, -s * dx + c * dy, z])


def surface_objects_in_reach(env) -> Iterator[tuple[SmallObject, Furniture]]:
    """Objects resting on open surfaces (behind no door or drawer) in reach from their furniture's access pose."""
    for obj in env.apartment.objects:
        piece = furniture_of(env, obj)
        if piece.receptacle(obj.receptacle).part is not None or env.privileged.object_location(obj.id) is None:
            continue
        ax, ay, _ = piece.access_pose()
        x, y, _ = object_xyz(env, obj.id)
        if math.hypot(x - ax, y - ay) <= env.config.reach - 0.1:
            yield obj, piece


def resting_on(env, object_id: int) -> Furniture:
    """The furniture an object rests on now (privileged); fails while it is held."""
    location = env.privileged.object_location(object_id)
    assert location is not None, f"object {object_id} is held"
    return next(p for p in env.apartment.furniture if p.name == location[0])


def present(env, obj: SmallObject) -> Observation:
    """PRIVILEGED: face the furniture the object rests on and look at the object."""
    face(env, resting_on(env, obj.id))
    return look_at(env, object_xyz(env, obj.id))


def present_a_pickable_object(
    env, accept: Callable[[SmallObject], bool] = lambda obj: True
) -> tuple[SmallObject, Furniture, Observation]:
    """Face and look at the first `accept`ed surface object in reach that the camera sees well; fails if none."""
    for obj, piece in surface_objects_in_reach(env):
        if not accept(obj):
            continue
        obs = present(env, obj)
        if pixels_of(obs, obj.id) >= SEEN_WELL_PIXELS:
            return obj, piece, obs
    raise AssertionError("no acceptable surface object in this apartment can be seen well from its furniture's access pose")


def fits_in(receptacle: Receptacle) -> Callable[[SmallObject], bool]:
    """Whether an object is small enough for a receptacle (its footprint and its height, with margins)."""

    def accept(obj: SmallObject) -> bool:
        radius = obj.category.footprint_radius
        return 2 * obj.category.half_height <= receptacle.clearance - 0.02 and min(receptacle.half) >= radius + 0.02

    return accept


def drawer_with_contents(apartment: Apartment) -> bool:
    return any(_drawer_of(apartment, obj) is not None for obj in apartment.objects)


def _drawer_of(apartment: Apartment, obj: SmallObject) -> str | None:
    piece = apartment.furniture_by_id(obj.furniture)
    part = piece.receptacle(obj.receptacle).part
    return part if part is not None and part_kind(piece, part) == "drawer" else None


def an_object_in_a_drawer(env) -> tuple[SmallObject, Furniture, str]:
    for obj in env.apartment.objects:
        part = _drawer_of(env.apartment, obj)
        if part is not None:
            return obj, furniture_of(env, obj), part
    raise AssertionError("no object starts in a drawer")


def pieces_of_type(apartment: Apartment, type_name: str) -> list[Furniture]:
    return [p for p in apartment.furniture if p.type.name == type_name]


def free_cells(apartment: Apartment, clearance: float = ROBOT_RADIUS, resolution: float = 0.05):
    """Cells where the robot's centre fits (occupancy inflated by `clearance`), and the grid origin."""
    grid, origin = occupancy_grid(apartment, resolution)
    cells = math.ceil(clearance / resolution)
    return ~GridMap(grid, origin, resolution).inflated(cells * resolution).blocked, origin


def cell_of(xy: tuple[float, float], origin: tuple[float, float], resolution: float = 0.05) -> tuple[int, int]:
    return int(round((xy[1] - origin[1]) / resolution)), int(round((xy[0] - origin[0]) / resolution))


def flood_fill(free: np.ndarray, start: tuple[int, int]) -> np.ndarray:
    """Cells 4-connected to `start` through free cells (an independent re-implementation for tests)."""
    seen = np.zeros_like(free, dtype=bool)
    if not free[start]:
        return seen
    seen[start] = True
    queue = deque([start])
    h, w = free.shape
    while queue:
        r, c = queue.popleft()
        for nr, nc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
            if 0 <= nr < h and 0 <= nc < w and free[nr, nc] and not seen[nr, nc]:
                seen[nr, nc] = True
                queue.append((nr, nc))
    return seen


# ------------------------------------------------------------------ geometry
def distance_to_primitive(points: np.ndarray, shape: str, size: tuple[float, ...], pose: np.ndarray) -> np.ndarray:
    """Unsigned distance of world points to the surface of a MuJoCo box/cylinder/sphere (half sizes) at `pose`."""
    q = transform_points(invert_pose(pose), points)
    if shape == "sphere":
        return np.abs(np.linalg.norm(q, axis=1) - size[0])
    if shape == "box":
        d = np.abs(q) - np.asarray(size)
        return np.linalg.norm(np.maximum(d, 0.0), axis=1) + np.abs(np.minimum(d.max(axis=1), 0.0))
    if shape == "cylinder":
        radius, half_height = size
        dr = np.linalg.norm(q[:, :2], axis=1) - radius
        dz = np.abs(q[:, 2]) - half_height
        outside = np.hypot(np.maximum(dr, 0.0), np.maximum(dz, 0.0))
        return outside + np.abs(np.minimum(np.maximum(dr, dz), 0.0))
    raise ValueError(shape)


def inside_box_2d(xy: tuple[float, float], center: tuple[float, float], half: tuple[float, float], tol: float = 1e-6) -> bool:
    return abs(xy[0] - center[0]) <= half[0] + tol and abs(xy[1] - center[1]) <= half[1] + tol
