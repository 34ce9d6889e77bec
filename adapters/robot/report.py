"""How well the arm follows the flame: ``fidelity`` (envelope correlation) and ``plot_report`` (PNG)."""
from __future__ import annotations

import numpy as np

from xmedia.adapters.optical_flow import motion_envelope
from xmedia.media import Motion
from xmedia.report import pyplot, save_figure

from .trajectory import Trajectory


def fidelity(motion: Motion, traj: Trajectory, window_s: float = 1.0) -> float:
    """Pearson r between the motion-energy envelope and the joint-speed envelope (both 1 s moving averages)."""
    rate = float(motion.rate_hz)
    t = motion.times_s() - float(motion.start_s)
    speed = np.interp(t, traj.times_s(), traj.joint_speed())
    energy = motion.channel("energy")
    a, b = motion_envelope(energy, rate, window_s), motion_envelope(speed, rate, window_s)
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def plot_report(motion: Motion, traj: Trajectory, path) -> None:
    """PNG: the flame's motion energy against the arm's joint positions and joint speed."""
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
