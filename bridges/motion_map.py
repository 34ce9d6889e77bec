"""Motion features -> robot joint commands, evaluated in numpy (what the motion -> robot route runs; no torch).

The math is that of ``MotionToJoints`` (``bridges/motion_robot.py``, the trainable torch module, where the
mapping is explained): the motion-energy envelope sets the arm's joint speed (tempo <-> speed of motion,
Spence 2011), the principal components of the standardised motion features, smoothed to the arm's bandwidth,
set where the arm is. Per step, in command units ([-1, 1] per joint, 0 = home):

    centre  = center_fraction * tanh(proj(z_smooth)) * min(1, 0.5 rad / joint_scale)
    orbit_j = orbit_fraction * a_p * (cos | sin)(k_p * phi + theta_p)   for joint pairs p = (0,1), (2,3), ...
    phi'    = speed_gain_rad_s * (e_smooth / energy_ref) ** speed_exponent / |d orbit / d phi|_rad
    u       = centre + orbit - (centre + orbit at the first frame)     # start at home

``MotionMap(...)`` holds the initial parameters (``initial_parameters``, also what ``MotionToJoints`` starts
from), by the torch module's state-dict names; ``MotionMap.from_pretrained(dir_or_name)`` the weights of a
saved ``MotionToJoints`` (read with ``xmedia.pretrained.load_arrays``). ``motion_to_commands`` is the route's
default step "motion-robot": it fits the default mapping on the clip itself and runs it.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from scipy.signal import lfilter

from xmedia.adapters.robot import COMMAND_UNIT, RobotSpec
from xmedia.errors import ConfigError, WeightsError
from xmedia.media import Motion
from xmedia.pretrained import load_arrays

# the torch module's state-dict names (parameters, then buffers)
PARAMETERS = ("proj.weight", "log_speed_gain", "speed_exponent", "orbit_phase", "joint_scale", "pair_amp_rad",
              "harmonic", "feature_mean", "feature_std", "energy_ref")


def initial_parameters(num_features: int, num_joints: int = 7, joint_scale=None, speed_gain_rad_s: float = 0.3,
                       speed_exponent: float = 1.0, seed: int = 0) -> dict[str, np.ndarray]:
    """The initial weights (float32, by state-dict name): a random orthonormal ``proj`` and orbit phases drawn
    from ``np.random.default_rng(seed)``, unit standardisation, reference energy 1."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((max(num_features, num_joints), num_joints)))
    scale = np.ones(num_joints) if joint_scale is None else np.asarray(joint_scale, dtype=np.float32)
    # orbit: joints (0,1), (2,3), ... trace circles at harmonics 1, 2, 3 (a closed Lissajous path)
    pairs = num_joints // 2
    pair_amp = np.array([scale[2 * p : 2 * p + 2].min() for p in range(pairs)])
    out = {
        "proj.weight": q[:num_features].T, "log_speed_gain": np.array(math.log(speed_gain_rad_s)),
        "speed_exponent": np.array(float(speed_exponent)), "orbit_phase": rng.random(pairs) * 2 * math.pi,
        "joint_scale": np.maximum(scale, 1e-6), "pair_amp_rad": pair_amp,
        "harmonic": np.arange(1, pairs + 1), "feature_mean": np.zeros(num_features),
        "feature_std": np.ones(num_features), "energy_ref": np.array(1.0),
    }
    return {k: np.array(v, dtype=np.float32) for k, v in out.items()}


