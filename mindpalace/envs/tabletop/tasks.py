"""The three MemoryBench tasks: their variations, start states, instructions and success rules.

MemoryBench (SAM2Act, ICML 2025) breaks the Markov property on purpose: in each task two histories lead
to the same scene at the decision point (just after the button press), and only memory says what to do
next. The rules follow its RLBench success conditions, checked in order:

- reopen_drawer (3 variations: which drawer starts open): that drawer is closed, then the button is
  pressed, then that drawer is open again (and the other two closed).
- put_block_back (4 variations: which patch holds the block): the block rests in the centre zone, then
  the button is pressed, then the block rests on the patch it came from with nothing grasped.
- rearrange_block (2 variations: which of two patches holds a block; another block is in the centre):
  the centre block rests on the empty patch (the other still on its patch), then the button is pressed,
  then the block that was on a patch rests in the centre zone, the other on its new patch, nothing grasped.

A monitor per episode (history state, not part of the scene) advances through those phases as the
simulator reports the world's state after every physics step.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from mindpalace.envs.tabletop.scene import DRAWERS

DECISION_PHASE = 2  # the phase the press leads into: from here on only memory tells the two histories apart


@dataclass(frozen=True)
class WorldState:
    """What the monitor reads from the simulator: drawers open or closed, presses so far, where blocks rest."""

    open_drawers: frozenset[str]
    closed_drawers: frozenset[str]
    presses: int
    resting: dict[str, str | None]  # block -> the place it rests on (patch or "centre"), None if elsewhere or moving
    grasped: str | None  # the block the fingers hold, if any


@dataclass
class Monitor(ABC):
    """Phases of one episode: 0 first sub-goal, 1 press the button, 2 the memory-dependent last sub-goal."""

    phase: int = 0
    presses_at_phase: int = 0
    success: bool = False
    log: list[str] = field(default_factory=list)  # what advanced the phases, in order

    def advance(self, world: WorldState) -> None:
        if self.phase == 0 and self.first_goal(world):
            self._next(world, "first sub-goal reached")
        elif self.phase == 1 and world.presses > self.presses_at_phase:
            self._next(world, "button pressed")
        if self.phase == DECISION_PHASE:
            self.success = self.last_goal(world)

    def _next(self, world: WorldState, what: str) -> None:
        self.phase += 1
        self.presses_at_phase = world.presses
        self.log.append(what)

    @abstractmethod
    def first_goal(self, world: WorldState) -> bool: ...

    @abstractmethod
    def last_goal(self, world: WorldState) -> bool: ...


@dataclass
class ReopenDrawerMonitor(Monitor):
    drawer: str = DRAWERS[0]

    def first_goal(self, world: WorldState) -> bool:
        return self.drawer in world.closed_drawers

    def last_goal(self, world: WorldState) -> bool:
        return world.open_drawers == {self.drawer} and len(world.closed_drawers) == len(DRAWERS) - 1


@dataclass
class PutBlockBackMonitor(Monitor):
    block: str = "block_a"
    patch: str = "patch_front"

    def first_goal(self, world: WorldState) -> bool:
        return world.resting[self.block] == "centre" and world.grasped is None

    def last_goal(self, world: WorldState) -> bool:
        return world.resting[self.block] == self.patch and world.grasped is None


@dataclass
class RearrangeBlockMonitor(Monitor):
    original: str = "block_a"  # the block that starts on a patch
    moved: str = "block_b"  # the block that starts in the centre
    patch: str = "patch_front"  # where the original starts
    empty: str = "patch_back"  # where the moved block must go

    def first_goal(self, world: WorldState) -> bool:
        return world.resting[self.moved] == self.empty and world.resting[self.original] == self.patch and world.grasped is None

    def last_goal(self, world: WorldState) -> bool:
        return world.resting[self.original] == "centre" and world.resting[self.moved] == self.empty and world.grasped is None


@dataclass(frozen=True)
class Start:
    """A variation's start state: where each block rests, which drawer is open; and its monitor."""

    blocks: dict[str, str]
    open_drawer: str | None
    monitor: Monitor


@dataclass(frozen=True)
class TaskSpec:
    name: str
    variations: int
    instruction: str  # one for all variations: the history, not the words, says which
    chance: float  # success of a uniform guess at the decision point
    patches: tuple[str, ...] = ("patch_front", "patch_back", "patch_left", "patch_right")  # on the table

    def start(self, variation: int) -> Start:
        if not 0 <= variation < self.variations:
            raise ValueError(f"{self.name} has variations 0..{self.variations - 1}, got {variation}")
        if self.name == "reopen_drawer":
            drawer = DRAWERS[variation]
            return Start({}, drawer, ReopenDrawerMonitor(drawer=drawer))
        if self.name == "put_block_back":
            patch = PUT_BACK_PATCHES[variation]
            return Start({"block_a": patch}, None, PutBlockBackMonitor(block="block_a", patch=patch))
        # rearrange_block. Blocks are named by where they rest at the decision point (block_a on the first patch,
        # block_b on the second), so the two variations agree there, ids and all; the history differs.
        first, second = REARRANGE_PATCHES
        if variation == 0:
            return Start(
                {"block_a": first, "block_b": "centre"},
                None,
                RearrangeBlockMonitor(original="block_a", moved="block_b", patch=first, empty=second),
            )
        return Start(
            {"block_b": second, "block_a": "centre"},
            None,
            RearrangeBlockMonitor(original="block_b", moved="block_a", patch=second, empty=first),
        )


PUT_BACK_PATCHES = ("patch_front", "patch_back", "patch_left", "patch_right")
REARRANGE_PATCHES = ("patch_front", "patch_back")

TASKS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in (
        TaskSpec(
            "reopen_drawer",
            3,
            "Close the open drawer, press the button, then open that same drawer again.",
            1 / 3,
        ),
        TaskSpec(
            "put_block_back",
            4,
            "Move the block to the centre zone, press the button, then put the block back on the patch it came from.",
            1 / 4,
        ),
        TaskSpec(
            "rearrange_block",
            2,
            "Move the block in the centre zone to the empty patch, press the button, then move the block that was "
            "on a patch before to the centre zone.",
            1 / 2,
            # Two patches, as the task's two variations: "the empty patch" names one.
            REARRANGE_PATCHES,
        ),
    )
}


def task_blocks(task: str) -> tuple[str, ...]:
    """The blocks a task's scene has (every variation of a task has the same ones)."""
    return tuple(sorted(TASKS[task].start(0).blocks))
