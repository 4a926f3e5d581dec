"""Privileged ground truth of a household episode: for oracles, metrics and tests only.

Perception and memory never import this module; what they know they perceived or were told. Besides reading
the true state, benchmarks use it to save and restore the whole simulator and to render from any pose.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mindpalace.core.geometry import make_pose
from mindpalace.core.types import Observation
from mindpalace.envs.household.layout import Apartment, occupancy_grid
from mindpalace.envs.rendering import mujoco

if TYPE_CHECKING:
    from mindpalace.envs.household.env import HouseholdEnv


class PrivilegedState:
    """A live view of the simulator's true state (reads the env each call), and a benchmark's interventions.

    `person_moves` is the one method that changes the world: a benchmark uses it to stage what a person does
    while the robot is elsewhere. Agent code never calls it.
    """

    def __init__(self, env: HouseholdEnv) -> None:
        if env.apartment is None:
            raise RuntimeError("call reset() first")
        self._env = env

    @property
    def apartment(self) -> Apartment:
        assert self._env.apartment is not None
        return self._env.apartment

    def robot_pose(self) -> tuple[float, float, float]:
        """Base x, y, yaw in the world."""
        return self._env._base_xy_yaw()

    def held_object(self) -> int | None:
        return self._env._held

    def object_pose(self, object_id: int) -> NDArray[np.float64]:
        """4x4 world pose of a small object's centre."""
        return make_pose(self._env.object_orientation(object_id), self._env._object_position(object_id))

    def object_positions(self) -> dict[int, tuple[float, float, float]]:
        return {o.id: tuple(float(v) for v in self._env._object_position(o.id)) for o in self.apartment.objects}  # type: ignore[misc]

    def object_location(self, object_id: int) -> tuple[str, str, str] | None:
        """(furniture name, receptacle name, "on" | "in") of a resting object; None while it is held."""
        placement = self._env._placements.get(object_id)
        if placement is None:
            return None
        piece = self.apartment.furniture_by_id(placement.furniture)
        return piece.name, placement.receptacle, piece.receptacle(placement.receptacle).relation

    def object_room(self, object_id: int) -> str | None:
        x, y, _ = self._env._object_position(object_id)
        room = self.apartment.room_at(float(x), float(y))
        return room.name if room else None

    def head_angles(self) -> tuple[float, float]:
        """The head's (pan, tilt) in radians."""
        assert self._env.data is not None
        qpos = self._env.data.qpos
        return float(qpos[self._env._qadr["head_pan"]]), float(qpos[self._env._qadr["head_tilt"]])

    def robot_room(self) -> str | None:
        x, y, _ = self.robot_pose()
        room = self.apartment.room_at(x, y)
        return room.name if room else None

    def part_position(self, part_id: int) -> NDArray[np.float64]:
        """World position of an articulated part's frame (a drawer's moves as it slides)."""
        return self._env._body_pose(f"p{part_id}")[:3, 3]

    def receptacle_point(self, furniture_id: int, receptacle: str) -> NDArray[np.float64]:
        """World centre of a receptacle's surface, following its drawer when it has one."""
        piece = self.apartment.furniture_by_id(furniture_id)
        surface = piece.receptacle(receptacle)
        frame = self._env._body_pose(self._env.receptacle_body(piece, surface))
        return frame[:3, :3] @ np.array([*surface.center, surface.z]) + frame[:3, 3]

    def receptacle_contents(self) -> dict[tuple[int, str], list[int]]:
        """(furniture id, receptacle name) -> ids of the objects resting there."""
        contents: dict[tuple[int, str], list[int]] = {}
        for object_id, placement in sorted(self._env._placements.items()):
            contents.setdefault((placement.furniture, placement.receptacle), []).append(object_id)
        return contents

    def joint_states(self) -> dict[int, tuple[float, bool]]:
        """Articulated part id -> (joint value in m or rad, is open)."""
        return {
            pid: (self._env.joint_value(pid), self._env._is_open(pid))
            for piece in self.apartment.furniture
            for pid in piece.part_ids.values()
        }

    def person_moves(self, object_id: int, furniture_id: int, receptacle: str) -> bool:
        """A person (not the robot) moves a resting object to a free spot on or in a receptacle, at once.

        Ground-truth manipulation, for benchmarks and tests only: an object moved while the robot was away.
        The object shows at its new place from the next observation on. False (nothing changes) when the
        object is held or no free spot fits it there.
        """
        piece = self.apartment.furniture_by_id(furniture_id)
        return self._env._relocate(object_id, piece, piece.receptacle(receptacle))

    def room_polygons(self) -> list[tuple[str, list[tuple[float, float]]]]:
        """The apartment's room names and polygons, as a simulator's region annotations give them."""
        return self._env.floor_plan()

    def occupancy(self, resolution: float = 0.05) -> tuple[NDArray[np.bool_], tuple[float, float]]:
        """Blocked cells of walls and furniture footprints, and the world (x, y) of cell (0, 0)."""
        return occupancy_grid(self.apartment, resolution)

    # ------------------------------------------------------------------ benchmark-side control of the simulator
    def save_state(self) -> dict[str, Any]:
        """The whole simulator state as JSON-ready data: physics, where every object rests, what is held, the RNG.

        `restore_state` on an env reset to the same apartment brings it back exactly (the same steps then give
        the same observations).
        """
        env = self._env
        assert env.model is not None and env.data is not None
        spec = mujoco.mjtState.mjSTATE_INTEGRATION
        physics = np.empty(mujoco.mj_stateSize(env.model, spec))
        mujoco.mj_getState(env.model, env.data, physics, spec)
        return {
            "apartment_seed": self.apartment.seed,
            "rooms": len(self.apartment.rooms),
            "physics": physics.tolist(),
            "placements": {
                str(oid): {"furniture": p.furniture, "receptacle": p.receptacle, "body": p.body, "local": p.local.tolist()}
                for oid, p in env._placements.items()
            },
            "held": env._held,
            "steps": env._steps,
            "rng": env.np_random.bit_generator.state,
        }

    def restore_state(self, state: dict[str, Any]) -> Observation:
        """Put the simulator back in a saved state (the env reset to the apartment it was saved in); returns the view."""
        from mindpalace.envs.household.env import Placement

        env = self._env
        assert env.model is not None and env.data is not None
        if state["apartment_seed"] != self.apartment.seed or state["rooms"] != len(self.apartment.rooms):
            raise ValueError(
                f"the state was saved in apartment {state['apartment_seed']} ({state['rooms']} rooms), "
                f"not this one ({self.apartment.seed}, {len(self.apartment.rooms)} rooms)"
            )
        spec = mujoco.mjtState.mjSTATE_INTEGRATION
        physics = np.asarray(state["physics"], dtype=np.float64)
        if physics.size != mujoco.mj_stateSize(env.model, spec):
            raise ValueError("the saved physics state does not fit this model")
        mujoco.mj_setState(env.model, env.data, physics, spec)
        env._placements = {
            int(oid): Placement(p["furniture"], p["receptacle"], p["body"], np.asarray(p["local"], dtype=np.float64))
            for oid, p in state["placements"].items()
        }
        env._held = state["held"]
        env._steps = int(state["steps"])
        env.np_random.bit_generator.state = state["rng"]
        mujoco.mj_forward(env.model, env.data)
        return env._observe(None)  # also what is in view now (actions check it), as after any step

    def render_from(
        self, x: float, y: float, yaw: float, pan: float = 0.0, tilt: float = 0.0
    ) -> tuple[NDArray[np.uint8], NDArray[np.float32], NDArray[np.int32]]:
        """(rgb, depth, segmentation) the head camera would see with the base at (x, y, yaw) and the head at (pan, tilt).

        The simulator is left exactly as it was: nothing moves, and what the robot has in view is unchanged.
        """
        env = self._env
        assert env.model is not None and env.data is not None and env._renderer is not None
        spec = mujoco.mjtState.mjSTATE_INTEGRATION
        saved = np.empty(mujoco.mj_stateSize(env.model, spec))
        mujoco.mj_getState(env.model, env.data, saved, spec)
        try:
            for joint, value in zip(("base_x", "base_y", "base_yaw", "head_pan", "head_tilt"), (x, y, yaw, pan, tilt)):
                env.data.qpos[env._qadr[joint]] = value
            mujoco.mj_forward(env.model, env.data)
            return env._renderer.render(env.data)
        finally:
            mujoco.mj_setState(env.model, env.data, saved, spec)
            mujoco.mj_forward(env.model, env.data)