def one_pole(x: np.ndarray, alpha: float) -> np.ndarray:
    """Causal one-pole smoothing along axis 0, starting at ``x[0]``: ``y_t = y_{t-1} + alpha (x_t - y_{t-1})``."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] == 0:
        return x
    return lfilter([alpha], [1.0, alpha - 1.0], x, axis=0, zi=(1.0 - alpha) * x[:1])[0]


def zero_phase(x: np.ndarray, alpha: float) -> np.ndarray:
    """The one-pole forwards then backwards (no delay)."""
    return one_pole(one_pole(x, alpha)[::-1], alpha)[::-1]


class MotionMap:
    """Motion ``(T, C)`` -> joint commands ``(T, J)`` in [-1, 1]; the numpy form of ``MotionToJoints``.

    Takes the same arguments as ``MotionToJoints``, or ``parameters`` (arrays by state-dict name) to run given
    weights. ``run(motion, urdf)`` gives offline commands, ``step(features, dt_s)`` streaming ones.
    """

    src = "motion"
    dst = "controls:robot"

    def __init__(self, num_features: int, num_joints: int = 7, energy_index: int | None = 0,
                 joint_scale: list[float] | None = None, speed_gain_rad_s: float = 0.3, speed_exponent: float = 1.0,
                 center_fraction: float = 0.35, orbit_fraction: float = 0.55, smooth_s: float = 0.3,
                 center_smooth_s: float = 2.0, seed: int = 0, parameters: dict | None = None):
        self.num_features, self.num_joints, self.energy_index = int(num_features), int(num_joints), energy_index
        self.smooth_s, self.center_smooth_s = smooth_s, center_smooth_s
        self.center_fraction, self.orbit_fraction = center_fraction, orbit_fraction
        if parameters is None:
            parameters = initial_parameters(num_features, num_joints, joint_scale, speed_gain_rad_s,
                                            speed_exponent, seed)
        self.parameters = {k: np.array(v, dtype=np.float32) for k, v in parameters.items()}
        if set(self.parameters) != set(PARAMETERS):
            raise WeightsError(f"MotionMap needs the arrays {PARAMETERS}; got {sorted(self.parameters)}")
        if self.parameters["proj.weight"].shape != (self.num_joints, self.num_features):
            raise WeightsError(f"proj.weight is {self.parameters['proj.weight'].shape}, not "
                               f"({self.num_joints}, {self.num_features})")
        self.reset()

    @classmethod
    def from_pretrained(cls, name_or_path) -> "MotionMap":
        """The weights of a saved ``MotionToJoints`` (a folder or a zoo name)."""
        cfg, arrays = load_arrays(name_or_path)
        if cfg.get("class") != "MotionToJoints" or set(arrays) != set(PARAMETERS):
            raise WeightsError(f"{name_or_path} holds a {cfg.get('class')}, not a MotionToJoints")
        config = {k: v for k, v in cfg.get("config", {}).items() if k not in ("parameters",)}
        try:
            return cls(**config, parameters=arrays)
        except TypeError as exc:
            raise WeightsError(f"{name_or_path}: the config does not fit MotionToJoints ({exc})") from None

    def _p(self, name: str) -> np.ndarray:
        return self.parameters[name].astype(np.float64)

    # -- default mapping ---------------------------------------------------------------------------------
    def fit_default(self, values: np.ndarray) -> "MotionMap":
        """Standardise on ``values`` ``(T, C)`` and point ``proj`` at their principal components."""
        x = np.nan_to_num(np.asarray(values, dtype=np.float64))
        mean, std = x.mean(0), x.std(0)
        std = np.where(std > 1e-9, std, 1.0)
        self.parameters["feature_mean"] = mean.astype(np.float32)
        self.parameters["feature_std"] = std.astype(np.float32)
        z = (x - self._p("feature_mean")) / self._p("feature_std")
        if z.shape[0] >= 2 and np.isfinite(z).all() and float(np.abs(z).sum()) > 0:
            _, _, vt = np.linalg.svd(z, full_matrices=False)
            k = min(self.num_joints, vt.shape[0])
            proj = self.parameters["proj.weight"].copy()
            proj[:k] = vt[:k]  # component i drives joint i (the base joints get the strongest)
            self.parameters["proj.weight"] = proj
        e = self._energy(x, z)
        pos = e[e > 0]
        self.parameters["energy_ref"] = np.array(float(np.median(pos)) if pos.size else 1.0, dtype=np.float32)
        return self

    def set_normalization(self, mean: np.ndarray, std: np.ndarray, energy_ref: float | None = None) -> None:
        """Set the feature standardisation (and the reference energy) from outside (``StreamingNormalizer``)."""
        self.parameters["feature_mean"] = np.asarray(mean, dtype=np.float32)
        self.parameters["feature_std"] = np.asarray(std, dtype=np.float32)
        if energy_ref is not None:
            self.parameters["energy_ref"] = np.array(energy_ref, dtype=np.float32)

    def _energy(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """The activity signal: the energy channel, or (for other motions) the speed of the standardised features."""
        if self.energy_index is not None and self.energy_index < x.shape[-1]:
            return np.maximum(x[..., self.energy_index], 0.0)
        if z.ndim == 2:
            dz = np.diff(z, axis=0, prepend=z[:1])
        else:
            dz = z - self._last_z if self._last_z is not None else 0 * z
        return np.linalg.norm(dz, axis=-1)

    # -- recurrence --------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget the streaming state (phase back to 0, smoothing restarted)."""
        self._phi, self._c, self._e, self._last_z, self._start = 0.0, None, None, None, None

    def _orbit(self, phi: np.ndarray) -> np.ndarray:
        """Orbit offsets in command units for phases ``phi`` (any shape): ``(..., num_joints)``."""
        phi = np.asarray(phi, dtype=np.float64)
        angle = self._p("harmonic") * phi[..., None] + self._p("orbit_phase")
        amp = self.orbit_fraction * self._p("pair_amp_rad")
        pairs = np.stack([amp * np.cos(angle), amp * np.sin(angle)], axis=-1).reshape(phi.shape + (-1,))
        out = np.zeros(phi.shape + (self.num_joints,))
        out[..., : pairs.shape[-1]] = pairs
        return out / self._p("joint_scale")

    def _phase_rate(self, e: np.ndarray) -> np.ndarray:
        """d phi / dt so that the orbit moves at the energy-driven joint speed (rad/s)."""
        ratio = np.maximum(e / max(float(self._p("energy_ref")), 1e-9), 0.0)
        speed = math.exp(float(self._p("log_speed_gain"))) * ratio ** float(self._p("speed_exponent"))
        path = max(float(np.linalg.norm(self.orbit_fraction * self._p("pair_amp_rad") * self._p("harmonic"))), 1e-6)
        return speed / path

    def _center(self, d: np.ndarray) -> np.ndarray:
        # at most center_fraction * 0.5 rad per joint: posture drifts gently, the orbit carries the speed
        scale = self._p("joint_scale")
        return self.center_fraction * np.tanh(d) * np.minimum(scale, 0.5) / scale

    def forward(self, values: np.ndarray, rate_hz: float, causal: bool = True) -> np.ndarray:
        """Commands ``(T, J)`` for a whole feature sequence ``(T, C)`` (phase starts at 0); ``causal=False``
        smooths energy and centre with a zero-phase filter (no lag against the video)."""
        x = np.nan_to_num(np.asarray(values, dtype=np.float64))
        if x.shape[0] == 0:
            return np.zeros((0, self.num_joints))
        z = (x - self._p("feature_mean")) / self._p("feature_std")
        a_e, a_c = (1 - math.exp(-1 / (rate_hz * s)) for s in (self.smooth_s, self.center_smooth_s))
        smooth = one_pole if causal else zero_phase
        d, e = smooth(z @ self._p("proj.weight").T, a_c), smooth(self._energy(x, z), a_e)
        phi = np.cumsum(self._phase_rate(e) / rate_hz, axis=0)
        pose = self._center(d) + self._orbit(phi)
        return np.clip(pose - pose[:1], -1, 1)  # start at home, where the arm is

    def run(self, motion: Motion, urdf: str = "franka_panda") -> Motion:
        """Offline commands for ``urdf``'s joints (a ``Motion`` in [-1, 1], one channel per joint)."""
        return self.commands(motion, RobotSpec.from_urdf(urdf))

    __call__ = run

    def commands(self, motion: Motion, spec: RobotSpec) -> Motion:
        """``forward`` over a whole clip, non-causal (no lag against the video), as a Motion for ``spec``."""
        if spec.num_joints != self.num_joints or motion.values.shape[1] != self.num_features:
            raise ConfigError(f"this bridge maps {self.num_features} features to {self.num_joints} joints; got "
                              f"{motion.values.shape[1]} features and {spec.name} with {spec.num_joints} joints")
        cmds = self.forward(motion.values, rate_hz=float(motion.rate_hz), causal=False)
        return Motion(cmds.astype(np.float64), rate_hz=Fraction(motion.rate_hz), channels=spec.joint_names,
                      units=(COMMAND_UNIT,) * spec.num_joints, rig=spec.rig(), start_s=motion.start_s)

    def step(self, features: np.ndarray, dt_s: float) -> np.ndarray:
        """Streaming: one feature vector in, one command vector out (NaN when the features are not finite)."""
        x = np.asarray(features, dtype=np.float64)
        if not np.isfinite(x).all() or dt_s <= 0:
            return np.full(self.num_joints, np.nan)
        z = (x - self._p("feature_mean")) / self._p("feature_std")
        d, e = self._p("proj.weight") @ z, self._energy(x, z)
        self._last_z = z
        a_e, a_c = (1 - math.exp(-dt_s / s) for s in (self.smooth_s, self.center_smooth_s))
        self._c = d if self._c is None else self._c + a_c * (d - self._c)
        self._e = e if self._e is None else self._e + a_e * (e - self._e)
        self._phi = self._phi + float(self._phase_rate(self._e)) * dt_s
        pose = self._center(self._c) + self._orbit(np.asarray(self._phi))
        if self._start is None:
            self._start = pose
        return np.clip(pose - self._start, -1, 1).astype(np.float64)


