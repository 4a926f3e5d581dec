"""ROS 2 launch file for the agent node: `ros2 launch ros/launch/agent_node.launch.py`."""

from pathlib import Path

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess
from launch.substitutions import LaunchConfiguration

PARAMS = Path(__file__).resolve().parents[1] / "params"


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription(
        [
            DeclareLaunchArgument("params", default_value=str(PARAMS / "agent_node.yaml")),
            DeclareLaunchArgument("transport", default_value="rclpy", choices=["rclpy", "dds"]),
            ExecuteProcess(
                cmd=[
                    "mindpalace",
                    "ros",
                    "agent",
                    "--config",
                    LaunchConfiguration("params"),
                    "--transport",
                    LaunchConfiguration("transport"),
                ],
                output="screen",
            ),
        ]
    )
