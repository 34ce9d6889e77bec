"""Video -> Motion: dense optical flow (OpenCV DIS, preset ultrafast) summarised into named channels with units.

Flow is computed on frames downscaled so the longer side is at most ``max_side`` (160 px by default: flames,
crowds and trees keep their motion, and DIS ultrafast then costs about a millisecond a frame). Velocities
are expressed in image diagonals per second (``diag/s``), so the numbers do not depend on the resolution.

Channels (see ``channel_names``):

- ``energy``: mean flow speed. The flame's "activity".
- ``envelope``: ``energy`` smoothed by a one-pole low-pass (time constant ``envelope_s``) -- what a
  jerk-limited robot arm can follow (../shared/design/crossmodal.md, "Flames").
- ``flicker``: RMS of ``energy`` band-passed to the flame puffing band (2-10 Hz, Cetegen & Ahmed 1993; clipped
  below Nyquist), over the same time constant.
- ``flow_x``, ``flow_y``: mean flow (x right, y UP), ``direction``: angle of the magnitude-weighted mean flow
  (rad, 0 = right, pi/2 = up), ``rising`` / ``falling``: mean upward / downward speed.
- ``divergence``, ``curl``: mean of du/dx + dv/dy and dv/dx - du/dy (1/s): expansion and swirl.
- ``rRcC_x``, ``rRcC_y``: mean flow per region of a ``grid`` (rows x cols, row 0 at the top).

``FlowMotion`` is the streaming form (pedalboard style: ``process(frame, reset=False)`` keeps the previous
frame and the filter states between calls); ``video_to_motion`` runs it over a whole video and is the route's
encoder step "flow-motion" (its keyword parameters are the step's options).
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from xmedia.errors import ConfigError, MediaError
from xmedia.limits import check_analysable
from xmedia.media import Motion, Video
from xmedia.routing import step

GLOBAL_CHANNELS = ("energy", "envelope", "flicker", "flow_x", "flow_y", "direction", "rising", "falling",
                   "divergence", "curl")
GLOBAL_UNITS = ("diag/s", "diag/s", "diag/s", "diag/s", "diag/s", "rad", "diag/s", "diag/s", "1/s", "1/s")
FLICKER_BAND_HZ = (2.0, 10.0)
NO_MOTION_DIAG_PER_S = 1e-3  # below this mean speed (0.1 % of the diagonal per second) a video is "static"


def channel_names(grid: tuple[int, int] = (2, 2)) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The channel names and units ``FlowMotion`` emits for a region ``grid``."""
    regions = [f"r{r}c{c}_{a}" for r in range(grid[0]) for c in range(grid[1]) for a in ("x", "y")]
    return GLOBAL_CHANNELS + tuple(regions), GLOBAL_UNITS + ("diag/s",) * len(regions)


