"""Jerk-limited target following (ruckig): media-rate joint targets in, control-rate joint states out.

Targets arrive at media rate (10-60 Hz); the controller runs at ``control_rate_hz`` (100 Hz default as in
ros2_control, up to 1 kHz as Franka FCI); ruckig computes each step time-optimally under velocity, acceleration
and jerk limits. Non-finite targets are held, single-frame spikes rejected, and a stalled stream (no target for
``stall_timeout_s``) is brought to a smooth stop. ``robot_trajectory`` is the route's decoder step
"robot-trajectory": joint commands in [-1, 1] (``controls:robot``) -> a ``Trajectory``.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from xmedia.errors import ConfigError, XMediaError
from xmedia.limits import check as check_limit
from xmedia.media import Motion
from xmedia.node_kinds import NodeKind
from xmedia.routing import step

from .spec import RobotSpec, stopping_distance
from .trajectory import Trajectory

MAX_CONTROL_RATE_HZ = 1000


class JointTargetFollower:
    """Online jerk-limited target following: ``set_target`` at media rate, ``step`` at the control rate.

    Never exceeds the limits of ``spec.motion_limits(...)``: ruckig keeps velocity, acceleration and jerk
    within them from any reachable state, targets are clipped into the target window, and the velocity cap
    keeps every overshoot inside the joint limits. Bad targets: a non-finite value holds that joint's last
    target; a jump larger than ``spike_fraction`` of the window is held until a second target confirms it.
    """

    def __init__(self, spec: RobotSpec, control_rate_hz: float = 100, range_fraction: float = 0.3,
                 stall_timeout_s: float = 0.5, spike_fraction: float = 0.5, velocity_scale: float = 1.0,
                 acceleration_scale: float = 1.0, jerk_scale: float = 1.0, start=None):
        from ruckig import InputParameter, OutputParameter, Ruckig

        if not 1 <= control_rate_hz <= MAX_CONTROL_RATE_HZ:
            raise ConfigError(f"control_rate_hz must be in [1, {MAX_CONTROL_RATE_HZ}], got {control_rate_hz}")
        if stall_timeout_s <= 0:
            raise ConfigError(f"stall_timeout_s must be positive, got {stall_timeout_s}")
        self.spec, self.control_rate_hz = spec, Fraction(control_rate_hz).limit_denominator(1000)
        self.limits = spec.motion_limits(range_fraction, velocity_scale, acceleration_scale, jerk_scale)
        self.stall_timeout_s, self.spike_fraction = float(stall_timeout_s), float(spike_fraction)
        n = spec.num_joints
        self._otg = Ruckig(n, 1.0 / float(self.control_rate_hz))
        self._inp, self._out = InputParameter(n), OutputParameter(n)
        self._inp.max_velocity = self.limits["max_velocity"].tolist()
        self._inp.max_acceleration = self.limits["max_acceleration"].tolist()
        self._inp.max_jerk = self.limits["max_jerk"].tolist()
        start = spec.home if start is None else np.clip(np.asarray(start, float), spec.lower, spec.upper)
        self._inp.current_position = start.tolist()
        self._inp.current_velocity = [0.0] * n
        self._inp.current_acceleration = [0.0] * n
        self._target = np.clip(start, self.limits["target_lower"], self.limits["target_upper"])
        self._pending, self._cruise_s = None, 0.0
        self._set_position_target(self._target)
        self.time_s = 0.0
        self.last_target_s = 0.0
        self.stopping = False
        self.rejected = 0

    # state
    @property
    def position(self) -> np.ndarray:
        return np.array(self._inp.current_position)

    @property
    def velocity(self) -> np.ndarray:
        return np.array(self._inp.current_velocity)

    @property
    def acceleration(self) -> np.ndarray:
        return np.array(self._inp.current_acceleration)

    def set_target(self, target, time_s: float | None = None) -> np.ndarray:
        """Accept a new joint target (rad); returns the target actually used after holding/clipping.

        The target's velocity is estimated from the previous accepted target, so ruckig tracks a moving target
        smoothly instead of stopping at every media frame; it is capped so that cruising one media interval
        past the target and then braking stays inside the target window.
        """
        q = np.array(target, dtype=np.float64).reshape(-1)
        if q.size != self.spec.num_joints:
            raise ConfigError(f"{self.spec.name} has {self.spec.num_joints} joints, got a target of {q.size}")
        now = self.time_s if time_s is None else float(time_s)
        interval = now - self.last_target_s
        self.last_target_s = now
        bad = ~np.isfinite(q)
        if bad.all():
            self.rejected += 1
            return self._target  # nothing usable: treat like a dropped frame (the stall timer keeps running)
        lo, hi = self.limits["target_lower"], self.limits["target_upper"]
        q = np.clip(np.where(bad, self._target, q), lo, hi)
        span = np.maximum(hi - lo, 1e-12)
        jump = np.abs(q - self._target) > self.spike_fraction * span
        if jump.any():
            confirmed = self._pending is not None and np.all(
                np.abs(q - self._pending)[jump] <= self.spike_fraction * span[jump] / 2)
            if not confirmed:
                self._pending = q
                self.rejected += 1
                q = np.where(jump, self._target, q)
        else:
            self._pending = None
        velocity, aim, duration = np.zeros_like(q), q, None
        if 0 < interval <= self.stall_timeout_s and not self.stopping:
            # aim where the target will be at the next frame and get there in one frame interval: the motion
            # is spread over the interval instead of a time-optimal dash and stop at every frame
            velocity = np.where(bad | jump, 0.0, (q - self._target) / interval)
            aim = np.clip(q + velocity * interval, lo, hi)
            self._cruise_s, duration = interval, interval
            velocity = self._safe_velocity(aim, velocity)
        self._target = q
        self._set_position_target(aim, velocity, duration)
        return q

    def _safe_velocity(self, q: np.ndarray, velocity: np.ndarray) -> np.ndarray:
        """Cap a target velocity so cruising ``_cruise_s`` and then braking ends inside the target window."""
        L = self.limits
        vmax, room = L["max_velocity"], np.where(velocity >= 0, L["target_upper"] - q, q - L["target_lower"])
        v = np.clip(np.abs(velocity), 0, 0.9 * vmax)
        for i in range(v.size):
            while v[i] > 1e-9 and v[i] * self._cruise_s + stopping_distance(
                    v[i], L["max_acceleration"][i], L["max_jerk"][i]) > room[i]:
                v[i] *= 0.7 if v[i] > 1e-3 else 0.0
        return np.sign(velocity) * v

    def _set_position_target(self, q, velocity=None, duration_s=None):
        from ruckig import ControlInterface

        n = self.spec.num_joints
        self._inp.control_interface = ControlInterface.Position
        self._inp.minimum_duration = duration_s
        self._inp.target_position = np.asarray(q).tolist()
        self._inp.target_velocity = [0.0] * n if velocity is None else np.asarray(velocity).tolist()
        self._inp.target_acceleration = [0.0] * n
        self._reached_s = None
        self.stopping = False

    def stop(self) -> None:
        """Ramp every joint's velocity to zero within the jerk limits (``set_target`` resumes following)."""
        self._stop()

    def _stop(self):
        from ruckig import ControlInterface

        self._inp.control_interface = ControlInterface.Velocity
        self._inp.target_velocity = [0.0] * self.spec.num_joints
        self._inp.target_acceleration = [0.0] * self.spec.num_joints
        self.stopping = True

    def step(self) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        """Advance one control period: ``(time_s, positions, velocities, accelerations)`` after it."""
        from ruckig import Result

        if not self.stopping and self.time_s - self.last_target_s > self.stall_timeout_s:
            self._stop()
        result = self._otg.update(self._inp, self._out)
        if result not in (Result.Working, Result.Finished):
            raise XMediaError(f"trajectory generation failed ({result}) for {self.spec.name}; this is a bug, please report it")
        self._out.pass_to_input(self._inp)
        self.time_s += 1.0 / float(self.control_rate_hz)
        if result == Result.Finished and not self.stopping:
            # reached (target, target velocity): ruckig then cruises at that velocity; allow one media interval
            self._reached_s = self.time_s if self._reached_s is None else self._reached_s
            if any(self._inp.target_velocity) and self.time_s - self._reached_s >= self._cruise_s:
                self._stop()
        if self.stopping and result == Result.Finished:  # at rest: hold here until a new target arrives
            self._target = np.clip(self.position, self.limits["target_lower"], self.limits["target_upper"])
        return self.time_s, self.position, self.velocity, self.acceleration


