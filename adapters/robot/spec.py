"""Robot specs: driven joints and their limits from a URDF, plus the limits a URDF does not carry.

``RobotSpec.from_urdf("franka_panda" | "kuka_iiwa" | "xarm6" | path)`` reads joint names and position/velocity
limits from the URDF, and acceleration/jerk limits and a home pose from ``robot_limits.yaml`` (URDFs carry no
acceleration or jerk; MoveIt keeps them in a joint_limits YAML the same way -- ../shared/design/crossmodal.md,
"Robots").

Position safety: ruckig (community edition) does not plan around position limits, so targets are confined to a
window around home and each joint's velocity is capped so that braking from full speed at the window's edge
always stops inside the URDF limits (``RobotSpec.motion_limits``, using ``stopping_distance``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xmedia.errors import ConfigError
from xmedia.media import Rig

LIMITS_YAML = Path(__file__).with_name("robot_limits.yaml")
MOVABLE_TYPES = ("revolute", "prismatic", "continuous")


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
        home = _per_joint(home, n, "home", path) if home is not None else _mid_home(lower, upper)
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

    def rig(self) -> Rig:
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
        vel = np.array([min(v, velocity_that_stops_within(g / 2, a, j))
                        for v, g, a, j in zip(self.max_velocity * velocity_scale, gap, acc, jerk)])
        return {"lower": self.lower, "upper": self.upper, "target_lower": lo, "target_upper": hi,
                "max_velocity": vel, "max_acceleration": acc, "max_jerk": jerk}


def _parse_urdf_joints(path: Path) -> list[tuple]:
    """``(name, type, lower, upper, velocity)`` for every top-level ``<joint>`` of a URDF."""
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


def _per_joint(value, n: int, what: str, path) -> np.ndarray:
    """A YAML limit as one value per joint (a scalar applies to every joint)."""
    if value is None:
        raise RobotError(f"{path}: no {what} for this robot; add it to {LIMITS_YAML}")
    arr = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)) if np.ndim(value) == 0 else np.asarray(value, float)
    if arr.shape != (n,):
        raise RobotError(f"{path}: {what} has {arr.size} values for {n} joints")
    return arr.copy()


def _mid_home(lower, upper) -> np.ndarray:
    """Zero where the range contains it, else the middle of the range."""
    return np.where((lower <= 0) & (upper >= 0), 0.0, (lower + upper) / 2)


def stopping_distance(v: float, a: float, j: float) -> float:
    """Distance to stop from speed ``v`` (zero acceleration) under acceleration ``a`` and jerk ``j`` limits."""
    if v <= a * a / j:
        return v * math.sqrt(v / j)
    return v * v / (2 * a) + v * a / (2 * j)


def velocity_that_stops_within(distance: float, a: float, j: float) -> float:
    """The highest speed from which ``stopping_distance`` is at most ``distance`` (bisection)."""
    lo, hi = 0.0, 100.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if stopping_distance(mid, a, j) <= distance else (lo, mid)
    return lo