class FlowMotion:
    """Streaming optical-flow features: feed RGB frames one by one, get one feature vector per frame.

    ``rate_hz`` is the nominal frame rate (it sets the filters); ``process`` takes the frame's time when known,
    so dropped or irregular frames still give per-second velocities.
    """

    def __init__(self, rate_hz: float = 30.0, max_side: int = 160, grid: tuple[int, int] = (2, 2),
                 envelope_s: float = 0.5, flicker_band_hz: tuple[float, float] = FLICKER_BAND_HZ):
        import cv2

        if rate_hz <= 0 or max_side < 16 or min(grid) < 1 or envelope_s <= 0:
            raise ConfigError(
                f"FlowMotion needs rate_hz > 0, max_side >= 16, a grid of at least 1x1 and envelope_s > 0; got "
                f"rate_hz={rate_hz}, max_side={max_side}, grid={grid}, envelope_s={envelope_s}"
            )
        self.rate_hz, self.max_side, self.grid, self.envelope_s = float(rate_hz), int(max_side), tuple(grid), envelope_s
        self.channels, self.units = channel_names(self.grid)
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        self._sos = _band_pass(self.rate_hz, flicker_band_hz)
        self.reset()

    def reset(self) -> None:
        """Forget the previous frame and the filter states (a new shot or a new source)."""
        self._prev, self._prev_time = None, None
        self._zi = None
        self._envelope = self._flicker_power = 0.0

    def process(self, frame: np.ndarray, time_s: float | None = None, reset: bool = False) -> np.ndarray:
        """Features ``(len(channels),)`` for an RGB (or grey) uint8 frame; zeros for the first frame."""
        import cv2

        if reset:
            self.reset()
        gray = _prepare(frame, self.max_side)
        dt = 1.0 / self.rate_hz
        if time_s is not None and self._prev_time is not None and time_s > self._prev_time:
            dt = float(time_s - self._prev_time)
        prev = self._prev
        self._prev, self._prev_time = gray, time_s
        if prev is None or prev.shape != gray.shape:
            return np.zeros(len(self.channels))
        flow = self._dis.calc(prev, gray, None)
        return self._summarise(flow, dt, cv2)

    def _summarise(self, flow: np.ndarray, dt: float, cv2) -> np.ndarray:
        h, w = flow.shape[:2]
        scale = 1.0 / (math.hypot(h, w) * dt)  # px/frame -> diagonals/s
        u, v = flow[..., 0], -flow[..., 1]  # y up
        speed = np.sqrt(u * u + v * v)
        energy = float(speed.mean()) * scale
        mx, my = float(u.mean()) * scale, float(v.mean()) * scale
        wx, wy = float((u * speed).sum()), float((v * speed).sum())
        direction = math.atan2(wy, wx) if (wx or wy) else 0.0
        rising, falling = float(np.maximum(v, 0).mean()) * scale, float(np.maximum(-v, 0).mean()) * scale
        du_dx = cv2.Sobel(u, cv2.CV_32F, 1, 0, ksize=1) * 0.5
        dv_dy = -cv2.Sobel(v, cv2.CV_32F, 0, 1, ksize=1) * 0.5  # image rows grow downwards, v grows upwards
        dv_dx = cv2.Sobel(v, cv2.CV_32F, 1, 0, ksize=1) * 0.5
        du_dy = -cv2.Sobel(u, cv2.CV_32F, 0, 1, ksize=1) * 0.5
        divergence = float((du_dx + dv_dy).mean()) / dt
        curl = float((dv_dx - du_dy).mean()) / dt
        # Filters run at the nominal rate: a dropped frame shifts them by one sample, which is harmless here.
        band, self._zi = _sos_step(self._sos, energy, self._zi)
        alpha = 1.0 - math.exp(-dt / self.envelope_s)
        self._envelope += alpha * (energy - self._envelope)
        self._flicker_power += alpha * (band * band - self._flicker_power)
        gr, gc = self.grid
        cells = cv2.resize(flow, (gc, gr), interpolation=cv2.INTER_AREA) * scale  # mean flow per region
        regions = np.stack([cells[..., 0], -cells[..., 1]], axis=-1).reshape(-1)
        head = [energy, self._envelope, math.sqrt(max(self._flicker_power, 0.0)), mx, my, direction, rising,
                falling, divergence, curl]
        return np.concatenate([np.asarray(head), regions.astype(np.float64)])


