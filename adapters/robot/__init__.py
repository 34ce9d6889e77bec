"""Robots: a URDF-backed spec, jerk-limited online trajectory generation (ruckig), trajectories and playback.

A route provider (entry point ``xmedia.adapters.robot``): the decoder step "robot-trajectory" turns joint
commands (``controls:robot``) into a ``Trajectory``. Modules, one job each:

- ``spec``: ``RobotSpec.from_urdf("franka_panda" | "kuka_iiwa" | "xarm6" | path)``, joint limits from the URDF
  and ``robot_limits.yaml``, the target window and braking-distance velocity caps; ``RobotError``.
- ``follow``: ``JointTargetFollower`` (media-rate targets in, control-rate states out), ``follow_targets``
  (offline), ``commands_to_targets`` and the route step ``robot_trajectory``.
- ``trajectory``: ``Trajectory`` (``KIND = "robot"``) and its ``.json`` (ROS 2 JointTrajectory shape) and
  ``.csv`` formats (entry point ``xmedia.adapters.robot.trajectory`` of ``xmedia.formats``).
- ``sim``: ``simulate``, pybullet (DIRECT) kinematic playback that checks limits and self-collisions and
  renders mp4/gif.
- ``report``: ``fidelity`` (motion-energy envelope vs joint-speed envelope) and ``plot_report``.
"""
from __future__ import annotations

from .follow import (COMMAND_UNIT, MAX_CONTROL_RATE_HZ, JointTargetFollower, commands_to_targets, follow_targets,
                     joint_commands, robot_trajectory)
from .report import fidelity, plot_report
from .sim import simulate
from .spec import LIMITS_YAML, RobotError, RobotSpec, robot_names, stopping_distance, velocity_that_stops_within
from .trajectory import Trajectory

__all__ = [
    "COMMAND_UNIT", "LIMITS_YAML", "MAX_CONTROL_RATE_HZ", "JointTargetFollower", "RobotError", "RobotSpec",
    "Trajectory", "commands_to_targets", "fidelity", "follow_targets", "joint_commands", "plot_report",
    "robot_names", "robot_trajectory", "simulate", "stopping_distance", "velocity_that_stops_within",
]
