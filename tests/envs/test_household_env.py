"""The household env: creation, observation contract, determinism, collisions, manipulation, failures, geometry."""

from __future__ import annotations

import math

import numpy as np
import pytest
from household_testkit import (
    ENV_ID,
    an_object_in_a_drawer,
    distance_to_primitive,
    drawer_with_contents,
    face,
    fits_in,
    inside_box_2d,
    look_at,
    look_away_from,
    make_env,
    make_env_where,
    object_xyz,
    part_travel,
    pieces_of_type,
    pixels_of,
    present,
    present_a_pickable_object,
    step,
    step_ok,
    surface_objects_in_reach,
    teleport_for_test,
    to_furniture_frame,
)

from mindpalace.core.actions import BaseVelocity, Close, FailureReason, Look, Open, Pick, Place, Relation, Wait
from mindpalace.core.geometry import backproject, is_rigid_transform, project
from mindpalace.core.registry import RegistryError
from mindpalace.core.types import Observation
from mindpalace.envs import make, registered
from mindpalace.envs.household.layout import WALL_THICKNESS
from mindpalace.envs.household.mjcf import FLOOR_ID, WALL_ID
from mindpalace.envs.household.robot import GRIPPER_OFFSET

R = FailureReason


def assert_fails(env, action, reason: FailureReason) -> Observation:
    obs, outcome = step(env, action)
    assert not outcome.success and outcome.reason is reason, f"{action!r}: expected {reason}, got {outcome}"
    assert outcome.message
    return obs


def is_open(env, part_id: int) -> bool:
    return bool(env.privileged.joint_states()[part_id][1])


# ================================================================== creation
def test_make_creates_the_household_env():
    """make("mindpalace/Household-v0") builds an env that resets to an Observation."""
    assert ENV_ID in registered()
    env = make(ENV_ID, width=160, height=120, n_rooms=3)
    try:
        obs, info = env.reset(seed=5)
        assert isinstance(obs, Observation)
        assert info["apartment_seed"] == 5 and len(env.apartment.rooms) == 3
    finally:
        env.close()


def test_make_unknown_id_names_the_registered_ids():
    """An unknown env id fails with a lookup error that lists the ids that do exist."""
    with pytest.raises(RegistryError) as error:
        make("mindpalace/NoSuchEnv-v0")
    assert ENV_ID in str(error.value) and "NoSuchEnv" in str(error.value)


def test_step_before_reset_raises():
    """Stepping an env that was never reset is a programming error, reported clearly."""
    env = make(ENV_ID, width=160, height=120)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(Wait(0.1))


@pytest.mark.parametrize(
    "config",
    [
        {"width": 0},
        {"height": 5000},
        {"hfov_deg": 200},
        {"hfov_deg": float("nan")},
        {"colour_depth": 8},
        {"start_time_of_day": "25:99"},
        {"start_time_of_day": "noon"},
        {"seed": -1},
        {"n_rooms": 9},
        {"reach": -1.0},
        {"max_depth": float("inf")},
        {"render_mode": "human"},
        {"start_time_of_day": "12:75"},
    ],
    ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()),
)
def test_invalid_config_raises_value_error(config):
    """Bad config values fail at construction with ValueError, before any model is built."""
    with pytest.raises(ValueError):
        make(ENV_ID, **config)


# ================================================================== observation contract
def test_observation_arrays_have_the_documented_types(shared_env):
    """rgb (H,W,3) uint8, depth (H,W) float32 metres >= 0, segmentation (H,W) int32, rigid 4x4 poses."""
    obs = step_ok(shared_env, Look(0.0, 0.3))
    h, w = 120, 160
    assert obs.rgb.shape == (h, w, 3) and obs.rgb.dtype == np.uint8
    assert obs.depth.shape == (h, w) and obs.depth.dtype == np.float32
    assert obs.segmentation.shape == (h, w) and obs.segmentation.dtype == np.int32
    assert np.all(np.isfinite(obs.depth)) and obs.depth.min() >= 0 and obs.depth.max() <= shared_env.config.max_depth
    assert obs.rgb.std() > 5, "the image is blank"
    for pose in (obs.camera_pose, obs.base_pose):
        assert pose.shape == (4, 4) and pose.dtype == np.float64 and is_rigid_transform(pose)


def test_depth_is_zero_exactly_where_nothing_is_seen(shared_env):
    """Looking up over the walls (no ceiling) gives segmentation 0 and depth 0; seen surfaces have depth > 0."""
    obs = step_ok(shared_env, Look(0.0, -0.8))
    nothing = obs.segmentation == 0
    assert nothing.any(), "expected open sky above the walls"
    assert np.all(obs.depth[nothing] == 0)
    assert np.all(obs.segmentation[obs.depth > 0] > 0)
    assert np.median(obs.depth[~nothing]) > 0


def test_depth_beyond_max_depth_reads_zero(env_factory):
    """Surfaces farther than max_depth have no reading (0), like a real depth sensor."""
    env, _ = env_factory(seed=0, max_depth=1.5)
    obs = step_ok(env, Look(0.0, 0.0))
    assert obs.depth.max() <= 1.5
    assert np.any((obs.segmentation > 0) & (obs.depth == 0)), "expected surfaces beyond 1.5 m"


