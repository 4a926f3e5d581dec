"""Privileged ground truth of a household episode: for oracles, metrics and tests only.

Perception and memory never import this module; what they know they perceived or were told.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from mindpalace.core.geometry import make_pose
from mindpalace.envs.household.layout import Apartment, occupancy_grid

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
