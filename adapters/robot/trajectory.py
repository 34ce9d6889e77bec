"""Trajectories: joint states at the control rate, and their files (a provider of ``xmedia.formats``).

``.json`` is shaped like ROS 2 ``trajectory_msgs/JointTrajectory`` (``header``, ``joint_names``, ``points[]``
with ``positions``, ``velocities``, ``accelerations``, ``effort``, ``time_from_start {sec, nanosec}``), led by
``"kind": "trajectory"`` and followed by the robot, the control rate and the limits used. ``.csv`` is a table
(``time_s``, then positions, velocities and accelerations per joint) after two comment lines:
``# kind=trajectory`` (what tells it from a Motion CSV) and ``# {robot, control_rate_hz, limits}`` as JSON.
``xmedia.load`` gives either back as the ``Trajectory`` that ``Trajectory.save`` wrote.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from xmedia import formats
from xmedia.errors import MediaError

FORMAT_KIND = "trajectory"
CSV_TAG = f"# kind={FORMAT_KIND}"
QUANTITIES = ("positions", "velocities", "accelerations")


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
        """A dict shaped like ROS 2 ``trajectory_msgs/JointTrajectory`` plus the robot, rate and limits used."""
        return {**self._ros_header(), "points": list(self.ros_points()), **self._metadata()}

    def _ros_header(self) -> dict:
        return {"header": {"stamp": {"sec": 0, "nanosec": 0}, "frame_id": ""}, "joint_names": list(self.joint_names)}

    def ros_points(self):
        """The JointTrajectory points one at a time (a long trajectory is written without a list of them all)."""
        for k in range(self.num_points):
            t = Fraction(k) / self.control_rate_hz
            sec = int(t)
            yield {
                "positions": self.positions[k].tolist(), "velocities": self.velocities[k].tolist(),
                "accelerations": self.accelerations[k].tolist(), "effort": [],
                "time_from_start": {"sec": sec, "nanosec": int(round((t - sec) * 1_000_000_000))},
            }

    @classmethod
    def from_ros(cls, d: dict) -> "Trajectory":
        """The inverse of ``to_ros``."""
        arr = {q: np.array([p[q] for p in d["points"]], dtype=np.float64) for q in QUANTITIES}
        return cls(tuple(d["joint_names"]), Fraction(d["control_rate_hz"]), arr["positions"], arr["velocities"],
                   arr["accelerations"], _limits(d.get("limits", {})), d.get("robot", ""))

    def _metadata(self) -> dict:
        return {"robot": self.robot, "control_rate_hz": str(self.control_rate_hz),
                "limits": {k: np.asarray(v).tolist() for k, v in self.limits.items()}}

    def save(self, path, **options) -> Path:
        """Write ``.json`` (ROS 2 JointTrajectory shape) or ``.csv`` atomically (``xmedia.load`` reads it back)."""
        return formats.save(self, path, **options)

    @classmethod
    def load(cls, path) -> "Trajectory":
        """Read back a trajectory written by ``save`` (JSON or CSV)."""
        return formats.load(path, kind=FORMAT_KIND)

    def __repr__(self):
        return (f"Trajectory({self.robot or 'robot'}, {self.num_points} points at {self.control_rate_hz} Hz, "
                f"{len(self.joint_names)} joints, {self.num_points * self.dt_s:.2f} s)")


def _limits(d: dict) -> dict:
    return {k: np.asarray(v, dtype=np.float64) for k, v in d.items()}


def _not_a_trajectory(path, exc) -> MediaError:
    return MediaError(f"{path} is not a trajectory written by xmedia ({type(exc).__name__}: {exc})")


def write_json(traj: Trajectory, tmp: Path) -> None:
    """The same bytes as ``json.dumps(tagged(to_ros()))``, written a point at a time (bounded memory)."""
    text = json.dumps(formats.tagged(FORMAT_KIND, {**traj._ros_header(), "points": [], **traj._metadata()}))
    before, after = text.split('"points": []', 1)
    with open(tmp, "w") as f:
        f.write(before + '"points": [')
        for k, point in enumerate(traj.ros_points()):
            f.write((", " if k else "") + json.dumps(point))
        f.write("]" + after)


def read_json(path: Path) -> Trajectory:
    try:
        return Trajectory.from_ros(json.loads(Path(path).read_text()))
    except (OSError, KeyError, ValueError, TypeError, ZeroDivisionError) as exc:
        raise _not_a_trajectory(path, exc) from None


def write_csv(traj: Trajectory, tmp: Path) -> None:
    names = [f"{j}_{q}" for q in ("pos", "vel", "acc") for j in traj.joint_names]
    table = np.hstack([traj.times_s()[:, None], traj.positions, traj.velocities, traj.accelerations])
    with open(tmp, "w") as f:  # row by row: a long trajectory needs no full-length string
        f.write(f"{CSV_TAG}\n# {json.dumps(traj._metadata())}\ntime_s,{','.join(names)}\n")
        for row in table:
            f.write(",".join(repr(float(v)) for v in row) + "\n")


def read_csv(path: Path) -> Trajectory:
    try:
        lines = Path(path).read_text().splitlines()
        if lines[0].strip() != CSV_TAG:
            raise ValueError(f"the first line is not {CSV_TAG!r}")
        meta, header = json.loads(lines[1][1:]), lines[2].split(",")
        table = np.loadtxt(lines[3:], delimiter=",", ndmin=2)
        n = (len(header) - 1) // 3
        joints = tuple(h.removesuffix("_pos") for h in header[1 : n + 1])
        return Trajectory(joints, Fraction(meta["control_rate_hz"]), table[:, 1 : n + 1],
                          table[:, n + 1 : 2 * n + 1], table[:, 2 * n + 1 :], _limits(meta.get("limits", {})),
                          meta.get("robot", ""))
    except (OSError, KeyError, ValueError, IndexError, ZeroDivisionError) as exc:
        raise _not_a_trajectory(path, exc) from None


def is_trajectory_csv(path: Path) -> bool:
    """Whether the first line of ``path`` is the ``# kind=trajectory`` tag."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.readline().strip() == CSV_TAG
    except OSError:
        return False


FORMATS = (
    formats.Format(FORMAT_KIND, (".json",), read_json, write_json, types=(Trajectory,),
                   sniff=formats.is_json_kind(FORMAT_KIND),
                   description="robot trajectory, ROS 2 trajectory_msgs/JointTrajectory shape + limits"),
    formats.Format(FORMAT_KIND, (".csv",), read_csv, write_csv, types=(Trajectory,), sniff=is_trajectory_csv,
                   description="robot trajectory table: time_s, positions, velocities, accelerations"),
)