def test_instances_match_the_segmentation(shared_env):
    """obs.instances has an entry for exactly the ids in the segmentation, and each entry's id is its key."""
    for action in (Look(0.0, 0.3), Look(1.5, 0.6), Look(-2.0, 0.2)):
        obs = step_ok(shared_env, action)
        seen = set(np.unique(obs.segmentation).tolist()) - {0}
        assert set(obs.instances) == seen
        assert all(info.id == key for key, info in obs.instances.items())


def test_object_instances_carry_category_and_attributes(shared_env):
    """Instance entries of objects say what they are: category, colour, material, function."""
    obj, piece, obs = present_a_pickable_object(shared_env)
    info = obs.instances[obj.id]
    assert info.kind == "object" and info.category == obj.category.name and info.label == obj.name
    assert info.attributes == {"color": obj.color, "material": obj.category.material, "function": obj.category.function}
    assert obj.color in info.description and obj.category.material in info.description
    furniture = obs.instances[piece.id]
    assert furniture.kind == "furniture" and furniture.category == piece.type.name
    assert obs.instances[FLOOR_ID].kind == "structure"


@pytest.mark.parametrize("width,height", [(160, 120), (640, 480), (320, 96)])
def test_image_size_and_intrinsics_follow_config(env_factory, width, height):
    """width/height are honoured; fx = fy = W/2/tan(45 deg) for the 90 deg HFOV, principal point at the centre."""
    _env, obs = env_factory(seed=1, width=width, height=height)
    assert obs.rgb.shape == (height, width, 3) and obs.depth.shape == obs.segmentation.shape == (height, width)
    camera = obs.camera
    assert (camera.width, camera.height) == (width, height)
    assert camera.fx == pytest.approx(width / 2 / math.tan(math.radians(45)))
    assert camera.fy == pytest.approx(camera.fx)
    assert (camera.cx, camera.cy) == pytest.approx(((width - 1) / 2, (height - 1) / 2))


def test_time_advances_and_time_of_day_starts_at_config(env_factory):
    """time_s starts at 0 and grows with every action (failed ones too); time_of_day starts at start_time_of_day."""
    env, obs = env_factory(seed=0, start_time_of_day="21:30")
    assert obs.time_s == 0.0 and obs.time_of_day_s == 21 * 3600 + 30 * 60 and obs.clock() == "21:30:00"
    obs = step_ok(env, Wait(2.0))
    assert obs.time_s == pytest.approx(2.0, abs=0.011)
    assert obs.time_of_day_s == pytest.approx(21 * 3600 + 30 * 60 + obs.time_s)
    last = obs.time_s
    for action in (BaseVelocity(0.0, 0.5, 0.5), Look(0.2, 0.2), Pick(999), Wait(0.1)):
        obs, _ = step(env, action)
        assert obs.time_s > last, action
        last = obs.time_s


def test_time_of_day_wraps_at_midnight(env_factory):
    """A clock that starts at 23:59 reads 00:00:xx a minute later."""
    env, _ = env_factory(seed=0, start_time_of_day="23:59")
    for _ in range(13):
        obs = step_ok(env, Wait(5.0))
    assert 0 <= obs.time_of_day_s < 10 and obs.clock().startswith("00:00:")


def test_base_pose_tracks_the_base(fresh_env):
    """obs.base_pose is the base's true pose; the camera sits 1.25 m up, above the base."""
    obs = teleport_for_test(fresh_env, *fresh_env.apartment.start[:2], 0.7)
    x, y, yaw = fresh_env.privileged.robot_pose()
    assert obs.base_pose[:3, 3] == pytest.approx([x, y, 0.0], abs=1e-3)
    assert math.atan2(obs.base_pose[1, 0], obs.base_pose[0, 0]) == pytest.approx(yaw, abs=1e-3)
    assert obs.camera_pose[2, 3] == pytest.approx(1.25, abs=0.02)
    assert np.hypot(*(obs.camera_pose[:2, 3] - [x, y])) == pytest.approx(0.12, abs=0.02)


# ================================================================== determinism
def scripted_episode(seed: int) -> list[tuple[bytes, bytes, bytes, str]]:
    """Run a fixed mix of driving, looking, picking, placing and opening; return every frame's bytes and outcome."""
    env, obs = make_env(seed)
    try:
        frames = [(obs.rgb.tobytes(), obs.depth.tobytes(), obs.segmentation.tobytes(), "reset")]

        def record(o, outcome):
            frames.append((o.rgb.tobytes(), o.depth.tobytes(), o.segmentation.tobytes(), repr(outcome)))

        counter = pieces_of_type(env.apartment, "counter")[0]
        first_object = env.apartment.objects[0].id
        for action in (
            BaseVelocity(0.5, 0.8, 0.6),
            Look(0.4, 0.3),
            Pick(first_object),
            Open(counter.part_ids["drawer_1"]),
            BaseVelocity(-0.3, -1.0, 0.4),
            Look(-0.6, 0.1),
            Wait(0.2),
        ):
            record(*step(env, action))
        obj, piece, obs = present_a_pickable_object(env)
        record(obs, "presented")
        for action in (
            Pick(obj.id),
            BaseVelocity(0.0, 1.0, 0.5),
            BaseVelocity(0.0, -1.0, 0.5),
            Place(piece.id),
            Open(counter.part_ids["drawer_1"]),
            Close(counter.part_ids["drawer_1"]),
        ):
            record(*step(env, action))
        return frames
    finally:
        env.close()


