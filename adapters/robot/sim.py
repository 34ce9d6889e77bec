"""pybullet playback of a robot trajectory: verify it against the URDF and render it (mp4/gif).

Kinematic playback in DIRECT mode (no window, no dynamics): every point is checked against the joint limits
pybullet itself reads from the URDF, self-collisions are counted, and frames are rendered with the tiny
renderer for ``--sim``.
"""
from __future__ import annotations

import numpy as np

from xmedia.errors import ConfigError
from xmedia.media import Video

from .spec import RobotSpec
from .trajectory import Trajectory


def simulate(traj: Trajectory, urdf: str | None = None, out_path=None, fps: int = 20, size: tuple[int, int] = (320, 240),
             progress: bool = False) -> dict:
    """Play ``traj`` back in pybullet (DIRECT, kinematic) and verify it; optionally render an mp4/gif.

    Checks every point against the URDF limits pybullet itself reads, and counts self-collisions (pybullet's
    URDF_USE_SELF_COLLISION; links next to each other, or already touching at home, are not counted). Returns a
    dict with the checks and the frames written.
    """
    import pybullet as pb

    spec = RobotSpec.from_urdf(urdf or traj.robot)
    if tuple(spec.joint_names) != tuple(traj.joint_names):
        raise ConfigError(f"trajectory joints {traj.joint_names} do not match {spec.name}'s {spec.joint_names}")
    client = pb.connect(pb.DIRECT)
    try:
        body = pb.loadURDF(spec.urdf_path, useFixedBase=True, flags=pb.URDF_USE_SELF_COLLISION,
                           physicsClientId=client)
        index = {pb.getJointInfo(body, i, physicsClientId=client)[1].decode(): i
                 for i in range(pb.getNumJoints(body, physicsClientId=client))}
        joints = [index[j] for j in spec.joint_names]
        info = [pb.getJointInfo(body, j, physicsClientId=client) for j in joints]
        lower, upper = np.array([i[8] for i in info]), np.array([i[9] for i in info])
        worst = float(np.max(np.maximum(lower - traj.positions, traj.positions - upper), initial=0.0))
        step = max(1, int(round(float(traj.control_rate_hz) / fps))) if out_path else max(1, int(traj.control_rate_hz) // 20)

        def touching() -> set:
            pb.performCollisionDetection(physicsClientId=client)
            return {tuple(sorted((c[3], c[4]))) for c in pb.getContactPoints(body, body, physicsClientId=client)
                    if abs(c[3] - c[4]) > 1 and c[8] < -1e-3}

        for j, q in zip(joints, spec.home):  # link pairs that already touch at home are modelling overlaps
            pb.resetJointState(body, j, float(q), physicsClientId=client)
        at_home = touching()
        frames, collisions = [], 0
        w, h = size
        view = pb.computeViewMatrixFromYawPitchRoll([0, 0, 0.4], 1.3, 50, -20, 0, 2)
        proj = pb.computeProjectionMatrixFOV(50, w / h, 0.05, 10)
        rows = range(0, traj.num_points, step)
        if progress:
            from tqdm import tqdm

            rows = tqdm(rows, desc="simulate", unit="frame")
        for k in rows:
            for j, q in zip(joints, traj.positions[k]):
                pb.resetJointState(body, j, float(q), physicsClientId=client)
            collisions += len(touching() - at_home)
            if out_path:
                img = pb.getCameraImage(w, h, view, proj, renderer=pb.ER_TINY_RENDERER, physicsClientId=client)[2]
                frames.append(np.reshape(img, (h, w, 4))[:, :, :3].astype(np.uint8))
    finally:
        pb.disconnect(client)
    if out_path:
        Video.from_frames(np.stack(frames), fps=fps).save(out_path)
    return {"points_checked": traj.num_points, "worst_position_excess_rad": worst, "self_collision_points": collisions,
            "frames": len(frames), "ok": worst <= 1e-9 and collisions == 0}
