"""ROS 2 launch file for the memory node: `ros2 launch ros/launch/memory_node.launch.py bank:=/data/home.db`.

It runs the `mindpalace ros memory` console entry point (pip install mindpalace[ros]) on rclpy; pass
transport:=dds to run it on the DDS transport instead (same topics, no rclpy needed).
"""

from pathlib import Path

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess
from launch.substitutions import LaunchConfiguration

PARAMS = Path(__file__).resolve().parents[1] / "params"


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription(
        [
            DeclareLaunchArgument("bank", description="the memory bank to open or create (a restart continues it)"),
            DeclareLaunchArgument("params", default_value=str(PARAMS / "memory_node.yaml")),
            DeclareLaunchArgument("transport", default_value="rclpy", choices=["rclpy", "dds"]),
            ExecuteProcess(
                cmd=[
                    "mindpalace",
                    "ros",
                    "memory",
                    "--bank",
                    LaunchConfiguration("bank"),
                    "--config",
                    LaunchConfiguration("params"),
                    "--transport",
                    LaunchConfiguration("transport"),
                ],
                output="screen",
            ),
        ]
    )
