import math

import numpy as np
import pytest

from mindpalace.agent.path_following import FollowerConfig, PathFollower

DT = 0.1
L_PATH = [(0.0, 0.0), (2.0, 0.0), (2.0, 1.5)]


def simulate(follower: PathFollower, pose: tuple[float, float, float], max_steps: int):
    """Drive a unicycle with the follower's commands; returns the poses and the commands until done."""
    x, y, yaw = pose
    poses, commands = [pose], []
    for _ in range(max_steps):
        v, omega = follower.command(x, y, yaw)
        if follower.done:
            break
        commands.append((v, omega))
        x += v * math.cos(yaw) * DT
        y += v * math.sin(yaw) * DT
        yaw += omega * DT
        poses.append((x, y, yaw))
    return np.array(poses), np.array(commands)


def distance_to_polyline(points: np.ndarray, path: list[tuple[float, float]]) -> np.ndarray:
    best = np.full(len(points), np.inf)
    for a, b in zip(np.asarray(path[:-1]), np.asarray(path[1:])):
        seg = b - a
        t = np.clip(((points - a) @ seg) / (seg @ seg), 0.0, 1.0)
        best = np.minimum(best, np.linalg.norm(points - (a + t[:, None] * seg), axis=1))
    return best


def angle_diff(a: float, b: float) -> float:
    return abs(math.remainder(a - b, 2.0 * math.pi))


@pytest.mark.parametrize(
    "start_yaw, config",
    [
        (0.0, FollowerConfig()),
        (math.pi, FollowerConfig()),  # facing away: must turn in place first
        (-2.0, FollowerConfig(max_linear=0.3, max_angular=0.5)),
    ],
)
def test_follows_l_path_to_goal_and_final_yaw(start_yaw, config):
    final_yaw = math.pi
    follower = PathFollower(L_PATH, config, final_yaw=final_yaw)
    path_len = 3.5
    # Generous bound: the path at a quarter of top speed, plus time for three half turns.
    max_steps = int((path_len / (0.25 * config.max_linear) + 3 * math.pi / (0.25 * config.max_angular)) / DT)

    poses, commands = simulate(follower, (0.0, 0.0, start_yaw), max_steps)

    assert follower.done
    x, y, yaw = poses[-1]
    assert math.dist((x, y), L_PATH[-1]) <= config.goal_tolerance
    assert angle_diff(yaw, final_yaw) <= config.heading_tolerance
    v, omega = commands[:, 0], commands[:, 1]
    assert (v >= 0.0).all() and (v <= config.max_linear + 1e-12).all()
    assert (np.abs(omega) <= config.max_angular + 1e-12).all()
    # Pure pursuit cuts the corner by well under a lookahead; it never wanders off the path.
    assert distance_to_polyline(poses[:, :2], L_PATH).max() < 0.5 * config.lookahead


def test_done_without_final_yaw_then_stands_still():
    follower = PathFollower(L_PATH)
    assert not follower.done
    poses, _ = simulate(follower, (0.0, 0.0, 0.0), 200)
    assert follower.done
    assert math.dist(poses[-1, :2], L_PATH[-1]) <= follower.config.goal_tolerance
    assert follower.command(*poses[-1]) == (0.0, 0.0)


def test_turns_in_place_when_heading_error_is_large():
    follower = PathFollower([(0.0, 0.0), (3.0, 0.0)])
    v, omega = follower.command(0.0, 0.0, -math.pi / 2)  # facing -y, path runs along +x
    assert v == 0.0 and omega > 0.0
    v, omega = follower.command(0.0, 0.0, 0.1)
    assert v > 0.0 and omega < 0.0


def test_slows_down_near_the_goal():
    follower = PathFollower([(0.0, 0.0), (3.0, 0.0)])
    v_far, _ = follower.command(0.5, 0.0, 0.0)
    v_near, _ = follower.command(2.8, 0.0, 0.0)
    assert v_far == pytest.approx(follower.config.max_linear)
    assert 0.0 < v_near < 0.5 * v_far


def test_final_rotation_takes_the_short_way_across_pi():
    follower = PathFollower([(0.0, 0.0)], final_yaw=math.pi)
    _, omega = follower.command(0.0, 0.0, -3.0)  # 0.14 rad short of -pi == pi
    assert omega < 0.0
    poses, commands = simulate(follower, (0.0, 0.0, -3.0), 20)
    assert follower.done
    assert np.abs(poses[:, 2]).min() >= 3.0 - 1e-9, "turned the long way round"
    assert len(commands) <= 5


def test_progress_does_not_jump_to_a_nearby_later_stretch():
    # A hairpin: the return leg runs 0.3 m beside the outbound one and the robot starts nearer to it.
    hairpin = [(0.0, 0.0), (2.0, 0.0), (2.0, 0.3), (0.0, 0.3)]
    follower = PathFollower(hairpin, FollowerConfig(goal_tolerance=0.05))
    poses, _ = simulate(follower, (0.0, 0.2, 0.0), 400)
    assert follower.done
    assert poses[:, 0].max() > 1.7, "skipped the outbound leg"


def test_empty_path_is_rejected():
    with pytest.raises(ValueError):
        PathFollower([])
