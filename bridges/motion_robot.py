"""Motion features -> robot joint commands: the flame's activity sets how fast the arm moves, its flow where.

A robot arm cannot follow a flame's 2-10 Hz flicker one to one (jerk-limited arms move at 1-3 rad/s;
../shared/design/crossmodal.md, "Flames"); what it can express is the envelope. So the mapping is tempo <-> speed
of motion (Spence 2011): the motion-energy envelope sets the arm's joint speed, and the principal components of
the standardised motion features, smoothed to the arm's bandwidth, set where the arm is.

Commands ``u`` are in [-1, 1] per joint (0 = home, +-1 = the edges of the target window,
``RobotSpec.half_window``; ``joint_scale`` is that half window in rad). Per step:

    centre  = center_fraction * tanh(proj(z_smooth)) * min(1, 0.5 rad / joint_scale)  # PCs -> joints
    orbit_j = orbit_fraction * a_p * (cos | sin)(k_p * phi + theta_p)   for joint pairs p = (0,1), (2,3), ...
    phi'    = speed_gain_rad_s * (e_smooth / energy_ref) ** speed_exponent / |d orbit / d phi|_rad
    u       = centre + orbit - (centre + orbit at the first frame)     # start at home

Joint pairs share one amplitude in rad (``a_p``), so ``|d orbit / d phi|`` in rad is constant and the orbit
moves the arm at exactly the energy-driven speed whatever the phase: the flame's energy envelope becomes the
arm's joint-speed envelope. When nothing moves the phase stops and the arm rests. ``proj``, the gains and the
exponent are torch parameters and the recurrence is differentiable, so the bridge can be trained (BPTT).

Calling convention (``xmedia.process``): ``bridge(values_tensor, rate_hz=...)`` is ``forward`` (training);
``bridge(motion, urdf=...)`` is ``run``, a ``Motion`` of commands for that robot (what a route step calls, e.g.
``xmedia.translate(motion, "robot", bridge=trained)``); ``run``/``commands`` evaluate this module's weights with the
numpy ``MotionMap`` (``bridges/motion_map.py``), which also holds the initial parameters this module starts from.
The route's default step "motion-robot" is ``motion_map.motion_to_commands`` (re-exported here): it fits the default
mapping on the clip itself and runs it in numpy, so the route does not import torch.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from xmedia.adapters.robot import RobotSpec
from xmedia.media import Motion

from .base import Bridge
from .motion_map import MotionMap, StreamingNormalizer, initial_parameters, motion_to_commands

__all__ = ["MotionToJoints", "MotionMap", "StreamingNormalizer", "initial_parameters", "motion_to_commands"]


class MotionToJoints(Bridge):
    """Motion ``(T, C)`` -> joint commands ``(T, J)`` in [-1, 1]; ``src="motion"``, ``dst="controls:robot"``."""

    src = "motion"
    dst = "controls:robot"

    def __init__(self, num_features: int, num_joints: int = 7, energy_index: int | None = 0,
                 joint_scale: list[float] | None = None, speed_gain_rad_s: float = 0.3, speed_exponent: float = 1.0,
                 center_fraction: float = 0.35, orbit_fraction: float = 0.55, smooth_s: float = 0.3,
                 center_smooth_s: float = 2.0, seed: int = 0):
        super().__init__()
        self.num_features, self.num_joints, self.energy_index = num_features, num_joints, energy_index
        self.smooth_s, self.center_smooth_s = smooth_s, center_smooth_s
        self.center_fraction, self.orbit_fraction = center_fraction, orbit_fraction
        initial = {k: torch.from_numpy(v) for k, v in initial_parameters(
            num_features, num_joints, joint_scale, speed_gain_rad_s, speed_exponent, seed).items()}
        self.proj = nn.Linear(num_features, num_joints, bias=False)
        self.log_speed_gain = nn.Parameter(initial["log_speed_gain"])
        self.speed_exponent = nn.Parameter(initial["speed_exponent"])
        self.orbit_phase = nn.Parameter(initial["orbit_phase"])
        for name in ("joint_scale", "pair_amp_rad", "harmonic", "feature_mean", "feature_std", "energy_ref"):
            self.register_buffer(name, initial[name])
        self.load_state_dict(initial)
        self.reset()

    # -- default mapping ---------------------------------------------------------------------------------
    @torch.no_grad()
    def fit_default(self, values: np.ndarray) -> "MotionToJoints":
        """Standardise on ``values`` ``(T, C)`` and point ``proj`` at their principal components (the numpy
        ``MotionMap.fit_default``, so the route's default and this module agree exactly)."""
        fitted = self.numpy_map().fit_default(values).parameters
        self.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in fitted.items()})
        return self

    @torch.no_grad()
    def set_normalization(self, mean: np.ndarray, std: np.ndarray, energy_ref: float | None = None) -> None:
        """Set the feature standardisation (and the reference energy) from outside (``StreamingNormalizer``)."""
        self.feature_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.feature_std.copy_(torch.as_tensor(std, dtype=torch.float32))
        if energy_ref is not None:
            self.energy_ref.fill_(float(energy_ref))

    def numpy_map(self) -> MotionMap:
        """The same map in numpy, with this module's weights."""
        return MotionMap(**self.config, parameters={k: v.detach().cpu().numpy() for k, v in self.state_dict().items()})

    def _energy(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The activity signal: the energy channel, or (for other motions) the speed of the standardised features."""
        if self.energy_index is not None and self.energy_index < x.shape[-1]:
            return x[..., self.energy_index].clamp_min(0)
        dz = torch.diff(z, dim=0, prepend=z[:1]) if z.ndim == 2 else (z - self._last_z if self._last_z is not None else 0 * z)
        return dz.norm(dim=-1)

    # -- recurrence --------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget the streaming state (phase back to 0, smoothing restarted)."""
        self._phi = torch.zeros(())
        self._c = None
        self._e = None
        self._last_z = None
        self._start = None

    def _orbit(self, phi: torch.Tensor) -> torch.Tensor:
        """Orbit offsets in command units for phases ``phi`` (any shape): ``(..., num_joints)``."""
        angle = self.harmonic * phi[..., None] + self.orbit_phase
        amp = self.orbit_fraction * self.pair_amp_rad
        pairs = torch.stack([amp * torch.cos(angle), amp * torch.sin(angle)], dim=-1).flatten(-2)
        out = torch.zeros(phi.shape + (self.num_joints,))
        out[..., : pairs.shape[-1]] = pairs
        return out / self.joint_scale

    def _phase_rate(self, e: torch.Tensor) -> torch.Tensor:
        """d phi / dt so that the orbit moves at the energy-driven joint speed (rad/s)."""
        speed = self.log_speed_gain.exp() * (e / self.energy_ref.clamp_min(1e-9)).clamp_min(0) ** self.speed_exponent
        path_rad_per_phase = (self.orbit_fraction * self.pair_amp_rad * self.harmonic).norm().clamp_min(1e-6)
        return speed / path_rad_per_phase

    def _center(self, d: torch.Tensor) -> torch.Tensor:
        # at most center_fraction * 0.5 rad per joint: posture drifts gently, the orbit carries the speed
        return self.center_fraction * torch.tanh(d) * self.joint_scale.clamp_max(0.5) / self.joint_scale

    def forward(self, values: torch.Tensor, rate_hz: float, causal: bool = True) -> torch.Tensor:
        """Commands ``(T, J)`` for a whole feature sequence ``(T, C)`` (phase starts at 0).

        ``causal=False`` (offline) smooths energy and centre with a zero-phase filter, so the arm's speed is not
        delayed against the video; streaming (``step``) uses the causal one-pole.
        """
        x = torch.nan_to_num(torch.as_tensor(values, dtype=torch.float32))
        if x.shape[0] == 0:
            return torch.zeros(0, self.num_joints)
        z = (x - self.feature_mean) / self.feature_std
        a_e, a_c = (1 - math.exp(-1 / (rate_hz * s)) for s in (self.smooth_s, self.center_smooth_s))
        smooth = _one_pole if causal else _zero_phase
        d, e = smooth(self.proj(z), a_c), smooth(self._energy(x, z), a_e)
        phi = torch.cumsum(self._phase_rate(e) / rate_hz, dim=0)
        pose = self._center(d) + self._orbit(phi)
        return (pose - pose[:1]).clamp(-1, 1)  # start at home, where the arm is

    def run(self, motion: Motion, urdf: str = "franka_panda") -> Motion:
        """Offline commands for ``urdf``'s joints (a ``Motion`` in [-1, 1], one channel per joint)."""
        return self.commands(motion, RobotSpec.from_urdf(urdf))

    def commands(self, motion: Motion, spec: RobotSpec) -> Motion:
        """Offline (non-causal, no lag against the video) commands for a whole clip, as a Motion for ``spec``:
        the numpy ``MotionMap`` with this module's weights (what ``forward(..., causal=False)`` computes)."""
        return self.numpy_map().commands(motion, spec)

    @torch.no_grad()
    def step(self, features: np.ndarray, dt_s: float) -> np.ndarray:
        """Streaming: one feature vector in, one command vector out (NaN when the features are not finite)."""
        x = torch.as_tensor(np.asarray(features, dtype=np.float64), dtype=torch.float32)
        if not bool(torch.isfinite(x).all()) or dt_s <= 0:
            return np.full(self.num_joints, np.nan)
        z = (x - self.feature_mean) / self.feature_std
        d, e = self.proj(z), self._energy(x, z)
        self._last_z = z
        a_e, a_c = (1 - math.exp(-dt_s / s) for s in (self.smooth_s, self.center_smooth_s))
        self._c = d if self._c is None else self._c + a_c * (d - self._c)
        self._e = e if self._e is None else self._e + a_e * (e - self._e)
        self._phi = self._phi + self._phase_rate(self._e) * dt_s
        pose = self._center(self._c) + self._orbit(self._phi)
        if self._start is None:
            self._start = pose
        return (pose - self._start).clamp(-1, 1).numpy().astype(np.float64)


def _one_pole(x: torch.Tensor, alpha: float) -> torch.Tensor:
    out, y = [], x[0]
    for t in range(x.shape[0]):
        y = y + alpha * (x[t] - y)
        out.append(y)
    return torch.stack(out)


def _zero_phase(x: torch.Tensor, alpha: float) -> torch.Tensor:
    return _one_pole(_one_pole(x, alpha).flip(0), alpha).flip(0)
