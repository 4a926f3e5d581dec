"""The shipped parameter files load into the nodes' configs (every key known, every value of its type)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from mindpalace.core.config import load_config
from mindpalace.ros.agent_node import AgentNodeConfig
from mindpalace.ros.memory_node import MemoryNodeConfig
from mindpalace.ros.sim_bridge import SimBridgeConfig

ROS = Path(__file__).resolve().parents[2] / "ros"


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("memory_node.yaml", MemoryNodeConfig),
        ("memory_node_sim.yaml", MemoryNodeConfig),
        ("agent_node.yaml", AgentNodeConfig),
        ("sim_bridge.yaml", SimBridgeConfig),
    ],
)
def test_parameter_files_load(name: str, cls: type) -> None:
    config = load_config(cls, ROS / "params" / name)
    assert isinstance(config, cls)


def test_the_real_camera_parameters_name_a_realsense_topics_and_perceive_at_a_rate() -> None:
    config = load_config(MemoryNodeConfig, ROS / "params" / "memory_node.yaml", ["memory.bank=/tmp/x.db"])
    assert config.topics.color == "/camera/camera/color/image_raw" and config.perception.segmenter.type == "depth_clusters"
    assert config.rate_hz > 0 and config.memory.bank == "/tmp/x.db"


def test_an_unknown_parameter_is_named() -> None:
    from mindpalace.core.config import ConfigError

    with pytest.raises(ConfigError, match="sync_slope_s"):
        load_config(MemoryNodeConfig, None, ["sync_slope_s=0.1"])


@pytest.mark.parametrize("path", sorted((ROS / "launch").glob("*.launch.py")), ids=lambda p: p.name)
def test_launch_files_define_a_launch_description(path: Path) -> None:
    tree = ast.parse(path.read_text())
    assert any(isinstance(node, ast.FunctionDef) and node.name == "generate_launch_description" for node in tree.body)