def test_same_seed_and_actions_give_identical_frames():
    """Two envs with the same seed and actions render byte-identical rgb, depth and segmentation at every step."""
    first, second = scripted_episode(0), scripted_episode(0)
    assert len(first) == len(second)
    for k, (a, b) in enumerate(zip(first, second)):
        assert a[3] == b[3], f"outcome differs at step {k}"
        assert a[0] == b[0] and a[1] == b[1] and a[2] == b[2], f"frames differ at step {k}"


def test_different_seeds_give_different_frames(env_factory):
    """Different seeds give different apartments, hence different first frames."""
    _, obs0 = env_factory(seed=0)
    _, obs1 = env_factory(seed=1)
    assert obs0.rgb.tobytes() != obs1.rgb.tobytes()


def test_closing_one_env_leaves_another_rendering():
    """Envs in one process render independently: closing one does not freeze or corrupt another's frames."""
    reference, _ = make_env(0)
    expected = step_ok(reference, Look(1.5, 0.5))
    reference.close()
    other, _ = make_env(0)
    env, first = make_env(0)
    try:
        other.close()
        obs = step_ok(env, Look(1.5, 0.5))
        assert obs.segmentation.tobytes() != first.segmentation.tobytes(), "the frame did not change after turning the head"
        assert obs.rgb.tobytes() == expected.rgb.tobytes() and obs.segmentation.tobytes() == expected.segmentation.tobytes()
    finally:
        env.close()


# ================================================================== driving and walls
def clear_wall_approach(apartment, standoff: float = 0.6):
    """A solid wall stretch with nothing in front: (robot x, y, yaw facing the wall, wall point, inward normal)."""
    for room in apartment.rooms:
        x0, y0, x1, y1 = room.rect
        sides = [((x0, None), (1.0, 0.0)), ((x1, None), (-1.0, 0.0)), ((None, y0), (0.0, 1.0)), ((None, y1), (0.0, -1.0))]
        for (fx, fy), normal in sides:
            lo, hi = (y0, y1) if fx is not None else (x0, x1)
            for along in np.arange(lo + 0.7, hi - 0.7, 0.1):
                wall = np.array([fx, along] if fx is not None else [along, fy], dtype=float)
                n = np.array(normal)
                if any(np.hypot(*(np.array(d.center) - wall)) < d.width / 2 + 0.6 for d in apartment.doorways):
                    continue
                corridor_end = wall + n * (standoff + 0.45)
                tangent = np.array([-n[1], n[0]]) * 0.45
                cx0, cy0 = np.minimum(wall - tangent, corridor_end + tangent)
                cx1, cy1 = np.maximum(wall - tangent, corridor_end + tangent)
                if any(
                    fx0 < cx1 and cx0 < fx1 and fy0 < cy1 and cy0 < fy1
                    for fx0, fy0, fx1, fy1 in (p.footprint() for p in apartment.furniture)
                ):
                    continue
                robot = wall + n * standoff
                return float(robot[0]), float(robot[1]), math.atan2(-n[1], -n[0]), wall, n
    raise AssertionError("no clear wall stretch found")


def test_base_cannot_drive_through_a_wall(fresh_env):
    """Driving at full speed into a wall for 10 s never crosses it, and every such step reports BLOCKED."""
    x, y, yaw, wall, normal = clear_wall_approach(fresh_env.apartment)
    teleport_for_test(fresh_env, x, y, yaw)
    for _ in range(10):
        obs, outcome = step(fresh_env, BaseVelocity(fresh_env.config.max_linear, 0.0, 1.0))
        bx, by, _ = fresh_env.privileged.robot_pose()
        clearance = float(np.dot(np.array([bx, by]) - wall, normal))
        assert clearance >= 0.25 - 0.03, f"base centre {clearance:.3f} m from the wall centre line"
        assert outcome.reason is R.BLOCKED, outcome
    assert clearance <= 0.25 + WALL_THICKNESS / 2 + 0.05, "the base should have reached the wall"
    assert obs.base_pose[:2, 3] == pytest.approx([bx, by])
    obs = step_ok(fresh_env, BaseVelocity(-0.5, 0.0, 0.5))  # backing off works: the loop goes on
    assert obs.last_outcome.details["moved"] > 0.2


def test_base_drives_through_a_doorway(fresh_env):
    """A doorway is a passable gap: driving straight through it changes the robot's room."""
    door = fresh_env.apartment.doorways[0]
    normal = np.array([0.0, 1.0]) if door.axis == "x" else np.array([1.0, 0.0])
    start = np.array(door.center) - 0.7 * normal
    teleport_for_test(fresh_env, *start, math.atan2(normal[1], normal[0]))
    room_before = fresh_env.privileged.robot_room()
    for _ in range(3):
        step_ok(fresh_env, BaseVelocity(0.5, 0.0, 1.0))
    bx, by, _ = fresh_env.privileged.robot_pose()
    assert np.dot(np.array([bx, by]) - door.center, normal) > 0.5
    room_after = fresh_env.privileged.robot_room()
    rooms = {r.id: r.name for r in fresh_env.apartment.rooms}
    assert {room_before, room_after} == {rooms[i] for i in door.rooms}


def test_turning_in_place_changes_yaw_only(fresh_env):
    """A pure yaw-rate command turns the base by omega * duration without translating it."""
    x, y, _ = fresh_env.apartment.start
    teleport_for_test(fresh_env, x, y, 0.0)
    step_ok(fresh_env, BaseVelocity(0.0, 1.0, 1.0))
    bx, by, yaw = fresh_env.privileged.robot_pose()
    assert math.hypot(bx - x, by - y) < 0.01
    assert yaw == pytest.approx(1.0, abs=0.08)


