"""The layers as DESIGN.md draws them, checked on the source: which package may import which.

Every `import` and `from ... import` in a module counts, wherever it is written (inside functions too), except
under `if TYPE_CHECKING:`; a registry's lazy "module:attribute" string is not an import, by design.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mindpalace"

# package -> the mindpalace packages it may import (itself always).
ALLOWED = {
    "core": set(),
    "envs": {"core"},
    "perception": {"core"},
    "memory": {"core"},
    "planning": {"core", "memory"},
}


def imports_of(path: Path) -> list[str]:
    """The mindpalace modules a file imports (absolute names), outside TYPE_CHECKING blocks."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(child) for child in ast.walk(node)}
    names = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return [name for name in names if name.startswith("mindpalace.")]


def modules(package: str) -> list[Path]:
    return sorted((PACKAGE / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_layer_imports_only_the_layers_above_it(package: str) -> None:
    wrong = []
    for path in modules(package):
        for name in imports_of(path):
            layer = name.split(".")[1]
            if layer != package and layer not in ALLOWED[package]:
                wrong.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert not wrong, "\n".join(wrong)


def test_planning_reaches_memory_only_through_the_read_only_interface() -> None:
    wrong = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in modules("planning")
        for name in imports_of(path)
        if name.startswith("mindpalace.memory")
        and not name.startswith(("mindpalace.memory.reader", "mindpalace.memory.retrieval"))
    ]
    assert not wrong, "\n".join(wrong)


def test_agent_code_outside_the_oracles_never_imports_a_particular_env() -> None:
    wrong = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in modules("agent")
        if path.name not in ("oracle.py", "tabletop_oracle.py")
        for name in imports_of(path)
        if name.startswith(("mindpalace.envs.household", "mindpalace.envs.tabletop"))
    ]
    assert not wrong, "\n".join(wrong)


def test_agent_code_never_imports_the_benchmarks() -> None:
    """Ground truth (ledgers, scoring) lives in the benchmarks: the agent, planner, memory and perception never reach it."""
    wrong = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for package in ("agent", "planning", "memory", "perception")
        for path in modules(package)
        for name in imports_of(path)
        if name.startswith("mindpalace.benchmarks")
    ]
    assert not wrong, "\n".join(wrong)


# FindingDory: what an agent may use (the recording it replays, the clock on its frames, the interface it implements)
# and the benchmark's ground truth (the ledger and everything built on it), which the agent side never imports.
FINDINGDORY_AGENT_SIDE = ("clock", "recording", "replay", "agents", "planner_agents")
FINDINGDORY_TRUTH = (
    "day", "ledger", "geometry", "world", "resolvers", "templates", "scoring", "baselines", "jobs", "oracle_memory", "suite"
)  # fmt: skip


def test_the_findingdory_agent_side_never_imports_the_ground_truth() -> None:
    folder = PACKAGE / "benchmarks" / "findingdory"
    truth = tuple(f"mindpalace.benchmarks.findingdory.{name}" for name in FINDINGDORY_TRUTH)
    wrong = [
        f"{name}.py imports {imported}"
        for name in FINDINGDORY_AGENT_SIDE
        if (folder / f"{name}.py").exists()
        for imported in imports_of(folder / f"{name}.py")
        if imported.startswith(truth)
    ]
    assert (folder / "ledger.py").exists() and (folder / "planner_agents.py").exists()
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from mindpalace.memory.system import MemorySystem\n"
        "def f():\n    import mindpalace.perception.pipeline\n    from mindpalace.envs import make\n"
    )
    assert imports_of(source) == ["mindpalace.perception.pipeline", "mindpalace.envs", "mindpalace.envs.make"]
