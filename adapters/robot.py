"""Robots: a URDF-backed spec, jerk-limited online trajectory generation (ruckig), trajectories and playback.

- ``RobotSpec.from_urdf("franka_panda" | "kuka_iiwa" | "xarm6" | path)``: joint names and position/velocity
  limits from the URDF, acceleration/jerk limits and a home pose from ``robot_limits.yaml`` (URDFs carry no
  acceleration or jerk; MoveIt keeps them in a joint_limits YAML the same way -- crossmodal.md, "Robots").
- ``JointTargetFollower``: targets arrive at media rate (10-60 Hz), the controller runs at ``control_rate_hz``
  (100 Hz default as in ros2_control, up to 1 kHz as Franka FCI); ruckig computes each step time-optimally
  under velocity, acceleration and jerk limits. Non-finite targets are held, single-frame spikes rejected,
  and a stalled stream (no target for ``stall_timeout_s``) is brought to a smooth stop.
- ``Trajectory`` (``KIND = "robot"``): what goes to a robot; ``.save`` writes ROS 2
  ``trajectory_msgs/JointTrajectory``-shaped JSON or CSV, with the limits used.
- ``xmedia.adapters.pybullet_sim.simulate``: pybullet (DIRECT) kinematic playback that checks limits and
  self-collisions and renders mp4/gif.

Position safety: ruckig (community edition) does not plan around position limits, so targets are confined to a
window around home and each joint's velocity is capped so that braking from full speed at the window's edge
always stops inside the URDF limits (``RobotSpec.motion_limits``).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from xmedia.atomic import atomic_path
from xmedia.errors import ConfigError, MediaError, XMediaError

LIMITS_YAML = Path(__file__).with_name("robot_limits.yaml")
MOVABLE_TYPES = ("revolute", "prismatic", "continuous")
MAX_CONTROL_RATE_HZ = 1000


class RobotError(ConfigError):
    """An unknown robot name, a broken URDF or limits that cannot be used."""


def _limits_table() -> dict:
    import yaml

    return yaml.safe_load(LIMITS_YAML.read_text())


def robot_names() -> list[str]:
    """The short names ``RobotSpec.from_urdf`` knows (URDFs shipped in pybullet_data)."""
    return sorted(_limits_table()["robots"])


@dataclass(frozen=True)
class RobotSpec:
    """A robot arm's driven joints, their limits (SI units) and its home pose."""

    name: str
    urdf_path: str
    joint_names: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    max_velocity: np.ndarray
    max_acceleration: np.ndarray
    max_jerk: np.ndarray
    home: np.ndarray

    @classmethod
    def from_urdf(cls, urdf: str | Path, limits: dict | None = None) -> "RobotSpec":
        """A spec from a short name (``robot_names()``) or a URDF path; ``limits`` overrides the YAML entry."""
        table = _limits_table()
        robots, defaults = table["robots"], table.get("defaults", {})
        key = str(urdf)
        if key in robots:
            import pybullet_data

            entry = robots[key]
            path = Path(pybullet_data.getDataPath()) / entry["urdf"]
            name = key
        else:
            path = Path(key).expanduser()
            if path.suffix.lower() != ".urdf" and not path.exists():
                raise RobotError(f"unknown robot {key!r}: use one of {robot_names()} or the path of a .urdf file")
            name = path.stem
            entry = next((e for e in robots.values() if Path(e["urdf"]).name == path.name), {})
        if not path.is_file():
            raise RobotError(f"URDF {path} does not exist; give an existing .urdf file or one of {robot_names()}")
        entry = {**defaults, **entry, **(limits or {})}
        joints = _parse_urdf_joints(path)
        wanted = entry.get("joints") or [j for j, t, *_ in joints if t in MOVABLE_TYPES]
        by_name = {j[0]: j for j in joints}
        missing = [j for j in wanted if j not in by_name]
        if missing or not wanted:
            raise RobotError(f"{path}: joints {missing or 'to drive'} not found; it has {sorted(by_name)}")
        n = len(wanted)
        lower, upper, vel = (np.array([by_name[j][k] for j in wanted], dtype=np.float64) for k in (2, 3, 4))
        vel = np.minimum(vel, _per_joint(entry.get("max_velocity", np.inf), n, "max_velocity", path))
        acc = _per_joint(entry.get("max_acceleration"), n, "max_acceleration", path)
        jerk = _per_joint(entry.get("max_jerk"), n, "max_jerk", path)
        home = entry.get("home")
        home = _per_joint(home, n, "home", path, positive=False) if home is not None else _mid_home(lower, upper)
        if np.any(home < lower) or np.any(home > upper):
            raise RobotError(f"{path}: home pose {home.tolist()} lies outside the joint limits")
        for what, arr in (("velocity", vel), ("acceleration", acc), ("jerk", jerk)):
            if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
                raise RobotError(f"{path}: every driven joint needs a finite positive {what} limit, got {arr.tolist()}; "
                                 f"set max_{what} in {LIMITS_YAML.name} or pass limits={{'max_{what}': ...}}")
        return cls(name, str(path), tuple(wanted), lower, upper, vel, acc, jerk, home)

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    def rig(self):
        from xmedia.media import Rig

        return Rig(self.name, self.joint_names, tuple(self.lower.tolist()), tuple(self.upper.tolist()))

    def half_window(self, range_fraction: float = 0.3) -> np.ndarray:
        """How far targets may go from home, either way: ``range_fraction`` of the distance to the nearer limit."""
        if not 0 < range_fraction <= 0.9:
            raise ConfigError(f"range_fraction must be in (0, 0.9], got {range_fraction}")
        return range_fraction * np.minimum(self.home - self.lower, self.upper - self.home)

    def target_window(self, range_fraction: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
        """Where targets may go: ``home +- half_window`` (symmetric, so a command maps linearly to radians)."""
        half = self.half_window(range_fraction)
        return self.home - half, self.home + half

    def motion_limits(self, range_fraction: float = 0.3, velocity_scale: float = 1.0,
                      acceleration_scale: float = 1.0, jerk_scale: float = 1.0) -> dict:
        """The limits the generator uses: scaled, with velocity capped so braking fits outside the window."""
        for k, s in (("velocity_scale", velocity_scale), ("acceleration_scale", acceleration_scale),
                     ("jerk_scale", jerk_scale)):
            if not 0 < s <= 1:
                raise ConfigError(f"{k} must be in (0, 1], got {s}")
        lo, hi = self.target_window(range_fraction)
        acc, jerk = self.max_acceleration * acceleration_scale, self.max_jerk * jerk_scale
        gap = np.minimum(lo - self.lower, self.upper - hi)
        vel = np.array([min(v, _velocity_that_stops_within(g / 2, a, j))
                        for v, g, a, j in zip(self.max_velocity * velocity_scale, gap, acc, jerk)])
        return {"lower": self.lower, "upper": self.upper, "target_lower": lo, "target_upper": hi,
                "max_velocity": vel, "max_acceleration": acc, "max_jerk": jerk}


def _parse_urdf_joints(path: Path) -> list[tuple]:
    import xml.etree.ElementTree as ET

    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise RobotError(f"{path} is not a readable URDF ({exc}); check the file is complete XML") from None
    if root.tag != "robot":
        raise RobotError(f"{path} is not a URDF: its root element is <{root.tag}>, expected <robot>")
    out = []
    for j in root.findall("joint"):  # direct children only: <transmission><joint> repeats names
        name, jtype = j.get("name"), j.get("type", "")
        lim = j.find("limit")
        try:
            if jtype == "continuous":
                lower, upper = -math.pi, math.pi
                velocity = float(lim.get("velocity", "inf")) if lim is not None else math.inf
            elif jtype in MOVABLE_TYPES:
                if lim is None:
                    raise RobotError(f"{path}: {jtype} joint {name!r} has no <limit>; add lower/upper/velocity")
                lower, upper = float(lim.get("lower", 0)), float(lim.get("upper", 0))
                velocity = float(lim.get("velocity", "inf"))
            else:
                lower = upper = velocity = 0.0
        except (TypeError, ValueError) as exc:
            raise RobotError(f"{path}: joint {name!r} has a malformed <limit> ({exc})") from None
        if jtype in MOVABLE_TYPES and not lower < upper:
            raise RobotError(f"{path}: joint {name!r} has lower {lower} >= upper {upper}")
        out.append((name, jtype, lower, upper, velocity))
    return out


def _per_joint(value, n: int, what: str, path, positive: bool = True) -> np.ndarray:
    if value is None:
        raise RobotError(f"{path}: no {what} for this robot; add it to {LIMITS_YAML}")
    arr = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)) if np.ndim(value) == 0 else np.asarray(value, float)
    if arr.shape != (n,):
        raise RobotError(f"{path}: {what} has {arr.size} values for {n} joints")
    return arr.copy()


