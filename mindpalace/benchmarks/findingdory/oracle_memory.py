"""`oracle_memory`: the same planner and memory tools over a perfect memory of the day, written from the ledger.

The ceiling of what memory can give the planner (benchmark side: it reads the ground truth). For each task a bank is
filled from the ledger the way perception and the runtime fill one: every object and piece of furniture on the
live map and in the object store at its true place (where it rests at the test start), under the name the
segmenter gives it; the robot's picks and places with their true times, sources and goals; every room it entered;
the day's clock. The planner then answers exactly as the memory presets do. Each stop is the viewpoint of what the
planner named (the pose from which FindingDory's check would see it), so that the ceiling measures remembering and
choosing, not a map's detail; a point or a name the ledger does not hold stops where the robot stands.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from mindpalace.agent.runtime import AgentRuntime
from mindpalace.agent.skills import SkillConfig, SkillOutcome, fail, ok, resolve_target, run_skill
from mindpalace.benchmarks.findingdory.agents import Answer, DayContext, Pose, Stop, TaskContext
from mindpalace.benchmarks.findingdory.baselines import Oracle
from mindpalace.benchmarks.findingdory.clock import DayClock
from mindpalace.benchmarks.findingdory.ledger import Ledger, Target
from mindpalace.benchmarks.findingdory.planner_agents import BANK_FILE, Stops, agent_config, open_bank, run_planner
from mindpalace.core.types import Event, Percept
from mindpalace.memory.system import MemorySystem

OBJECT_HALF = 0.04  # m: the box a remembered object is given around its true position


def _percept(memory: MemorySystem, label: str, low: np.ndarray, high: np.ndarray, time_s: float) -> Percept:
    """A percept of a box, as perception would hand one over (its corners and centre as points)."""
    corners = np.array([[x, y, z] for x in (low[0], high[0]) for y in (low[1], high[1]) for z in (low[2], high[2])])
    points = np.vstack([corners, (low + high) / 2])
    return Percept(label=label, mask=np.zeros((2, 2), bool), points=points, centroid=points.mean(axis=0), aabb_min=low,
                   aabb_max=high, obb_center=(low + high) / 2, obb_rotation=np.eye(3), obb_extent=high - low,
                   embedding=memory.embedder.embed([label.replace("_", " ")])[0], confidence=1.0, time_s=time_s)  # fmt: skip


def write_ledger(memory: MemorySystem, ledger: Ledger) -> dict[int, Target]:
    """Fill `memory` with the ledger's day; returns each map id's ledger target."""
    assert memory.spatial is not None
    clock = DayClock.from_dict(ledger.clock)
    for time_s in (0.0, ledger.duration_s):
        memory.clock.observe(time_s, clock.time_of_day(time_s), clock.day)
    memory.spatial.set_rooms([(r.name, [(r.rect[0], r.rect[1]), (r.rect[2], r.rect[1]), (r.rect[2], r.rect[3]),
                                        (r.rect[0], r.rect[3])]) for r in ledger.rooms], privileged=False)  # fmt: skip
    targets: dict[int, Target] = {}
    names: dict[str, str] = {}  # ledger key -> the name memory gives it ("mug #12")
    things = [("furniture", f.id, f.type, f.room, np.array([*f.footprint[:2], 0.0]), np.array([*f.footprint[2:], f.center[2]]))
              for f in ledger.furniture]  # fmt: skip
    for o in ledger.objects:
        position = np.array(o.final_position)
        things.append(("object", o.id, o.category, o.final_room, position - OBJECT_HALF, position + OBJECT_HALF))
    end = ledger.duration_s
    for kind, ref, label, room, low, high in things:
        (update,) = memory.spatial.objects.integrate([_percept(memory, label, low, high, end)], end)
        targets[update.object_id] = Target(kind, ref)
        names[f"{kind}:{ref}"] = f"{label.replace('_', ' ')} #{update.object_id}"
        attributes = {}
        if kind == "object":
            info = ledger.object(int(ref))
            attributes = {"color": info.color, "material": info.material}
        x, y, z = ((low + high) / 2).tolist()
        memory.remember_object(update.object_id, label, (x, y, z), end, room=room,
                               attributes=attributes, change="new")  # fmt: skip
    for room, entered, _ in ledger.room_visits:
        memory.record_event(Event("robot", "enter_room", entered, entered, {"room": room}, (), room))
    for move in ledger.interactions:
        name = names[f"object:{move.object}"]
        source, goal = names[f"furniture:{move.source.furniture}"], names[f"furniture:{move.goal.furniture}"]
        pick_room, place_room = ledger.piece(move.source.furniture).room, ledger.piece(move.goal.furniture).room
        object_id = int(name.rsplit("#", 1)[1])
        memory.record_event(Event("robot", "pick", move.source_span[0], move.source_span[1], {"object": name, "from": source},
                                  (object_id,), pick_room))  # fmt: skip
        memory.record_event(Event("robot", "place", move.goal_span[0], move.goal_span[1],
                                  {"object": name, "receptacle": goal, "relation": move.goal.relation}, (object_id,), place_room))  # fmt: skip
    memory.flush()
    return targets


class OracleMemoryAgent:
    name = "oracle_memory"
    privileged = True
    prepares_day = False

    def prepare(self, context: DayContext) -> dict[str, Any]:
        return {}

    def answer(self, context: TaskContext, oracle: Oracle | None = None) -> Answer:
        if oracle is None:
            return Answer(error="oracle_memory is a privileged baseline: it needs the ledger")
        config = agent_config(context.config)
        with tempfile.TemporaryDirectory(prefix="fd-oracle-") as folder:
            config.memory.bank = str(Path(folder) / BANK_FILE)
            with open_bank(config) as memory:
                targets = write_ledger(memory, oracle.world.ledger)
                answer, _ = run_planner(context, memory, config, skill_runner=_ViewpointStops(oracle, targets))
        return answer


class _ViewpointStops(Stops):
    """navigate_to commits to the named thing's viewpoint; checkpoint and done stop there (high level only)."""

    def __init__(self, oracle: Oracle, targets: dict[int, Target]) -> None:
        super().__init__(low_level=False)
        self.oracle, self.targets = oracle, targets

    def __call__(self, runtime: AgentRuntime, name: str, arguments: dict[str, Any], config: SkillConfig | None) -> SkillOutcome:
        world = self.oracle.world
        if name == "navigate_to":
            found = resolve_target(runtime, arguments["target"])
            if isinstance(found, SkillOutcome):
                return found
            target = Target("room", found.name) if found.kind == "room" else self.targets.get(found.obj.id) if found.obj else None
            if target is None:
                return fail("unknown_target", f"{found.name} is not in the day's record")
            self.chosen, self.label = world.viewpoint(target) or world.approach(target), found.name
            return ok(f"chose the stop at {found.name}")
        if name in ("checkpoint", "done"):
            self.stops.append(Stop(self.chosen or Pose.of(runtime.obs), None, self.label or "where it stood"))
            self.chosen, self.label = None, ""
            return run_skill(runtime, name, arguments, config)
        return fail("not_available", "a high-level answer only chooses places: navigate_to, then checkpoint or done")