# ================================================================== pick and place
def test_pick_visible_object_in_reach(fresh_env):
    """Picking a seen object in reach succeeds: the robot holds it and it leaves its receptacle."""
    obj, _piece, _ = present_a_pickable_object(fresh_env)
    step_ok(fresh_env, Pick(obj.id))
    privileged = fresh_env.privileged
    assert privileged.held_object() == obj.id
    assert privileged.object_location(obj.id) is None
    assert all(obj.id not in ids for ids in privileged.receptacle_contents().values())


def gripper_xyz(env) -> np.ndarray:
    x, y, yaw = env.privileged.robot_pose()
    gx, gy, gz = GRIPPER_OFFSET
    return np.array([x + gx * math.cos(yaw) - gy * math.sin(yaw), y + gx * math.sin(yaw) + gy * math.cos(yaw), gz])


def test_held_object_moves_with_the_robot(fresh_env):
    """A held object is carried at the gripper while the base turns and drives."""
    obj, _, _ = present_a_pickable_object(fresh_env)
    step_ok(fresh_env, Pick(obj.id))
    start = object_xyz(fresh_env, obj.id)
    assert object_xyz(fresh_env, obj.id) == pytest.approx(gripper_xyz(fresh_env), abs=0.02)
    for action in (BaseVelocity(0.0, 1.5, 1.0), BaseVelocity(0.3, 0.0, 1.0), Wait(0.5)):
        step_ok(fresh_env, action)
        assert object_xyz(fresh_env, obj.id) == pytest.approx(gripper_xyz(fresh_env), abs=0.02), action
    assert np.linalg.norm(object_xyz(fresh_env, obj.id) - start) > 0.3


def other_surface(env, exclude_id: int):
    """A furniture piece, other than `exclude_id`, with an open surface one can put things on."""
    for piece in env.apartment.furniture:
        if piece.id != exclude_id and any(r.relation == "on" and r.part is None and r.z < 1.0 for r in piece.type.receptacles):
            return piece
    raise AssertionError("no other surface")


def test_place_on_another_surface(fresh_env):
    """Placing a held object on a visible surface puts it at rest on that surface, upright, inside its bounds."""
    obj, source, _ = present_a_pickable_object(fresh_env)
    step_ok(fresh_env, Pick(obj.id))
    target = other_surface(fresh_env, source.id)
    receptacle = next(r for r in target.type.receptacles if r.relation == "on" and r.part is None)
    face(fresh_env, target)
    look_at(fresh_env, target.to_world((*receptacle.center, receptacle.z)))
    step_ok(fresh_env, Place(target.id))
    privileged = fresh_env.privileged
    assert privileged.held_object() is None
    assert privileged.object_location(obj.id)[0] == target.name and privileged.object_location(obj.id)[2] == "on"
    name = privileged.object_location(obj.id)[1]
    surface = target.receptacle(name)
    local = to_furniture_frame(target, object_xyz(fresh_env, obj.id))
    assert local[2] == pytest.approx(surface.z + obj.category.half_height, abs=0.01)
    assert inside_box_2d(local[:2], surface.center, surface.half)
    assert fresh_env.privileged.object_pose(obj.id)[:3, 2] == pytest.approx([0, 0, 1], abs=1e-3), "not upright"
    assert obj.id in privileged.receptacle_contents()[(target.id, name)]
    resting = object_xyz(fresh_env, obj.id)
    step_ok(fresh_env, Wait(1.0))
    step_ok(fresh_env, BaseVelocity(-0.3, 0.5, 1.0))
    assert object_xyz(fresh_env, obj.id) == pytest.approx(resting, abs=1e-4), "a placed object must stay put"


def test_a_person_moves_an_object_while_the_robot_looks_away(fresh_env):
    """person_moves (benchmark-only) puts a resting object on another surface at once; a held one stays put."""
    obj, source = next(surface_objects_in_reach(fresh_env))
    target = other_surface(fresh_env, source.id)
    receptacle = next(r for r in target.type.receptacles if r.relation == "on" and r.part is None)
    assert fresh_env.privileged.person_moves(obj.id, target.id, receptacle.name)
    obs = step_ok(fresh_env, Wait(0.5))
    assert fresh_env.privileged.object_location(obj.id) == (target.name, receptacle.name, "on")
    local = to_furniture_frame(target, object_xyz(fresh_env, obj.id))
    assert local[2] == pytest.approx(receptacle.z + obj.category.half_height, abs=0.01)
    assert inside_box_2d(local[:2], receptacle.center, receptacle.half)
    assert obs.last_outcome.success
    held, _, _ = present_a_pickable_object(fresh_env)
    step_ok(fresh_env, Pick(held.id))
    assert not fresh_env.privileged.person_moves(held.id, target.id, receptacle.name)
    assert fresh_env.privileged.held_object() == held.id