def _mid_home(lower, upper) -> np.ndarray:
    return np.where((lower <= 0) & (upper >= 0), 0.0, (lower + upper) / 2)


def stopping_distance(v: float, a: float, j: float) -> float:
    """Distance to stop from speed ``v`` (zero acceleration) under acceleration ``a`` and jerk ``j`` limits."""
    if v <= a * a / j:
        return v * math.sqrt(v / j)
    return v * v / (2 * a) + v * a / (2 * j)


def _velocity_that_stops_within(distance: float, a: float, j: float) -> float:
    lo, hi = 0.0, 100.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if stopping_distance(mid, a, j) <= distance else (lo, mid)
    return lo


# ---------------------------------------------------------------------------------------------- trajectories
@dataclass(frozen=True, eq=False)
class Trajectory:
    """Joint states sampled at ``control_rate_hz``: positions, velocities, accelerations ``(N, J)``."""

    joint_names: tuple[str, ...]
    control_rate_hz: Fraction
    positions: np.ndarray
    velocities: np.ndarray
    accelerations: np.ndarray
    limits: dict = field(default_factory=dict)
    robot: str = ""
    KIND = "robot"

    @property
    def num_points(self) -> int:
        return self.positions.shape[0]

    @property
    def dt_s(self) -> float:
        return 1.0 / float(self.control_rate_hz)

    def times_s(self) -> np.ndarray:
        return np.arange(self.num_points) * self.dt_s

    def joint_speed(self) -> np.ndarray:
        """Euclidean norm of the joint velocity vector (rad/s) at every point."""
        return np.linalg.norm(self.velocities, axis=1)

    def limit_violations(self, rtol: float = 1e-6) -> dict[str, float]:
        """Worst excess over each limit, measured by finite differences of the positions (0 means none)."""
        lim = {k: np.asarray(v, dtype=np.float64) for k, v in self.limits.items()}
        p, dt = self.positions, self.dt_s
        out = {"position": float(np.max(np.maximum(lim["lower"] - p, p - lim["upper"]), initial=0.0))}
        for order, key in ((1, "max_velocity"), (2, "max_acceleration"), (3, "max_jerk")):
            d = np.diff(p, n=order, axis=0) / dt**order
            # finite differences average the true derivative; ruckig's own float error is ~1e-9 relative
            excess = np.abs(d) - lim[key] * (1 + rtol) - 1e-9 / dt**order
            out[key.removeprefix("max_")] = float(np.max(excess, initial=0.0)) if d.size else 0.0
        return {k: max(v, 0.0) for k, v in out.items()}

    def to_ros(self) -> dict:
        """A dict shaped like ROS 2 ``trajectory_msgs/JointTrajectory`` plus the limits used."""
        points = []
        for k in range(self.num_points):
            t = Fraction(k) / self.control_rate_hz
            sec = int(t)
            points.append({
                "positions": self.positions[k].tolist(), "velocities": self.velocities[k].tolist(),
                "accelerations": self.accelerations[k].tolist(), "effort": [],
                "time_from_start": {"sec": sec, "nanosec": int(round((t - sec) * 1_000_000_000))},
            })
        return {"header": {"stamp": {"sec": 0, "nanosec": 0}, "frame_id": ""}, "joint_names": list(self.joint_names),
                "points": points, "robot": self.robot, "control_rate_hz": str(self.control_rate_hz),
                "limits": {k: np.asarray(v).tolist() for k, v in self.limits.items()}}

    def save(self, path, **_) -> Path:
        """Write ``.json`` (ROS 2 JointTrajectory shape) or ``.csv`` atomically."""
        path = Path(path)
        ext = path.suffix.lower()
        if ext not in (".json", ".csv"):
            raise MediaError(f"{path}: a robot trajectory is written as .json (ROS 2 JointTrajectory) or .csv")
        with atomic_path(path) as tmp:
            if ext == ".json":
                tmp.write_text(json.dumps(self.to_ros()))
            else:
                names = [f"{j}_{q}" for q in ("pos", "vel", "acc") for j in self.joint_names]
                meta = json.dumps({"robot": self.robot, "control_rate_hz": str(self.control_rate_hz),
                                   "limits": {k: np.asarray(v).tolist() for k, v in self.limits.items()}})
                table = np.hstack([self.times_s()[:, None], self.positions, self.velocities, self.accelerations])
                body = "\n".join(",".join(repr(float(v)) for v in row) for row in table)
                tmp.write_text(f"# {meta}\ntime_s,{','.join(names)}\n{body}\n")
        return path

    @classmethod
    def load(cls, path) -> "Trajectory":
        """Read back a trajectory written by ``save`` (JSON or CSV)."""
        path = Path(path)
        try:
            if path.suffix.lower() == ".json":
                d = json.loads(path.read_text())
                pts = d["points"]
                arr = {q: np.array([p[q] for p in pts], dtype=np.float64) for q in ("positions", "velocities", "accelerations")}
                return cls(tuple(d["joint_names"]), Fraction(d["control_rate_hz"]), arr["positions"],
                           arr["velocities"], arr["accelerations"], d.get("limits", {}), d.get("robot", ""))
            lines = path.read_text().splitlines()
            meta, header = json.loads(lines[0][2:]), lines[1].split(",")
            table = np.loadtxt(lines[2:], delimiter=",", ndmin=2)
            n = (len(header) - 1) // 3
            joints = tuple(h.removesuffix("_pos") for h in header[1 : n + 1])
            return cls(joints, Fraction(meta["control_rate_hz"]), table[:, 1 : n + 1], table[:, n + 1 : 2 * n + 1],
                       table[:, 2 * n + 1 :], meta.get("limits", {}), meta.get("robot", ""))
        except (OSError, KeyError, ValueError, IndexError) as exc:
            raise MediaError(f"{path} is not a trajectory written by xmedia ({exc})") from None

    def __repr__(self):
        return (f"Trajectory({self.robot or 'robot'}, {self.num_points} points at {self.control_rate_hz} Hz, "
                f"{len(self.joint_names)} joints, {self.num_points * self.dt_s:.2f} s)")


