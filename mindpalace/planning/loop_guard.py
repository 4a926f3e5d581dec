"""Catching a planner that goes round in circles: the same call over and over, or many calls and no progress.

After each skill the planner reports the call, a short state string (rounded pose, held object, last outcome)
and whether the skill succeeded. The guard answers with a verdict that escalates: "replan" (with the
repeated call banned), then "explore" (the planner forces an exploration skill), then "abort".
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from mindpalace.planning.parsing import Call


@dataclass
class LoopGuardConfig:
    window: int = 8  # decisions remembered
    max_call_repeats: int = 2  # the same call in the same state this many times -> intervene
    max_stalls: int = 4  # consecutive decisions without a state change -> intervene
    max_interventions: int = 4  # then give up


@dataclass(frozen=True)
class GuardVerdict:
    action: str  # "ok" | "replan" | "explore" | "abort"
    reason: str
    banned: frozenset[str] = frozenset()  # Call.key() values the planner must not choose next


class LoopGuard:
    def __init__(self, config: LoopGuardConfig | None = None) -> None:
        self.config = config or LoopGuardConfig()
        self.reset()

    def reset(self) -> None:
        """Forget everything: call at the start of an episode."""
        self._history: deque[tuple[str, str]] = deque(maxlen=self.config.window)  # (call key, state)
        self._last_state: str | None = None
        self._stalls = 0
        self._bans: dict[str, str] = {}  # call key -> the state it was banned in
        self._replanned: set[str] = set()  # call keys that already caused a replan
        self._interventions = 0
        self._abort_reason = ""

    def check(self, call: Call, state: str, success: bool) -> GuardVerdict:
        """The verdict after running `call`, which left the robot in `state`."""
        if self._abort_reason:
            return GuardVerdict("abort", self._abort_reason)
        key = call.key()
        self._history.append((key, state))
        # Only a successful skill that changes the state is progress: a failure changes the state string
        # too (its outcome is part of it) without getting the robot anywhere.
        progressed = success and state != self._last_state
        self._stalls = 0 if progressed else self._stalls + 1
        self._last_state = state
        self._bans = {k: s for k, s in self._bans.items() if s == state}  # a ban lasts while the state is unchanged

        repeats = sum(1 for entry in self._history if entry == (key, state))
        # A call that fails the same way twice will not succeed the third time: it needs fewer repeats.
        limit = self.config.max_call_repeats if success else min(2, self.config.max_call_repeats)
        what = f"{call.render()} {'repeated' if success else 'failed'} {repeats} times in the same state"
        if repeats >= limit and key in self._replanned:
            return self._intervene("explore", f"{what}, even after a replan")
        if repeats >= limit:
            self._replanned.add(key)
            self._bans[key] = state
            return self._intervene("replan", what)
        if self._stalls >= self.config.max_stalls:
            return self._intervene("explore", f"no progress in the last {self._stalls} decisions")
        return GuardVerdict("ok", "", frozenset(self._bans))

    def _intervene(self, action: str, reason: str) -> GuardVerdict:
        self._interventions += 1
        if self._interventions > self.config.max_interventions:
            self._abort_reason = f"gave up after {self.config.max_interventions} interventions: {reason}"
            return GuardVerdict("abort", self._abort_reason)
        self._stalls = 0  # each intervention gets a fresh chance to make progress
        return GuardVerdict(action, reason, frozenset(self._bans))