# ================================================================== drawers
def test_open_drawer_carries_its_contents_and_close_brings_them_back():
    """Opening a drawer slides it out by its travel, with its contents; closing brings both back."""
    env, _ = make_env_where(drawer_with_contents)
    try:
        obj, piece, part = an_object_in_a_drawer(env)
        part_id = piece.part_ids[part]
        before = object_xyz(env, obj.id)
        face(env, piece)
        look_at(env, before)
        assert_fails(env, Pick(obj.id), R.CONTAINER_CLOSED)
        assert_fails(env, Close(part_id), R.ALREADY_CLOSED)
        step_ok(env, Open(part_id))
        value, opened = env.privileged.joint_states()[part_id]
        assert opened and value == pytest.approx(part_travel(piece, part), abs=0.03)
        moved = object_xyz(env, obj.id) - before
        front = np.array([math.cos(piece.yaw), math.sin(piece.yaw), 0.0])
        assert moved == pytest.approx(value * front, abs=0.01), "the contents did not move with the drawer"
        assert_fails(env, Open(part_id), R.ALREADY_OPEN)
        look_at(env, object_xyz(env, obj.id))
        step_ok(env, Pick(obj.id))
        assert env.privileged.held_object() == obj.id
        step_ok(env, Close(part_id))
        assert not is_open(env, part_id) and env.privileged.joint_states()[part_id][0] == pytest.approx(0.0, abs=0.02)
    finally:
        env.close()


def test_closing_a_drawer_takes_its_contents_back_in():
    """Close after open returns the drawer's contents to where they started."""
    env, _ = make_env_where(drawer_with_contents)
    try:
        obj, piece, part = an_object_in_a_drawer(env)
        before = object_xyz(env, obj.id)
        face(env, piece)
        look_at(env, before)
        step_ok(env, Open(piece.part_ids[part]))
        step_ok(env, Close(piece.part_ids[part]))
        assert object_xyz(env, obj.id) == pytest.approx(before, abs=0.01)
    finally:
        env.close()


def test_place_in_an_open_drawer_then_close_it(fresh_env):
    """An object placed IN an open drawer lies inside it, moves in when it closes, and is then unreachable."""
    counter = pieces_of_type(fresh_env.apartment, "counter")[0]
    part_id = counter.part_ids["drawer_1"]
    drawer = counter.receptacle("drawer_1")
    obj, _, _ = present_a_pickable_object(fresh_env, accept=fits_in(drawer))
    step_ok(fresh_env, Pick(obj.id))
    face(fresh_env, counter)
    assert_fails(fresh_env, Place(part_id, Relation.IN), R.CONTAINER_CLOSED)
    step_ok(fresh_env, Open(part_id))
    travel = fresh_env.privileged.joint_states()[part_id][0]
    look_at(fresh_env, counter.to_world((drawer.center[0] + travel, drawer.center[1], drawer.z)))
    step_ok(fresh_env, Place(part_id, Relation.IN))
    assert fresh_env.privileged.object_location(obj.id) == (counter.name, "drawer_1", "in")

    def assert_inside(drawer_offset: float) -> None:
        local = to_furniture_frame(counter, object_xyz(fresh_env, obj.id)) - [drawer_offset, 0.0, 0.0]
        assert inside_box_2d(local[:2], drawer.center, drawer.half), local
        assert local[2] == pytest.approx(drawer.z + obj.category.half_height, abs=0.01)

    assert_inside(travel)
    step_ok(fresh_env, Close(part_id))
    assert_inside(fresh_env.privileged.joint_states()[part_id][0])
    look_at(fresh_env, object_xyz(fresh_env, obj.id))
    assert_fails(fresh_env, Pick(obj.id), R.CONTAINER_CLOSED)


def test_open_drawer_does_not_push_the_robot(fresh_env):
    """A fully open drawer stops short of the robot standing at the furniture's access pose."""
    for piece in fresh_env.apartment.furniture:
        drawers = [p for p in piece.type.parts if p.kind == "drawer"]
        if not drawers:
            continue
        face(fresh_env, piece)
        look_at(fresh_env, piece.to_world((piece.type.depth / 2, 0.0, 0.4)))
        before = fresh_env.privileged.robot_pose()
        step_ok(fresh_env, Open(piece.part_ids[drawers[0].name]))
        after = fresh_env.privileged.robot_pose()
        assert math.hypot(after[0] - before[0], after[1] - before[1]) < 1e-3, f"{piece.name} pushed the robot"
        step_ok(fresh_env, Close(piece.part_ids[drawers[0].name]))


# ================================================================== hinged doors
@pytest.mark.parametrize("type_name", ["fridge", "cabinet"])
def test_hinged_door_opens_and_closes_from_the_access_pose(fresh_env, type_name):
    """From its access pose, a fridge or cabinet door swings fully open and shut; the furniture id names its door."""
    piece = pieces_of_type(fresh_env.apartment, type_name)[0]
    door = piece.part_ids["door"]
    face(fresh_env, piece)
    look_at(fresh_env, piece.to_world((piece.type.depth / 2, 0.0, 0.6)))
    before = fresh_env.privileged.robot_pose()
    step_ok(fresh_env, Open(piece.id))  # the furniture names its only part
    value, opened = fresh_env.privileged.joint_states()[door]
    assert opened and value == pytest.approx(part_travel(piece, "door"), abs=0.05)
    after = fresh_env.privileged.robot_pose()
    assert math.hypot(after[0] - before[0], after[1] - before[1]) < 1e-3, "the door swung into the robot"
    assert_fails(fresh_env, Open(door), R.ALREADY_OPEN)
    step_ok(fresh_env, Close(door))
    value, opened = fresh_env.privileged.joint_states()[door]
    assert not opened and value == pytest.approx(0.0, abs=0.05)
    assert_fails(fresh_env, Close(piece.id), R.ALREADY_CLOSED)