# ---------------------------------------------------------------------------------------------- generation
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
    pos, vel, acc = [f.position], [f.velocity], [f.acceleration]
    end_s = (times_s[-1] if times_s.size else 0.0) + settle_s
    k = 0
    while f.time_s < end_s - 1e-9:
        while k < times_s.size and times_s[k] <= f.time_s + 1e-9:
            f.set_target(targets[k], time_s=times_s[k])
            k += 1
        _, p, v, a = f.step()
        pos.append(p), vel.append(v), acc.append(a)
    return Trajectory(spec.joint_names, f.control_rate_hz, np.array(pos), np.array(vel), np.array(acc),
                      limits={k: np.asarray(v) for k, v in f.limits.items()}, robot=spec.name)


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


def plot_report(motion, traj: Trajectory, path) -> None:
    """PNG: the flame's motion energy against the arm's joint positions and joint speed."""
    from xmedia.report import pyplot, save_figure

    from .optical_flow import motion_envelope

    plt = pyplot()

    t_m, t_r = motion.times_s(), traj.times_s()
    energy = motion.channel("energy") if "energy" in motion.channels else np.linalg.norm(motion.values, axis=1)
    fig, ax = plt.subplots(3, 1, figsize=(10, 8), sharex=True)
    ax[0].plot(t_m, energy, lw=0.6, alpha=0.5, label="motion energy")
    ax[0].plot(t_m, motion_envelope(energy, float(motion.rate_hz)), lw=1.5, label="envelope (1 s)")
    ax[0].set_ylabel("diag/s"), ax[0].legend(loc="upper right")
    for j, name in enumerate(traj.joint_names):
        ax[1].plot(t_r, traj.positions[:, j], lw=1, label=name)
    ax[1].set_ylabel("position (rad)"), ax[1].legend(loc="upper right", fontsize=6, ncol=2)
    speed = traj.joint_speed()
    ax[2].plot(t_r, speed, lw=0.6, alpha=0.5, label="joint speed")
    ax[2].plot(t_r, motion_envelope(speed, float(traj.control_rate_hz)), lw=1.5, label="envelope (1 s)")
    r = fidelity(motion, traj)
    ax[2].set_ylabel("rad/s"), ax[2].set_xlabel("time (s)"), ax[2].legend(loc="upper right")
    ax[0].set_title(f"{traj.robot}: motion-energy envelope vs joint-speed envelope, r = {r:.2f}")
    fig.tight_layout()
    save_figure(fig, path, dpi=100)


