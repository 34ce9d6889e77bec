"""The embedded perceptual space: eight interpretable axes, computed on a CPU with no weights.

Every medium is measured on the same named axes, each in [0, 1], so a video and a sound can be compared,
matched and translated. How each axis is computed per medium and the research it rests on is in
``docs/perceptual.md`` (and ``AXIS_DOCS`` below). Time-based media give a track (T x 8) at a fixed rate plus
a pooled vector and the exact times of detected events; still media give the pooled vector only.
Where an axis has no grounded meaning for a medium (the pace of a photo) it is neutral, 0.5.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from xmedia.embedding import Embedding
from xmedia.errors import MediaError
from xmedia.media import Audio, Image, Motion, Text, Video

AXES = ("energy", "pace", "brightness", "warmth", "texture", "valence", "density", "onset")
SPACE = "perceptual"
NEUTRAL = 0.5
IDX = {name: i for i, name in enumerate(AXES)}

AXIS_DOCS = {
    "energy": "arousal/intensity. Audio: loudness (RMS dBFS). Video: amount of motion (mean optical-flow speed). "
              "Image: saturation and contrast. Loudness<->brightness/size (Stevens & Marks 1965; Marks 1987); "
              "loud, energetic music <-> saturated colour (Whiteford et al. 2018).",
    "pace": "speed of events. Audio: onset rate. Video: speed of what moves plus the rate of visual events. "
            "Tempo <-> speed of visual motion (Spence 2011).",
    "brightness": "Audio: spectral centroid (the acoustic correlate of 'bright' timbre: Grey 1977; McAdams et al. "
                  "1995). Video/image: mean luma. Pitch/brightness <-> lightness (Marks 1974, 1987).",
    "warmth": "Audio: low-mid share of the spectrum (100-800 Hz vs 1.5-8 kHz). Video/image: red-versus-blue balance "
              "(colour temperature).",
    "texture": "roughness. Audio: spectral flatness (noise-like = rough). Video/image: edge density (mean gradient). "
               "Rough, noisy sounds <-> jagged, high-contrast textures (Ramachandran & Hubbard 2001; Spence 2011).",
    "valence": "pleasantness. Audio: major vs minor mode (Krumhansl-Kessler key profiles) with brightness and pace. "
               "Video/image: lightness, saturation and yellowness (light/yellow judged positive, dark/blue-grey "
               "negative: Palmer et al. 2013).",
    "density": "how much happens at once. Audio: share of spectral bands within 30 dB of the loudest. Video: share "
               "of the picture in motion. Image: share of pixels on edges.",
    "onset": "event strength. Audio: spectral flux. Video: sudden change (cuts, impacts: frame-difference flux and "
             "jumps in motion). Rhythmic onsets <-> visual events (Spence 2011).",
}

_EPS = 1e-10


def _moving_average(x: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average along time (axis 0), same length as ``x``, edges held."""
    from scipy.ndimage import uniform_filter1d

    return uniform_filter1d(np.asarray(x, dtype=np.float64), size=max(1, int(window)), axis=0, mode="nearest")


def _sat(x, scale):
    """Map a non-negative quantity to [0, 1): 1 - exp(-x / scale)."""
    return 1.0 - np.exp(-np.maximum(x, 0.0) / scale)


def encode(x, **options) -> Embedding:
    """Embed any supported medium in the perceptual space."""
    for klass, fn in ((Video, encode_video), (Audio, encode_audio), (Image, encode_image), (Text, encode_text),
                      (Motion, encode_motion)):
        if isinstance(x, klass):
            return fn(x, **options)
    raise MediaError(f"the perceptual space has no encoder for {type(x).__name__}")


# ------------------------------------------------------------------------------------------------ colour
_YELLOW_BY_HUE = None