def in_a_cupboard(apartment) -> bool:
    return any(apartment.furniture_by_id(o.furniture).type.name in ("fridge", "cabinet") for o in apartment.objects)


def test_objects_behind_a_door_need_it_open():
    """Objects on cupboard shelves cannot be picked through the closed door; with it open they can."""
    env, _ = make_env_where(in_a_cupboard)
    try:
        first = next(
            o for o in env.apartment.objects if env.apartment.furniture_by_id(o.furniture).type.name in ("fridge", "cabinet")
        )
        piece = env.apartment.furniture_by_id(first.furniture)
        inside = [o for o in env.apartment.objects if o.furniture == piece.id]
        face(env, piece)
        for obj in inside:
            look_at(env, object_xyz(env, obj.id))
            assert_fails(env, Pick(obj.id), R.CONTAINER_CLOSED)
        look_at(env, piece.to_world((piece.type.depth / 2, 0.0, 0.6)))
        step_ok(env, Open(piece.part_ids["door"]))
        outcomes = []
        for obj in inside:
            look_at(env, object_xyz(env, obj.id))
            outcomes.append(step(env, Pick(obj.id))[1])
            if outcomes[-1].success:
                assert env.privileged.held_object() == obj.id
                break
        assert outcomes[-1].success, f"nothing in the open {piece.name} could be picked: {outcomes}"
    finally:
        env.close()


# ================================================================== failure reasons
def test_pick_failures(fresh_env):
    """UNKNOWN_TARGET, NOT_PICKABLE, OUT_OF_REACH, NOT_VISIBLE and HANDS_FULL, each for the right situation."""
    env = fresh_env
    obj, piece, _ = present_a_pickable_object(env)
    assert_fails(env, Pick(99_999), R.UNKNOWN_TARGET)
    assert_fails(env, Pick(-4), R.UNKNOWN_TARGET)
    assert_fails(env, Pick(piece.id), R.NOT_PICKABLE)
    assert_fails(env, Pick(WALL_ID), R.NOT_PICKABLE)
    if piece.part_ids:
        assert_fails(env, Pick(next(iter(piece.part_ids.values()))), R.NOT_PICKABLE)
    x, y, _ = env.privileged.robot_pose()
    on_open_surfaces = [
        o for o in env.apartment.objects if env.apartment.furniture_by_id(o.furniture).receptacle(o.receptacle).part is None
    ]
    far = max(on_open_surfaces, key=lambda o: math.hypot(*(object_xyz(env, o.id)[:2] - [x, y])))
    assert math.hypot(*(object_xyz(env, far.id)[:2] - [x, y])) > env.config.reach + 0.5
    assert_fails(env, Pick(far.id), R.OUT_OF_REACH)
    obs = look_away_from(env, object_xyz(env, obj.id))
    assert pixels_of(obs, obj.id) == 0
    assert_fails(env, Pick(obj.id), R.NOT_VISIBLE)
    assert env.privileged.held_object() is None
    look_at(env, object_xyz(env, obj.id))
    step_ok(env, Pick(obj.id))
    other = next(o for o in env.apartment.objects if o.id != obj.id)
    assert_fails(env, Pick(other.id), R.HANDS_FULL)
    assert env.privileged.held_object() == obj.id


def test_pick_out_of_reach(fresh_env):
    """An object on an open surface far from the robot is OUT_OF_REACH even when seen."""
    env = fresh_env
    obj, piece, _ = present_a_pickable_object(env)
    ax, ay, yaw = piece.access_pose()
    away = np.array([math.cos(yaw), math.sin(yaw)])  # yaw faces the furniture; back off along -away
    for back in np.arange(1.0, 0.0, -0.1):
        x, y = np.array([ax, ay]) - back * away
        if math.hypot(*(object_xyz(env, obj.id)[:2] - [x, y])) > env.config.reach + 0.1:
            break
    teleport_for_test(env, x, y, yaw)
    look_at(env, object_xyz(env, obj.id))
    assert_fails(env, Pick(obj.id), R.OUT_OF_REACH)


def test_place_failures(fresh_env):
    """HANDS_EMPTY with nothing held; NOT_A_RECEPTACLE onto an object or a wall; UNKNOWN_TARGET for a bad id."""
    env = fresh_env
    obj, piece, _ = present_a_pickable_object(env)
    assert_fails(env, Place(piece.id), R.HANDS_EMPTY)
    assert_fails(env, Place(12_345), R.UNKNOWN_TARGET)
    step_ok(env, Pick(obj.id))
    other = next(o for o in env.apartment.objects if o.id != obj.id)
    assert_fails(env, Place(other.id), R.NOT_A_RECEPTACLE)
    assert_fails(env, Place(WALL_ID), R.NOT_A_RECEPTACLE)
    assert env.privileged.held_object() == obj.id