def fidelity(motion, traj: Trajectory, window_s: float = 1.0) -> float:
    """Pearson r between the motion-energy envelope and the joint-speed envelope (both 1 s moving averages)."""
    from .optical_flow import motion_envelope

    rate = float(motion.rate_hz)
    t = motion.times_s() - float(motion.start_s)
    speed = np.interp(t, traj.times_s(), traj.joint_speed())
    energy = motion.channel("energy")
    a, b = motion_envelope(energy, rate, window_s), motion_envelope(speed, rate, window_s)
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def register(registry) -> None:
    """Decoder "robot-trajectory": controls:robot -> robot, and the bridge "motion-robot": motion -> controls:robot."""

    def factory():
        def run(x, urdf: str = "franka_panda", control_rate_hz: float = 100, range_fraction: float = 0.3,
                stall_timeout_s: float = 0.5):
            spec = RobotSpec.from_urdf(urdf)
            targets = commands_to_targets(spec, x.values, range_fraction)
            return follow_targets(spec, x.times_s(), targets, control_rate_hz=control_rate_hz,
                                  range_fraction=range_fraction, stall_timeout_s=stall_timeout_s)

        return run

    registry.register(
        "robot-trajectory", "controls:robot", "robot", factory, cost=1.0, kind="decoder",
        options=("urdf", "control_rate_hz", "range_fraction", "stall_timeout_s"),
        description="ruckig jerk-limited online trajectory at the control rate (100 Hz default, up to 1 kHz)",
    )

    def bridge_factory():
        from xmedia.bridges.motion_robot import motion_to_commands

        def run(x, urdf: str = "franka_panda", range_fraction: float = 0.3, seed: int = 0, speed_gain_rad_s: float = 0.3):
            return motion_to_commands(x, urdf=urdf, range_fraction=range_fraction, seed=seed,
                                      speed_gain_rad_s=speed_gain_rad_s)

        return run

    registry.register(
        "motion-robot", "motion", "controls:robot", bridge_factory, cost=1.0, kind="bridge",
        options=("urdf", "range_fraction", "seed", "speed_gain_rad_s"),
        description="MotionToJoints: motion-energy envelope -> arm speed, principal flow components -> posture",
    )