def _prepare(frame: np.ndarray, max_side: int) -> np.ndarray:
    import cv2

    frame = np.asarray(frame)
    if frame.ndim not in (2, 3) or frame.shape[0] < 2 or frame.shape[1] < 2:
        raise MediaError(f"a video frame must be (height, width[, 3]) pixels, got shape {frame.shape}")
    if frame.dtype != np.uint8:
        frame = np.clip(np.nan_to_num(frame.astype(np.float32)) * (255 if frame.dtype.kind == "f" else 1), 0, 255)
        frame = frame.astype(np.uint8)
    h, w = frame.shape[:2]
    if max(h, w) > max_side:
        s = max_side / max(h, w)
        frame = cv2.resize(frame, (max(2, round(w * s)), max(2, round(h * s))), interpolation=cv2.INTER_AREA)
    h, w = frame.shape[:2]
    if min(h, w) < 16:  # DIS needs sides of at least 12 px: stretch slivers (their flow hardly matters)
        frame = cv2.resize(frame, (max(w, 16), max(h, 16)), interpolation=cv2.INTER_NEAREST)
    if frame.ndim == 3:
        frame = cv2.cvtColor(np.ascontiguousarray(frame[..., :3]), cv2.COLOR_RGB2GRAY)
    return np.ascontiguousarray(frame)


def _band_pass(rate_hz: float, band_hz: tuple[float, float]) -> np.ndarray | None:
    """2nd-order Butterworth band-pass (high-pass when the band reaches Nyquist); None below 4 fps."""
    from scipy.signal import butter

    nyquist = rate_hz / 2
    low, high = band_hz[0], min(band_hz[1], 0.9 * nyquist)
    if low >= 0.9 * nyquist:
        return None
    if high <= low * 1.2:
        return butter(2, low, btype="highpass", fs=rate_hz, output="sos")
    return butter(2, [low, high], btype="bandpass", fs=rate_hz, output="sos")


def _sos_step(sos, x: float, zi):
    from scipy.signal import sosfilt, sosfilt_zi

    if sos is None:
        return 0.0, zi
    if zi is None:
        zi = sosfilt_zi(sos) * 0.0
    y, zi = sosfilt(sos, [x], zi=zi)
    return float(y[0]), zi


@step("video", "motion", name="flow-motion", cost=1.0, kind="encoder",
      description="OpenCV DIS optical flow (ultrafast) -> energy, direction, regions, divergence, curl, flicker")
def video_to_motion(video: Video, max_side: int = 160, grid: tuple[int, int] = (2, 2), envelope_s: float = 0.5,
                    allow_static: bool = False, progress: bool = False) -> Motion:
    """Run ``FlowMotion`` over every frame of ``video``: a ``Motion`` at the video's nominal fps.

    A video in which nothing moves raises ``MediaError`` (nothing to drive) unless ``allow_static``.
    """
    if video.num_frames < 2:
        raise MediaError(f"{video.source or 'the video'} has {video.num_frames} frame(s); optical flow needs at least 2")
    check_analysable(video, "optical flow")
    flow = FlowMotion(rate_hz=float(video.fps), max_side=max_side, grid=tuple(grid), envelope_s=envelope_s)
    frames = video.iter_frames(max_side=max_side)
    if progress:
        from tqdm import tqdm

        frames = tqdm(frames, total=video.num_frames, desc="optical flow", unit="frame")
    rows = [flow.process(f.rgb, time_s=float(f.time_s)) for f in frames]
    values = np.asarray(rows)
    values[0] = values[1]  # the first frame has no flow of its own: give it the next one's
    if not allow_static and float(values[:, 0].max()) < NO_MOTION_DIAG_PER_S:
        raise MediaError(
            f"{video.source or 'the video'} has no motion (peak flow {values[:, 0].max():.2e} diagonals/s): there is "
            "nothing to translate; use a clip where something moves, or pass allow_static=True"
        )
    return Motion(values, rate_hz=Fraction(video.fps), channels=flow.channels, units=flow.units)


def motion_envelope(x: np.ndarray, rate_hz: float, window_s: float = 1.0) -> np.ndarray:
    """Centred moving average of ``|x|`` over ``window_s``: the envelope used for fidelity measurements."""
    x = np.abs(np.asarray(x, dtype=np.float64))
    n = max(1, int(round(window_s * rate_hz)))
    kernel = np.ones(n) / n
    padded = np.pad(x, (n // 2, n - 1 - n // 2), mode="edge")
    return np.convolve(padded, kernel, mode="valid")