def test_open_close_failures(fresh_env):
    """NOT_ARTICULATED for walls, tables and multi-drawer furniture; UNKNOWN_TARGET; ALREADY_OPEN / ALREADY_CLOSED."""
    env = fresh_env
    a = env.apartment
    plain = next(p for p in a.furniture if not p.part_ids)
    counter = pieces_of_type(a, "counter")[0]
    assert_fails(env, Open(WALL_ID), R.NOT_ARTICULATED)
    assert_fails(env, Close(FLOOR_ID), R.NOT_ARTICULATED)
    assert_fails(env, Open(plain.id), R.NOT_ARTICULATED)
    assert_fails(env, Open(counter.id), R.NOT_ARTICULATED)  # two drawers: the caller must name one
    assert_fails(env, Open(a.objects[0].id), R.NOT_ARTICULATED)
    assert_fails(env, Open(77_777), R.UNKNOWN_TARGET)
    assert_fails(env, Close(77_777), R.UNKNOWN_TARGET)
    drawer = counter.part_ids["drawer_1"]
    assert_fails(env, Close(drawer), R.ALREADY_CLOSED)
    teleport_for_test(env, *a.start)  # far away: reach is checked before opening
    assert_fails(env, Open(drawer), R.OUT_OF_REACH)
    face(env, counter)
    look_at(env, counter.to_world((counter.type.depth / 2, 0.0, 0.4)))
    step_ok(env, Open(drawer))
    assert_fails(env, Open(drawer), R.ALREADY_OPEN)
    assert is_open(env, drawer)


INVALID_ACTIONS = [
    BaseVelocity(float("nan"), 0.0),
    BaseVelocity(float("inf"), 0.0),
    BaseVelocity(-float("inf"), 0.0),
    BaseVelocity(1e9, 0.0),
    BaseVelocity(0.0, float("nan")),
    BaseVelocity(0.0, 1e9),
    BaseVelocity(1.01, 0.0),
    BaseVelocity(0.2, 0.0, -1.0),
    BaseVelocity(0.2, 0.0, 0.0),
    BaseVelocity(0.2, 0.0, 1e9),
    BaseVelocity(0.2, 0.0, float("nan")),
    BaseVelocity("fast", 0.0),  # type: ignore[arg-type]
    Wait(-1.0),
    Wait(0.0),
    Wait(1e9),
    Wait(float("inf")),
    Look(3.0, 0.0),
    Look(-3.0, 0.0),
    Look(0.0, 1.5),
    Look(0.0, -1.0),
    Look(float("nan"), 0.0),
    Look(0.0, float("inf")),
    Pick(True),  # type: ignore[arg-type]
    Pick("12"),  # type: ignore[arg-type]
    Pick(12.0),  # type: ignore[arg-type]
    Pick(None),  # type: ignore[arg-type]
    Place(False),  # type: ignore[arg-type]
    Place("counter"),  # type: ignore[arg-type]
    Open("door"),  # type: ignore[arg-type]
    Close(True),  # type: ignore[arg-type]
    Place(10, "under"),  # type: ignore[arg-type]
    {"type": "teleport", "x": 1.0},
    {"type": "pick"},
    {"type": "pick", "object_id": 12, "force": 3},
    {"type": "base_velocity", "v": "fast", "omega": 0.0},
    {"type": "look", "pan": None, "tilt": 0.0},
    {"type": "place", "receptacle_id": 10, "relation": "under"},
    {"no_type": 1},
    {},
    "pick the mug",
    None,
    42,
    [Wait(0.1)],
]


@pytest.mark.parametrize("action", INVALID_ACTIONS, ids=repr)
def test_invalid_actions_fail_without_raising(shared_env, action):
    """Malformed actions come back as INVALID_ARGUMENT outcomes (never exceptions) and the loop goes on."""
    before = shared_env.privileged.robot_pose()
    obs, outcome = step(shared_env, action)
    assert not outcome.success and outcome.reason is R.INVALID_ARGUMENT, outcome
    assert outcome.message
    assert obs.rgb.shape == (120, 160, 3)
    after = shared_env.privileged.robot_pose()
    assert math.hypot(after[0] - before[0], after[1] - before[1]) < 1e-3 and after[2] == pytest.approx(before[2], abs=1e-3)
    step_ok(shared_env, Wait(0.05))


def test_loop_survives_a_burst_of_failures(fresh_env):
    """After a run of every kind of failure, a valid action still succeeds and time kept moving."""
    env = fresh_env
    t0 = step_ok(env, Wait(0.05)).time_s
    for action in INVALID_ACTIONS + [Pick(99_999), Open(WALL_ID), Place(10), Close(99_999)]:
        obs, outcome = step(env, action)
        assert not outcome.success
    assert obs.time_s > t0
    obs = step_ok(env, BaseVelocity(0.0, 0.5, 0.5))
    assert obs.last_outcome.success


# ================================================================== geometry consistency
def geometry_frames(env):
    """A few frames looking at surface objects from their furniture's access poses."""
    seen = set()
    for obj, _ in surface_objects_in_reach(env):
        if obj.id in seen:
            continue
        obs = present(env, obj)
        seen |= set(obs.instances)
        yield obs
        if len(seen) > 40:
            return


def test_backprojected_object_pixels_lie_on_the_object(big_env):
    """Every object's masked depth back-projects onto its true primitive (box/cylinder/sphere) within 2 cm."""
    env = big_env
    objects = {o.id: o for o in env.apartment.objects}
    checked = 0
    for obs in geometry_frames(env):
        for object_id in set(obs.instances) & set(objects):
            mask = obs.segmentation == object_id
            if mask.sum() < 200:
                continue
            points = backproject(obs.depth, obs.camera, obs.camera_pose, mask)
            category = objects[object_id].category
            distance = distance_to_primitive(points, category.shape, category.size, env.privileged.object_pose(object_id))
            name = objects[object_id].name
            assert np.percentile(distance, 95) <= 0.02, f"{name}: p95 {np.percentile(distance, 95):.3f} m off its surface"
            assert np.median(distance) <= 0.005, f"{name}: median {np.median(distance):.4f} m off its surface"
            checked += 1
    assert checked >= 3, "too few objects seen large enough to check"


