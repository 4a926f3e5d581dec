"""Benchmark suites by name, with lazy "module:Class" entry points (`mindpalace bench NAME`).

A suite plugs into the runner by registering here (or, for a suite outside the package, by passing its
"module:Class" entry point as the suite name on the command line).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from mindpalace.benchmarks.suite import Suite
from mindpalace.core.registry import Registry, RegistryError

SUITES: Registry[Suite] = Registry("benchmark suite")
SUITES.register(
    "smoke",
    "mindpalace.benchmarks.smoke:SmokeSuite",
    description="Light seeded jobs of fixed work: checks that a machine or a Ray cluster runs mindpalace jobs, "
    "and measures the runner's own throughput.",
)
SUITES.register(
    "memorybench",
    "mindpalace.benchmarks.memorybench:MemoryBenchSuite",
    description="MemoryBench's three memory tasks (SAM2Act) on the MuJoCo tabletop arm, per agent.",
)
SUITES.register(
    "findingdory",
    "mindpalace.benchmarks.findingdory.suite:FindingDorySuite",
    description="FindingDory's 11 categories of memory tasks over recorded household days, per agent (HL/LL success, SPL).",
)


@dataclass(frozen=True)
class SuiteSpec:
    """How to build a suite anywhere (in the runner, a worker process, a Ray node): picklable and JSON-ready."""

    name: str
    entry_point: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    def create(self) -> Suite:
        module_name, _, attribute = self.entry_point.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as error:
            raise RegistryError(f"benchmark suite {self.name!r}: cannot load {self.entry_point!r}: {error}") from error
        suite = factory(**self.kwargs)
        if not isinstance(suite, Suite):
            raise RegistryError(f"benchmark suite {self.name!r}: {self.entry_point!r} is not a mindpalace Suite")
        return suite


def suite_spec(name: str) -> SuiteSpec:
    """The registered suite `name`, or a "module:Class" entry point given directly."""
    if ":" in name and name not in SUITES.names():
        return SuiteSpec(name, name)
    SUITES.load(name)  # an unknown name, or a missing optional dependency, is reported here with its hint
    entry = SUITES.entry(name)
    return SuiteSpec(name, entry.entry_point, dict(entry.kwargs))
