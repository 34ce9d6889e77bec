"""Video in the perceptual space: a streaming encoder (pedalboard-style ``process(reset=False)``)."""
from __future__ import annotations

import numpy as np

from xmedia.embedding import Embedding
from xmedia.errors import MediaError
from xmedia.limits import check_analysable
from xmedia.media import Video
from xmedia.routing import step

from ..onsets.features import RegionMotion
from ..onsets.model import CUT_ONSET, EVENT_MODES, check_events, salient_subset
from ..onsets.model import resolve as resolve_onset_model
from .space import AXES, IDX, SPACE, _sat, pick_events, pool
from .still import _still_axes, colour_stats


class VideoEncoder:
    """Streaming video encoder: ``process(rgb, time_s)`` returns one row of axes per frame.

    State (previous frame, optical flow, recent motion) is kept across calls, pedalboard-style; pass
    ``reset=True`` (or call ``reset()``) to start a new stream. Frames should be small (``max_side`` ~160):
    the axes are resolution-independent (speeds are in picture widths per second).
    """

    def __init__(self, fps: float = 30.0, window_s: float = 1.5, collect_motion: bool = False):
        self.fps = float(fps)
        self.window = max(3, int(round(window_s * self.fps)))
        self.motion = RegionMotion(self.fps) if collect_motion else None  # local motion for the onset model
        self.reset()

    def reset(self):
        self._prev = None
        self._prev_energy = 0.0
        self._diffs: list[float] = []
        self._recent_onsets: list[float] = []
        self._flow = None
        self.frame_diffs: list[float] = []  # global mean |frame difference| per frame (0 for the first)
        if self.motion is not None:
            self.motion.reset()

    def _optical_flow(self, prev, gray):
        import cv2

        if self._flow is None:
            self._flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        return self._flow.calc(prev, gray, None)

    def process(self, rgb: np.ndarray, time_s: float | None = None, reset: bool = False) -> np.ndarray:
        import cv2

        if reset:
            self.reset()
        gray = cv2.cvtColor(np.ascontiguousarray(rgb[:, :, :3]), cv2.COLOR_RGB2GRAY)
        c = colour_stats(rgb)
        row = _still_axes(c)
        side = max(gray.shape)
        first = self._prev is None or self._prev.shape != gray.shape
        flow = None
        if first:
            speed_mean = speed_moving = moving = diff = 0.0
        else:
            flow = self._optical_flow(self._prev, gray)
            speed = cv2.magnitude(flow[..., 0], flow[..., 1]) * (self.fps / side)  # picture widths per second
            moving = float(np.count_nonzero(speed > 0.05)) / speed.size
            speed_mean = float(speed.mean())
            k = int(0.95 * (speed.size - 1))
            speed_moving = float(np.partition(speed.ravel(), k)[k])  # how fast the fastest things on screen move
            diff = float(np.abs(gray.astype(np.int16) - self._prev.astype(np.int16)).mean()) / 255.0
        if self.motion is not None:
            self.motion.add(None if first else self._prev, gray, flow)
        self.frame_diffs.append(diff)
        self._prev = gray
        energy = float(_sat(speed_mean, 0.15))
        if first:
            onset = 0.0  # nothing to compare with yet
        else:
            if not self._diffs:
                self._prev_energy = energy  # the first measured motion is not a jump
            # Sudden change: frame difference well above its recent median (cuts, flashes) plus jumps in motion.
            recent = self._diffs[-self.window:]
            base = float(np.median(recent)) if recent else 0.01  # no history yet: a typical frame difference
            self._diffs.append(diff)
            flux = max(0.0, diff - 1.5 * base)
            onset = float(np.clip(_sat(flux, 0.04) + 0.5 * max(0.0, energy - self._prev_energy), 0, 1))
        self._prev_energy = energy
        self._recent_onsets.append(onset)
        win = np.asarray(self._recent_onsets[-self.window:])
        event_rate = float((win > 0.3).sum()) / (len(win) / self.fps)
        row.update(
            energy=energy,
            pace=float(np.clip(0.7 * _sat(speed_moving, 0.4) + 0.3 * _sat(event_rate, 2.0), 0, 1)),
            density=float(_sat(moving, 0.35)),
            onset=onset,
        )
        return np.array([row[a] for a in AXES], dtype=np.float32)


