"""ROS 2 launch file for the whole stack on the simulator: the sim bridge, the memory node and the agent node.

    ros2 launch ros/launch/sim.launch.py bank:=/tmp/sim.db

Then: `ros2 action send_goal /mindpalace/instruct mindpalace_msgs/action/Instruct "{instruction: 'Where is the mug?'}"`
(with ros/mindpalace_msgs built by colcon), or `ros2 topic pub --once /mindpalace/instruction std_msgs/msg/String
"{data: 'Go to the kitchen.'}"`; RViz shows /mindpalace/map and /mindpalace/markers in the map frame.
"""

from pathlib import Path

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess
from launch.substitutions import LaunchConfiguration

PARAMS = Path(__file__).resolve().parents[1] / "params"


def generate_launch_description() -> LaunchDescription:
    transport = LaunchConfiguration("transport")
    return LaunchDescription(
        [
            DeclareLaunchArgument("bank", description="the memory bank to open or create"),
            DeclareLaunchArgument("transport", default_value="rclpy", choices=["rclpy", "dds"]),
            ExecuteProcess(
                cmd=["mindpalace", "ros", "sim", "--config", str(PARAMS / "sim_bridge.yaml"), "--transport", transport],
                output="screen",
            ),
            ExecuteProcess(
                cmd=[
                    "mindpalace",
                    "ros",
                    "memory",
                    "--bank",
                    LaunchConfiguration("bank"),
                    "--config",
                    str(PARAMS / "memory_node_sim.yaml"),
                    "--transport",
                    transport,
                ],
                output="screen",
            ),
            ExecuteProcess(
                cmd=["mindpalace", "ros", "agent", "--config", str(PARAMS / "agent_node.yaml"), "--transport", transport],
                output="screen",
            ),
        ]
    )