def test_projected_object_centres_land_on_their_masks(big_env):
    """core.geometry.project of an object's true centre falls inside (or within 3 px of) its segmentation mask."""
    env = big_env
    objects = {o.id for o in env.apartment.objects}
    checked = 0
    for obs in geometry_frames(env):
        for object_id in set(obs.instances) & objects:
            mask = obs.segmentation == object_id
            if mask.sum() < 200:
                continue
            u, v, z = project(object_xyz(env, object_id)[None], obs.camera, obs.camera_pose)[0]
            assert z > 0
            rows, cols = np.nonzero(mask)
            nearest = np.min(np.hypot(cols - u, rows - v))
            assert nearest <= 3.0, f"object {object_id}: centre projects {nearest:.1f} px from its mask"
            checked += 1
    assert checked >= 3


def test_floor_pixels_backproject_to_zero_height(big_env):
    """Floor pixels back-project to z = 0 within 1 cm: intrinsics, depth scale and camera pose agree."""
    env = big_env
    frames = 0
    for pan, tilt in ((0.0, 0.6), (1.2, 0.9), (-2.0, 0.4), (2.6, 1.3)):
        obs = step_ok(env, Look(pan, tilt))
        floor = obs.segmentation == FLOOR_ID
        if floor.sum() < 500:
            continue
        heights = backproject(obs.depth, obs.camera, obs.camera_pose, floor)[:, 2]
        assert np.percentile(np.abs(heights), 99) <= 0.01, f"floor at z={np.percentile(np.abs(heights), 99):.3f} m"
        assert np.median(np.abs(heights)) <= 0.003, f"floor at median z={np.median(np.abs(heights)):.4f} m"
        frames += 1
    assert frames >= 2


def test_wall_pixels_backproject_onto_walls(big_env):
    """Wall pixels back-project into (or onto) some wall box of the layout within 2 cm."""
    env = big_env
    obs = step_ok(env, Look(0.0, -0.2))
    points = backproject(obs.depth, obs.camera, obs.camera_pose, obs.segmentation == WALL_ID)
    assert len(points) > 500
    boxes = [wall.box() for wall in env.apartment.walls]
    centers = np.array([c for c, _ in boxes])
    halves = np.array([h for _, h in boxes])
    outside = np.maximum(np.abs(points[:, None, :2] - centers[None]) - halves[None], 0.0)
    distance = np.linalg.norm(outside, axis=2).min(axis=1)
    assert np.percentile(distance, 95) <= 0.02
    assert np.all((points[:, 2] > -0.01) & (points[:, 2] < 2.51))


# ================================================================== privileged accessor
def test_privileged_rooms_name_real_rooms(shared_env):
    """object_room and robot_room return room names, and an object's room is its furniture's room."""
    privileged = shared_env.privileged
    names = {room.id: room.name for room in shared_env.apartment.rooms}
    for obj in shared_env.apartment.objects:
        if privileged.object_location(obj.id) is not None:
            assert privileged.object_room(obj.id) == names[shared_env.apartment.furniture_by_id(obj.furniture).room]
    assert privileged.robot_room() in names.values()


def test_receptacle_contents_list_every_object_once(fresh_env):
    """receptacle_contents lists each resting object exactly once, before and after a pick and a place."""
    env = fresh_env

    def listed() -> list[int]:
        return sorted(i for ids in env.privileged.receptacle_contents().values() for i in ids)

    all_ids = sorted(o.id for o in env.apartment.objects)
    assert listed() == all_ids
    for (furniture_id, name), ids in env.privileged.receptacle_contents().items():
        env.apartment.furniture_by_id(furniture_id).receptacle(name)  # a real receptacle
        assert all(env.privileged.object_location(i)[1] == name for i in ids)
    obj, piece, _ = present_a_pickable_object(env)
    step_ok(env, Pick(obj.id))
    assert listed() == [i for i in all_ids if i != obj.id]
    step_ok(env, Place(piece.id))
    assert listed() == all_ids


def test_a_saved_world_continues_where_it_was_left(fresh_env, env_factory, tmp_path) -> None:
    """save_world/load_world: the same apartment, robot pose, held object, resting objects, drawers and frame."""
    obj, _, _ = present_a_pickable_object(fresh_env)
    step_ok(fresh_env, Pick(obj.id))
    fresh_env.step(BaseVelocity(v=0.0, omega=0.5, duration=0.6))
    before = fresh_env.privileged
    path = fresh_env.save_world(tmp_path / "world.npz")
    other, _ = env_factory(seed=5)  # another apartment, replaced by the saved one
    obs = other.load_world(path)
    after = other.privileged
    assert other.apartment.seed == fresh_env.apartment.seed and after.held_object() == obj.id
    assert after.robot_pose() == pytest.approx(before.robot_pose(), abs=1e-9)
    positions, expected = after.object_positions(), before.object_positions()
    assert set(positions) == set(expected)
    assert all(np.allclose(positions[i], expected[i], atol=1e-9) for i in expected)
    assert after.joint_states() == before.joint_states()
    assert obs.time_s == pytest.approx(fresh_env.data.time)
    frame = fresh_env.step(Wait(duration=0.1))[0]
    again = other.step(Wait(duration=0.1))[0]
    np.testing.assert_array_equal(frame.segmentation, again.segmentation)
    assert np.abs(frame.depth - again.depth).max() < 1e-5
