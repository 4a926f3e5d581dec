"""FindingDory-style memory benchmark: a day lived once and recorded, then instructions only memory of it resolves.

Agent-visible parts: `clock` (the day's time of day), `recording` (the frames on disk), `replay` (the day
played back as an env), `agents` (the interface an agent implements). Benchmark side, never imported by
agent code: `day` (living and recording a day), `ledger` (ground truth), `world` (scoring geometry),
`resolvers` and `templates` (task kinds), `scoring`, `baselines`, `jobs`.
"""

from mindpalace.envs import register

register(
    "mindpalace/Replay-v0",
    "mindpalace.benchmarks.findingdory.replay:ReplayEnv",
    description="A recorded day played back frame by frame (FindingDory suite); argument: recording=<folder>.",
)
