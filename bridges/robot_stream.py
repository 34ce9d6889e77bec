"""The live robot target of ``xmedia.stream`` (the ``StreamTarget`` "robot" declared in ``bridges/routes.py``).

Frames -> optical-flow features (``FlowMotion``) -> bridge commands (``MotionMap.step``, numpy, normalised by a
running ``StreamingNormalizer`` since there is no clip to fit on) -> joint targets -> jerk-limited control steps
(``JointTargetFollower``), one ``RobotCommand`` per control period.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from xmedia.adapters.optical_flow import FlowMotion
from xmedia.adapters.robot import JointTargetFollower, RobotSpec, commands_to_targets
from xmedia.streaming import Command

from .motion_map import MotionMap, StreamingNormalizer


@dataclass(frozen=True)
class RobotCommand(Command):
    """The robot's command: joint state after one control period (radians, rad/s, rad/s^2)."""

    joint_names: tuple[str, ...] = ()
    positions: tuple[float, ...] = ()
    velocities: tuple[float, ...] = ()
    accelerations: tuple[float, ...] = ()
    OSC_FIELDS = ("positions", "velocities")

    def values(self) -> dict:
        return {"joint_names": list(self.joint_names), "positions": list(self.positions),
                "velocities": list(self.velocities), "accelerations": list(self.accelerations)}

    def resting(self) -> "RobotCommand":
        zeros = (0.0,) * len(self.velocities)
        return replace(super().resting(), velocities=zeros, accelerations=zeros)


class RobotController:
    """A stream controller: ``on_frame`` at media rate, ``tick`` at ``control_rate_hz``; ``at_rest`` when stopped."""

    def __init__(self, rate_hz: float, urdf: str = "franka_panda", control_rate_hz: float = 100,
                 range_fraction: float = 0.3, stall_timeout_s: float = 0.5, max_side: int = 160, seed: int = 0,
                 speed_gain_rad_s: float = 0.3):
        self.spec = RobotSpec.from_urdf(urdf)
        self.range_fraction = range_fraction
        self.flow = FlowMotion(rate_hz=rate_hz, max_side=max_side)
        self.bridge = MotionMap(len(self.flow.channels), self.spec.num_joints, energy_index=0,
                                joint_scale=self.spec.half_window(range_fraction).tolist(),
                                speed_gain_rad_s=speed_gain_rad_s, seed=seed)
        self.normalizer = StreamingNormalizer(len(self.flow.channels))
        self.follower = JointTargetFollower(self.spec, control_rate_hz=control_rate_hz, range_fraction=range_fraction,
                                            stall_timeout_s=stall_timeout_s)
        self.control_rate_hz = float(self.follower.control_rate_hz)
        self._last_frame_s = None

    def on_frame(self, rgb: np.ndarray, media_time_s: float) -> None:
        """A new frame: update the features and the normaliser, and give the follower its next target."""
        features = self.flow.process(rgb, time_s=media_time_s)
        dt = 1.0 / self.flow.rate_hz if self._last_frame_s is None else media_time_s - self._last_frame_s
        self._last_frame_s = media_time_s
        if dt <= 0:
            return
        self.normalizer.update(self.bridge, features, dt)
        cmd = self.bridge.step(features, dt)
        self.follower.set_target(commands_to_targets(self.spec, cmd, self.range_fraction), time_s=self.follower.time_s)

    def tick(self) -> RobotCommand:
        """One control period: the joint state after it."""
        t, p, v, a = self.follower.step()
        return RobotCommand(t, joint_names=self.spec.joint_names, positions=tuple(p.tolist()),
                            velocities=tuple(v.tolist()), accelerations=tuple(a.tolist()),
                            stopping=self.follower.stopping)

    def stop(self) -> None:
        """Begin a jerk-limited stop: ``tick`` ramps the velocities to zero (``at_rest`` when done)."""
        self.follower.stop()

    @property
    def time_s(self) -> float:
        """The controller's own clock (seconds of control periods stepped so far)."""
        return self.follower.time_s

    @property
    def at_rest(self) -> bool:
        """Stopped, with no velocity or acceleration left."""
        f = self.follower
        return f.stopping and not np.any(np.abs(f.velocity) > 1e-9) and not np.any(np.abs(f.acceleration) > 1e-9)