def follow_targets(spec: RobotSpec, times_s, targets, control_rate_hz: float = 100, settle_s: float = 2.0,
                   **follower_options) -> Trajectory:
    """Offline: feed ``targets`` ``(T, J)`` at ``times_s`` into a ``JointTargetFollower``; sample every step.

    The trajectory starts at home at rest and runs until ``settle_s`` after the last target (so it ends at
    rest on the last target, or stopped by the stall timeout when the targets have a long gap at the end).
    """
    times_s = np.asarray(times_s, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    if targets.ndim != 2 or targets.shape[0] != times_s.size or targets.shape[1] != spec.num_joints:
        raise ConfigError(f"targets must be (T, {spec.num_joints}) with one time per row; got {targets.shape} "
                          f"and {times_s.size} times")
    f = JointTargetFollower(spec, control_rate_hz=control_rate_hz, **follower_options)
    end_s = (times_s[-1] if times_s.size else 0.0) + settle_s
    check_limit("duration_s", end_s, "robot trajectory duration")
    # preallocated (an hour at 100 Hz is 360 000 steps: a list of small arrays would cost ten times the memory)
    size = int(np.ceil(end_s * float(f.control_rate_hz))) + 2
    state = np.empty((3, size, spec.num_joints))
    state[:, 0] = f.position, f.velocity, f.acceleration
    k, n = 0, 1
    while f.time_s < end_s - 1e-9:
        while k < times_s.size and times_s[k] <= f.time_s + 1e-9:
            f.set_target(targets[k], time_s=times_s[k])
            k += 1
        _, p, v, a = f.step()
        if n == len(state[0]):
            state = np.concatenate([state, np.empty_like(state[:, :64])], axis=1)
        state[:, n] = p, v, a
        n += 1
    return Trajectory(spec.joint_names, f.control_rate_hz, state[0, :n].copy(), state[1, :n].copy(),
                      state[2, :n].copy(), limits={k: np.asarray(v) for k, v in f.limits.items()}, robot=spec.name)


def commands_to_targets(spec: RobotSpec, commands: np.ndarray, range_fraction: float = 0.3) -> np.ndarray:
    """Normalised commands in [-1, 1] (0 = home, +-1 = window edges) -> joint targets (rad).

    Extra command columns are ignored, missing joints stay at home, and non-finite commands stay non-finite so
    the follower holds them (instead of silently sending the arm home).
    """
    c = np.asarray(commands, dtype=np.float64)
    j = min(c.shape[-1], spec.num_joints)
    out = np.broadcast_to(spec.home, c.shape[:-1] + (spec.num_joints,)).copy()
    out[..., :j] += np.clip(c[..., :j], -1, 1) * spec.half_window(range_fraction)[:j]
    out[..., :j] = np.where(np.isfinite(c[..., :j]), out[..., :j], np.nan)
    return out


COMMAND_UNIT = "normalized"  # a joint command: 0 = home, +-1 = the edges of the joint's window


def is_joint_commands(value) -> bool:
    """A ``Motion`` of joint commands: every channel in ``COMMAND_UNIT``, every value in [-1, 1]."""
    return (isinstance(value, Motion) and all(u == COMMAND_UNIT for u in value.units)
            and bool(np.all(np.abs(value.values) <= 1.0)))


joint_commands = NodeKind("controls:robot", is_joint_commands,
                          f"a Motion of joint commands (one {COMMAND_UNIT!r} channel per joint, values in [-1, 1])")


@step("controls:robot", "robot", name="robot-trajectory", cost=1.0, kind="decoder",
      description="ruckig jerk-limited online trajectory at the control rate (100 Hz default, up to 1 kHz)")
def robot_trajectory(commands: Motion, urdf: str = "franka_panda", control_rate_hz: float = 100,
                     range_fraction: float = 0.3, stall_timeout_s: float = 0.5) -> Trajectory:
    """Joint commands in [-1, 1] (a ``Motion``, one channel per joint) -> the jerk-limited ``Trajectory``."""
    spec = RobotSpec.from_urdf(urdf)
    targets = commands_to_targets(spec, commands.values, range_fraction)
    return follow_targets(spec, commands.times_s(), targets, control_rate_hz=control_rate_hz,
                          range_fraction=range_fraction, stall_timeout_s=stall_timeout_s)