def colour_stats(rgb: np.ndarray) -> dict[str, float]:
    """Lightness, saturation, warmth, yellowness, contrast and edge statistics of one RGB uint8 picture.

    OpenCV does the per-pixel work (this runs once per video frame, so it must cost well under a millisecond).
    """
    import cv2

    global _YELLOW_BY_HUE
    if _YELLOW_BY_HUE is None:  # closeness of each OpenCV hue (0..179, 2 deg steps) to yellow (60 deg)
        _YELLOW_BY_HUE = (np.cos(np.deg2rad(np.arange(180) * 2.0 - 60.0)) * 0.5 + 0.5).astype(np.float32)
    rgb = np.ascontiguousarray(rgb[:, :, :3])
    y = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    mean_rgb = cv2.mean(rgb)
    y_mean, y_std = cv2.meanStdDev(y)
    sat = hsv[:, :, 1].astype(np.float32) * (1 / 255.0)
    yellow = float((_YELLOW_BY_HUE[hsv[:, :, 0]] * sat).mean())
    gx = cv2.Sobel(y, cv2.CV_32F, 1, 0, ksize=3, scale=1 / 255.0)
    gy = cv2.Sobel(y, cv2.CV_32F, 0, 1, ksize=3, scale=1 / 255.0)
    grad = cv2.magnitude(gx, gy)
    return {
        "lightness": float(y_mean[0, 0]) / 255.0,
        "saturation": float(sat.mean()),
        "warmth": (mean_rgb[0] - mean_rgb[2]) / 255.0,
        "yellowness": yellow,
        "contrast": float(y_std[0, 0]) / 255.0,
        "gradient": float(grad.mean()),
        "edges": float(np.count_nonzero(grad > 0.5)) / grad.size,
    }


def _still_axes(c: dict[str, float]) -> dict[str, float]:
    """The axes a single picture defines (shared by images and video frames)."""
    return {
        "brightness": float(np.clip(c["lightness"], 0, 1)),
        "warmth": float(np.clip(0.5 + 1.5 * c["warmth"], 0, 1)),
        "texture": float(_sat(c["gradient"], 0.25)),
        "valence": float(np.clip(0.45 * c["lightness"] + 0.3 * c["saturation"] + 0.25 * 2 * c["yellowness"], 0, 1)),
    }


def encode_image(image: Image, max_side: int = 160) -> Embedding:
    rgb = image.rgb_uint8()
    if max(rgb.shape[:2]) > max_side:
        from xmedia.media import _downscale

        rgb = _downscale(rgb, max_side)
    c = colour_stats(rgb)
    axes = _still_axes(c)
    axes.update(
        energy=float(np.clip(0.5 * c["saturation"] / 0.6 + 0.5 * c["contrast"] / 0.3, 0, 1)),
        pace=NEUTRAL,
        density=float(_sat(c["edges"], 0.15)),
        onset=0.0,
    )
    return Embedding(SPACE, np.array([axes[a] for a in AXES]), axes=AXES, source="image")


# ------------------------------------------------------------------------------------------------ video
class VideoEncoder:
    """Streaming video encoder: ``process(rgb, time_s)`` returns one row of axes per frame.

    State (previous frame, optical flow, recent motion) is kept across calls, pedalboard-style; pass
    ``reset=True`` (or call ``reset()``) to start a new stream. Frames should be small (``max_side`` ~160):
    the axes are resolution-independent (speeds are in picture widths per second).
    """

    def __init__(self, fps: float = 30.0, window_s: float = 1.5):
        self.fps = float(fps)
        self.window = max(3, int(round(window_s * self.fps)))
        self.reset()

    def reset(self):
        self._prev = None
        self._prev_energy = 0.0
        self._diffs: list[float] = []
        self._recent_onsets: list[float] = []
        self._flow = None

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


def encode_video(video: Video, max_side: int = 160, progress: bool = False) -> Embedding:
    """Per-frame axes on a fixed grid at the video's nominal fps, pooled vector and visual events."""
    enc = VideoEncoder(fps=float(video.fps))
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
    events, strengths = pick_events(per_frame[:, IDX["onset"]], times, min_gap_s=0.15)
    duration = video.duration_s
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


