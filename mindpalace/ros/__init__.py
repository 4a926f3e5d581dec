"""ROS 2 for mindpalace (docs/ros2.md): one transport seam, two transports, the nodes, rosbag2.

transport (the seam), dds (cyclonedds), rclpy_transport; messages (ROS 2 types as IDL structs), qos, convert,
tf, sync, actions; memory_node (the logic) and memory_node_ros (on a transport), map_messages; agent_node,
remote_reader; sim_bridge, sensor_messages; bag, record (rosbag2); e2e and perf (the commands' work).
Needs the `ros` extra (cyclonedds, rosbags); rclpy only for the rclpy transport.
"""