@step("video", "space:perceptual", name="perceptual-video", cost=1.0, kind="encoder",
      description="video -> the embedded perceptual space (energy, pace, brightness, warmth, texture, valence, density, onset)")
def encode_video(video: Video, max_side: int = 160, progress: bool = False, onset_model="visual-onsets",
                 events="all") -> Embedding:
    """Per-frame axes on a fixed grid at the video's nominal fps, pooled vector and visual events.

    ``onset_model``: what finds the visual events and the onset axis. ``"visual-onsets"`` (default) is the
    model learned from real sound (``xmedia.adapters.onsets``; a zoo name or a folder written by
    ``xmedia train visual-onsets`` works too); ``"classic"`` is the earlier hand-tuned detector (global frame
    difference plus jumps in motion energy), also used, with a warning, when the default weights are missing.

    ``events``: the operating point (``xmedia.adapters.onsets.model``, docs/soundtrack.md "Visual events").
    ``"all"`` (default): every sound-making event at the clip's expected density (the sum of the calibrated
    per-frame probability); ``"salient"``: only the strong ones among those (at most one a second); a
    probability in (0, 1): every peak of the probability at or above it. ``event_strengths`` are the events'
    saliences (0..1, 1 = the clip's strongest); each event's probability is the track's onset axis at its frame.
    """
    check_analysable(video)
    mode = check_events(events)
    model = resolve_onset_model(onset_model)
    enc = VideoEncoder(fps=float(video.fps), collect_motion=model is not None)
    frames = prefetch(video.iter_frames(max_side=max_side))
    if progress:
        from tqdm import tqdm

        frames = tqdm(frames, total=video.num_frames, desc="analyse video", unit="frame")
    rows, times = [], []
    for fr in frames:
        rows.append(enc.process(fr.rgb))
        times.append(fr.time_s)
    if not rows:
        raise MediaError(f"{video.source or 'video'}: no frame could be decoded")
    per_frame = np.stack(rows)
    duration = video.duration_s
    if model is None:  # the classic axis is no probability: "all" is its fixed 0.3 threshold
        events, strengths = pick_events(per_frame[:, IDX["onset"]], times, threshold=0.3 if mode in EVENT_MODES
                                        else mode, min_gap_s=0.15)
        if mode == "salient":
            events, strengths = salient_subset((events, strengths), float(duration))
    else:
        curve = model.curve_from_motion(enc.motion.matrix(), enc.fps)
        events, strengths = model.pick(curve, times, mode, classic=per_frame[:, IDX["onset"]],
                                       duration_s=float(duration))
        per_frame[:, IDX["onset"]] = np.maximum(curve, np.where(per_frame[:, IDX["onset"]] >= CUT_ONSET,
                                                                per_frame[:, IDX["onset"]], 0.0))
    n = max(1, int(duration * video.fps))
    grid = np.arange(n) / float(video.fps)
    idx = np.clip(np.searchsorted(np.asarray(times, dtype=float), grid, side="right") - 1, 0, len(rows) - 1)
    track = per_frame[idx]
    return Embedding(SPACE, pool(track), track=track, rate_hz=video.fps, duration_s=duration, axes=AXES,
                     events_s=events, event_strengths=strengths, source="video")


def prefetch(iterator, depth: int = 8):
    """Run ``iterator`` in a background thread (PyAV decodes and scales without the GIL): decoding one
    frame overlaps analysing the previous one, which nearly halves the wall time on two cores."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce():
        try:
            for item in iterator:
                if stop.is_set():
                    return
                q.put(item)
            q.put(done)
        except BaseException as exc:  # re-raised in the consumer
            q.put(exc)

    worker = threading.Thread(target=produce, daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                worker.join(0.01)