def pick_events(onset: np.ndarray, times, min_gap_s: float, threshold: float = 0.3):
    """Local maxima of an onset curve above ``threshold`` and above its local mean, at least ``min_gap_s`` apart."""
    if len(onset) < 3:
        return (), ()
    local = _moving_average(onset, 9)
    peaks = [i for i in range(len(onset))
             if onset[i] >= threshold and onset[i] > local[i] + 0.05
             and onset[i] >= onset[max(i - 1, 0)] and onset[i] >= onset[min(i + 1, len(onset) - 1)]]
    events, strengths = [], []
    for i in sorted(peaks, key=lambda i: -onset[i]):
        t = times[i]
        if all(abs(float(t - e)) >= min_gap_s for e in events):
            events.append(t)
            strengths.append(float(onset[i]))
    order = np.argsort([float(e) for e in events])
    return tuple(Fraction(events[i]) for i in order), tuple(strengths[i] for i in order)


def pool(track: np.ndarray) -> np.ndarray:
    """The pooled vector: mean of each axis, except onset, which is the mean of its top decile (event strength)."""
    v = track.mean(axis=0)
    on = np.sort(track[:, IDX["onset"]])
    v[IDX["onset"]] = on[int(len(on) * 0.9):].mean()
    return v


# ------------------------------------------------------------------------------------------------ audio
_KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def stft_magnitude(mono: np.ndarray, sr: int, n_fft: int = 2048, hop: int | None = None) -> tuple[np.ndarray, int]:
    hop = hop or sr // 100
    pad = np.pad(mono.astype(np.float32), (n_fft // 2, n_fft // 2))
    n = 1 + max(0, (len(pad) - n_fft) // hop)
    frames = np.lib.stride_tricks.as_strided(pad, (n, n_fft), (pad.strides[0] * hop, pad.strides[0]))
    return np.abs(np.fft.rfft(frames * np.hanning(n_fft).astype(np.float32), axis=1)), hop


def _mode_score(mag, freqs, energy_w, window: int) -> np.ndarray:
    """Per-frame major-vs-minor score in [-1, 1] from chroma over a sliding window (Krumhansl-Kessler profiles)."""
    sel = (freqs > 60) & (freqs < 5000)
    pc = np.round(12 * np.log2(freqs[sel] / 261.63)).astype(int) % 12
    chroma = np.zeros((mag.shape[0], 12), np.float32)
    for k in range(12):
        chroma[:, k] = mag[:, sel][:, pc == k].sum(axis=1)
    smooth = _moving_average(chroma * energy_w[:, None], window)

    def best(profile):
        z = (profile - profile.mean()) / profile.std()
        rolled = np.stack([np.roll(z, s) for s in range(12)])  # (12 keys, 12 pcs)
        c = smooth - smooth.mean(axis=1, keepdims=True)
        c = c / (np.linalg.norm(c, axis=1, keepdims=True) + _EPS)
        return (c @ rolled.T / np.linalg.norm(z)).max(axis=1)

    return np.tanh(4 * (best(_KK_MAJOR) - best(_KK_MINOR)))


def encode_audio(audio: Audio, onset_threshold: float = 0.3) -> Embedding:
    """Axes at ~100 Hz (hop = sample_rate // 100; the exact rate is a Fraction), pooled vector and onsets."""
    if audio.num_samples == 0:
        raise MediaError("the audio is empty (zero samples): nothing to analyse")
    sr = audio.sample_rate_hz
    mono = audio.mono()
    mag, hop = stft_magnitude(mono, sr)
    n_fft = 2048
    freqs = np.fft.rfftfreq(n_fft, 1 / sr)
    power = mag**2
    rms = np.sqrt(power.sum(axis=1) * 2 / (n_fft * np.sum(np.hanning(n_fft) ** 2)) + _EPS)
    db = 20 * np.log10(rms + _EPS)
    loud = db > -60
    energy = np.clip((db + 60) / 60, 0, 1)
    total = power.sum(axis=1) + _EPS
    centroid = (power * freqs).sum(axis=1) / total
    brightness = np.clip(np.log2(np.maximum(centroid, 1) / 200) / np.log2(8000 / 200), 0, 1)
    low = power[:, (freqs >= 100) & (freqs < 800)].sum(axis=1)
    high = power[:, (freqs >= 1500) & (freqs < 8000)].sum(axis=1)
    warmth = low / (low + high + _EPS)
    band = (freqs > 50) & (freqs < min(16000, sr / 2))
    flat = np.exp(np.mean(np.log(power[:, band] + _EPS), axis=1)) / (np.mean(power[:, band], axis=1) + _EPS)
    texture = np.clip(np.sqrt(flat) * 1.6, 0, 1)
    edges = np.geomspace(50, min(16000, sr / 2 - 1), 25)
    bands = np.stack([power[:, (freqs >= a) & (freqs < b)].sum(axis=1) for a, b in zip(edges[:-1], edges[1:])], axis=1)
    bands_db = 10 * np.log10(bands + _EPS)
    density = (bands_db > bands_db.max(axis=1, keepdims=True) - 30).mean(axis=1)
    # Onsets from a short (~23 ms) window so they are not smeared; then refined to the sample.
    short = 1 << int(np.ceil(np.log2(sr * 0.023)))
    smag, _ = stft_magnitude(mono, sr, n_fft=short, hop=hop)
    logmag = np.log1p(100 * smag[: len(mag)] / (np.sqrt(short) + _EPS))
    flux = np.maximum(0, np.diff(logmag, axis=0, prepend=logmag[:1])).mean(axis=1)
    onset = _sat(flux, 0.08) * loud
    rate = Fraction(sr, hop)
    times = [Fraction(i * hop, sr) for i in range(len(onset))]
    events, strengths = pick_events(onset, times, min_gap_s=0.05, threshold=onset_threshold)
    events = tuple(refine_attack(mono, sr, e, search_s=short / sr) for e in events)
    ev_frames = np.zeros(len(onset))
    for e in events:
        ev_frames[min(len(onset) - 1, int(e * rate))] = 1
    win = int(2 * rate)
    onset_rate = _moving_average(ev_frames, win) * float(rate)
    pace = _sat(onset_rate, 4.0)
    mode = _mode_score(mag, freqs, energy, window=int(3 * rate))
    valence = np.clip(0.5 + 0.3 * mode + 0.15 * (brightness - 0.5) + 0.15 * (pace - 0.5), 0, 1)
    for arr in (brightness, warmth, texture, valence):
        arr[~loud] = NEUTRAL  # timbre is undefined in silence
    density = density * loud
    track = np.stack([energy, pace, brightness, warmth, texture, valence, density, onset], axis=1).astype(np.float32)
    vector = pool(track)
    if loud.any():  # timbre axes: mean over the frames that sound
        for a in ("brightness", "warmth", "texture", "valence", "density"):
            vector[IDX[a]] = track[loud, IDX[a]].mean()
        vector[IDX["pace"]] = _sat(len(events) / float(audio.duration_s), 4.0)
    return Embedding(SPACE, vector, track=track, rate_hz=rate, duration_s=audio.duration_s, axes=AXES,
                     events_s=events, event_strengths=strengths, source="audio")


def refine_attack(mono: np.ndarray, sr: int, guess_s: Fraction, search_s: float) -> Fraction:
    """The sample where the sound's envelope first reaches half its local peak, near ``guess_s``.

    Frame-based flux only knows an onset to within a window; the attack's sample keeps sync within 1-2 ms.
    """
    lo = max(0, int((guess_s - Fraction(search_s)) * sr))
    hi = min(len(mono), int((guess_s + Fraction(2 * search_s)) * sr))
    if hi - lo < 8:
        return guess_s
    env = _moving_average(np.abs(mono[lo:hi]), max(1, sr // 1000))
    floor = float(np.percentile(env[: max(1, len(env) // 4)], 50))
    peak = float(env.max())
    if peak <= floor * 1.5:
        return guess_s
    first = int(np.argmax(env >= floor + 0.5 * (peak - floor)))
    return Fraction(lo + first, sr)


# ------------------------------------------------------------------------------------------------ motion
def encode_motion(motion: Motion) -> Embedding:
    """Motion channels are scaled by their range; speed gives energy, oscillation rate gives pace."""
    v = motion.values
    rate = float(motion.rate_hz)
    span = np.ptp(v, axis=0)
    scaled = v / np.where(span > 1e-9, span, 1.0)
    vel = np.abs(np.diff(scaled, axis=0, prepend=scaled[:1])) * rate  # ranges per second
    speed = vel.mean(axis=1)
    energy = _sat(speed, 1.0)
    acc = np.abs(np.diff(vel, axis=0, prepend=vel[:1])).mean(axis=1)
    texture = np.clip(acc / (speed * rate + _EPS), 0, 1)
    onset = _sat(np.maximum(0, np.diff(speed, prepend=speed[:1])), 0.5)
    centred = scaled - scaled.mean(axis=0)
    crossings = (np.diff(np.sign(centred), axis=0, prepend=np.sign(centred[:1])) != 0).mean(axis=1)
    win = max(3, int(2 * rate))
    zcr = _moving_average(crossings, win) * rate / 2  # oscillations per second
    pace = _sat(zcr, 2.0)
    density = (vel > 0.05).mean(axis=1)
    neutral = np.full(len(v), NEUTRAL)
    track = np.stack([energy, pace, neutral, neutral, texture, neutral, density, onset], axis=1).astype(np.float32)
    times = [motion.start_s + Fraction(i) / motion.rate_hz for i in range(len(v))]
    events, strengths = pick_events(onset, times, min_gap_s=0.1)
    return Embedding(SPACE, pool(track), track=track, rate_hz=motion.rate_hz, duration_s=motion.duration_s,
                     axes=AXES, events_s=events, event_strengths=strengths, source="motion",
                     start_s=motion.start_s)


# ------------------------------------------------------------------------------------------------ text
LEXICON: dict[str, dict[str, float]] = {}


def _lexicon() -> dict[str, dict[str, float]]:
    if not LEXICON:
        from importlib import resources
        import csv

        with resources.files("xmedia.adapters").joinpath("perceptual_lexicon.csv").open() as fh:
            for row in csv.DictReader(line for line in fh if not line.startswith("#")):
                LEXICON[row["word"]] = {a: float(row[a]) for a in AXES if row.get(a, "").strip()}
    return LEXICON


def encode_text(text: Text) -> Embedding:
    """Average of the lexicon entries of the words found (neutral 0.5 for axes no word speaks to).

    'not'/'no' before a word mirrors that word's values around neutral.
    """
    import re

    words = re.findall(r"[a-z]+", text.text.lower())
    sums, counts = np.zeros(len(AXES)), np.zeros(len(AXES))
    lex = _lexicon()
    for i, w in enumerate(words):
        entry = lex.get(w) or lex.get(w.rstrip("s")) or lex.get(w.removesuffix("ly"))
        if not entry:
            continue
        negate = i > 0 and words[i - 1] in ("not", "no", "never", "without")
        for a, value in entry.items():
            sums[IDX[a]] += (1 - value) if negate else value
            counts[IDX[a]] += 1
    vector = np.where(counts > 0, (sums + NEUTRAL) / (counts + 1), NEUTRAL)  # one neutral pseudo-count
    return Embedding(SPACE, vector, axes=AXES, source="text")


def to_motion(embedding: Embedding, duration_s=None) -> Motion:
    """A perceptual track as a ``Motion`` (one channel per axis, at the track's rate): lets a sound or a
    video's mood drive whatever motion drives (a robot arm whose speed follows the music's energy). Still
    media are held for ``duration_s`` (default 10 s)."""
    embedding = embedding.timed(duration_s)
    return Motion(embedding.track, embedding.rate_hz, channels=embedding.axes, units=("unit",) * len(embedding.axes),
                  start_s=embedding.start_s)


# ------------------------------------------------------------------------------------------------ routes
def register(registry):
    from functools import partial

    for kind, fn, cost in (("video", encode_video, 1.0), ("audio", encode_audio, 0.5), ("image", encode_image, 0.3),
                           ("text", encode_text, 0.1), ("motion", encode_motion, 0.3)):
        options = ("max_side", "progress") if kind == "video" else ()
        registry.register(f"perceptual-{kind}", kind, "space:perceptual", partial(lambda f: f, fn), cost=cost,
                          kind="encoder", options=options,
                          description=f"{kind} -> the embedded perceptual space ({', '.join(AXES)})")
    registry.register("perceptual-to-motion", "space:perceptual", "motion", lambda: to_motion, cost=0.5,
                      kind="decoder", options=("duration_s",), description="the perceptual track as Motion channels (energy, pace, ...)")