class StreamingNormalizer:
    """Running mean/std of live features (exponential, ``time_constant_s``) for a bridge with no clip to fit on.

    ``update(bridge, ...)`` sets the bridge's standardisation through ``bridge.set_normalization`` (a
    ``MotionMap`` or a ``MotionToJoints``)."""

    def __init__(self, num_features: int, time_constant_s: float = 10.0):
        self.mean, self.var, self.tau, self.count = np.zeros(num_features), np.ones(num_features), time_constant_s, 0

    def update(self, bridge, features: np.ndarray, dt_s: float) -> None:
        x = np.asarray(features, dtype=np.float64)
        if not np.isfinite(x).all():
            return
        self.count += 1
        a = 1.0 / self.count if self.count * dt_s < self.tau else 1 - math.exp(-dt_s / self.tau)
        delta = x - self.mean
        self.mean = self.mean + a * delta
        self.var = (1 - a) * (self.var + a * delta * delta) if self.count > 1 else np.ones_like(x) * 1e-6
        std = np.sqrt(np.maximum(self.var, 1e-12))
        k = bridge.energy_index
        energy_ref = float(self.mean[k]) if k is not None and k < x.size and self.mean[k] > 0 else None
        bridge.set_normalization(self.mean, np.where(std > 1e-9, std, 1.0), energy_ref)


def motion_to_commands(motion: Motion, urdf: str = "franka_panda", range_fraction: float = 0.3, seed: int = 0,
                       speed_gain_rad_s: float = 0.3) -> Motion:
    """The route step "motion-robot": fit the default mapping on ``motion`` and run it (non-causal smoothing).

    A Motion of joint commands in [-1, 1] for ``urdf``, ``range_fraction`` of the way from home to the limits."""
    spec = RobotSpec.from_urdf(urdf)
    energy_index = motion.channels.index("energy") if "energy" in motion.channels else None
    bridge = MotionMap(motion.values.shape[1], spec.num_joints, energy_index=energy_index,
                       joint_scale=spec.half_window(range_fraction).tolist(),
                       speed_gain_rad_s=speed_gain_rad_s, seed=seed)
    return bridge.fit_default(motion.values).commands(motion, spec)
