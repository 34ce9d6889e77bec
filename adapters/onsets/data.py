"""Clips with their own sound as onset data: picture features, labels from the sound, and the sanity checks.

``clip_data(video)`` decodes a clip once and keeps what training and evaluation need: the local-motion rows
(``features.RegionMotion``), today's (classic) onset curve, the global frame difference, the frame times, and
from the clip's own sound the label onsets (``encode_audio``'s onset strength peaks, refined to the attack)
with their strengths and the sound's onset-strength envelope at frame rate. ``usable(video)`` says why a clip
cannot teach anything (no sound, silent sound); ``sync_offset_s`` finds a picture/sound offset.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from xmedia.errors import MediaError
from xmedia.manifest import is_manifest, manifest_files
from xmedia.media import Audio, Video

from ..perceptual.audio import encode_audio
from ..perceptual.space import IDX
from ..perceptual.video import VideoEncoder, prefetch

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")
SILENT_DBFS = -50.0  # a sound track whose loudest 50 ms stays below this is silence, not a label source
MAX_OFFSET_S = 0.08  # picture/sound offsets beyond this are flagged (the EBU R37 tolerance is +40/-60 ms)


@dataclass
class ClipData:
    name: str
    fps: float
    times_s: np.ndarray  # (T,) frame times
    motion: np.ndarray  # (T, RAW_WIDTH) local-motion rows
    classic: np.ndarray  # (T,) today's onset axis
    frame_diff: np.ndarray  # (T,) global mean |frame difference|
    label_s: np.ndarray  # onsets of the clip's own sound (our detector, refined to the attack)
    label_strength: np.ndarray
    sound_envelope: np.ndarray  # (T,) onset strength of the sound, max over each frame's interval
    truth_s: np.ndarray | None = None  # an independent detector's onsets (librosa), for evaluation
    duration_s: float = 0.0
    extra: dict = field(default_factory=dict)
    # the independent onsets' strengths: librosa's onset strength at each, over its clip's 99th percentile
    # (>= ``measure.SALIENT``: a salient sound)
    truth_strength: np.ndarray | None = None


def load_clip(path) -> Video:
    from xmedia.io import load

    video = load(path, kind="video")
    if not isinstance(video, Video):
        raise MediaError(f"{path}: not a video (no picture stream)")
    return video


def video_files(folder) -> list[Path]:
    """A folder's videos (recursively), a JSON-lines manifest's inputs (``xmedia.manifest``) or one video."""
    folder = Path(folder)
    if is_manifest(folder):
        return manifest_files(folder, VIDEO_EXTENSIONS)
    if folder.is_file():
        return [folder]
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS)


def usable(video: Video) -> str | None:
    """None when the clip's sound can label its frames, else why not (``"no sound"``, ``"silent sound"``)."""
    if video.audio is None or video.audio.num_samples == 0:
        return "no sound"
    mono = video.audio.mono()
    block = max(1, video.audio.sample_rate_hz // 20)
    n = len(mono) // block
    if n == 0:
        return "silent sound"
    rms = np.sqrt((mono[: n * block].reshape(n, block).astype(np.float64) ** 2).mean(axis=1))
    if 20 * np.log10(rms.max() + 1e-12) < SILENT_DBFS:
        return "silent sound"
    return None


def sound_onsets(audio: Audio) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Label onsets (s), their strengths, the onset-strength envelope and its rate (Hz)."""
    emb = encode_audio(audio)
    return (np.array([float(e) for e in emb.events_s]), np.array(emb.event_strengths, np.float64),
            np.asarray(emb.track[:, IDX["onset"]], np.float64), float(emb.rate_hz))


def envelope_at_frames(envelope: np.ndarray, rate_hz: float, times_s: np.ndarray) -> np.ndarray:
    """The envelope's maximum over each frame's interval [t_i - half a frame, t_i + half a frame)."""
    if len(times_s) == 0:
        return np.zeros(0)
    edges = np.concatenate([[times_s[0] - 0.5 * _step(times_s)], 0.5 * (times_s[1:] + times_s[:-1]),
                            [times_s[-1] + 0.5 * _step(times_s)]])
    idx = np.clip(np.round(edges * rate_hz).astype(int), 0, len(envelope))
    return np.array([envelope[a:max(b, a + 1)].max() if a < len(envelope) else 0.0 for a, b in zip(idx, idx[1:])])


def _step(times_s: np.ndarray) -> float:
    return float(np.median(np.diff(times_s))) if len(times_s) > 1 else 1 / 30


def independent_truth(audio: Audio, strengths: bool = False):
    """Onsets of the sound by an independent detector: ``librosa.onset.onset_detect`` (backtrack off); with
    ``strengths``, ``(onsets, strengths)``: librosa's onset strength at each over its clip's 99th percentile."""
    import librosa

    y = audio.mono().astype(np.float32)
    sr = audio.sample_rate_hz
    env = librosa.onset.onset_strength(y=y, sr=sr)
    frames = librosa.onset.onset_detect(onset_envelope=env, sr=sr, units="frames", backtrack=False)
    onsets = np.asarray(librosa.frames_to_time(frames, sr=sr), np.float64)
    if not strengths:
        return onsets
    ref = float(np.percentile(env, 99)) if len(env) else 0.0
    return onsets, np.asarray(env[frames] / (ref + 1e-9), np.float64)


def clip_data(video: Video, name: str | None = None, max_side: int = 160, truth: bool = False) -> ClipData:
    """Decode ``video`` once and gather its picture features and sound labels (the clip must be ``usable``)."""
    enc = VideoEncoder(fps=float(video.fps), collect_motion=True)
    rows, times = [], []
    for fr in prefetch(video.iter_frames(max_side=max_side)):
        rows.append(enc.process(fr.rgb)[IDX["onset"]])
        times.append(float(fr.time_s))
    if not rows:
        raise MediaError(f"{name or video.source}: no frame could be decoded")
    times_s = np.asarray(times)
    labels, strengths, env, rate = sound_onsets(video.audio)
    truth_s, truth_strength = independent_truth(video.audio, strengths=True) if truth else (None, None)
    return ClipData(name or Path(video.source or "clip").name, float(video.fps), times_s, enc.motion.matrix(),
                    np.asarray(rows, np.float64), np.asarray(enc.frame_diffs, np.float64), labels, strengths,
                    envelope_at_frames(env, rate, times_s), truth_s, float(video.duration_s),
                    truth_strength=truth_strength)


def cached_clip(path, cache_dir=None, truth: bool = True) -> ClipData:
    """``clip_data`` of a file, cached in ``cache_dir`` (default ``$XMEDIA_CACHE``) by path, size and mtime."""
    path = Path(path)
    cache_dir = cache_dir or os.environ.get("XMEDIA_CACHE")
    key = None
    if cache_dir:
        st = path.stat()
        key = Path(cache_dir) / "onsets" / (hashlib.sha1(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{truth}|3"
                                                         .encode()).hexdigest()[:16] + ".npz")
        if key.is_file():
            z = np.load(key, allow_pickle=False)
            return ClipData(str(z["name"]), float(z["fps"]), z["times_s"], z["motion"], z["classic"], z["frame_diff"],
                            z["label_s"], z["label_strength"], z["sound_envelope"],
                            z["truth_s"] if truth else None, float(z["duration_s"]),
                            truth_strength=z["truth_strength"] if truth else None)
    clip = clip_data(load_clip(path), path.name, truth=truth)
    if key is not None:
        key.parent.mkdir(parents=True, exist_ok=True)
        tmp = key.with_suffix(".tmp.npz")
        np.savez(tmp, name=clip.name, fps=clip.fps, times_s=clip.times_s, motion=clip.motion, classic=clip.classic,
                 frame_diff=clip.frame_diff, label_s=clip.label_s, label_strength=clip.label_strength,
                 sound_envelope=clip.sound_envelope, truth_s=clip.truth_s if truth else np.zeros(0),
                 truth_strength=clip.truth_strength if truth else np.zeros(0), duration_s=clip.duration_s)
        os.replace(tmp, key)
    return clip


def sync_offset_s(visual: np.ndarray, sound: np.ndarray, fps: float, max_lag_s: float = 0.5):
    """``(lag in s, peak correlation, correlation at zero lag)`` of the normalised cross-correlation of a
    visual-onset curve with the sound's onset strength at frame rate; a positive lag means the sound comes late.
    The peak is refined between frames (parabola through its neighbours)."""
    a = np.asarray(visual, np.float64)
    b = np.asarray(sound, np.float64)
    n = min(len(a), len(b))
    a, b = a[:n] - a[:n].mean(), b[:n] - b[:n].mean()
    den = np.sqrt((a**2).sum() * (b**2).sum())
    if n < 4 or den < 1e-12:
        return 0.0, 0.0, 0.0
    k = min(n - 2, int(round(max_lag_s * fps)))
    lags = np.arange(-k, k + 1)
    corr = np.array([(a[max(0, -lag): n - max(0, lag)] * b[max(0, lag): n - max(0, -lag)]).sum() for lag in lags]) / den
    i = int(np.argmax(corr))
    shift = 0.0
    if 0 < i < len(corr) - 1:
        c0, c1, c2 = corr[i - 1], corr[i], corr[i + 1]
        d = c0 - 2 * c1 + c2
        shift = 0.5 * (c0 - c2) / d if abs(d) > 1e-12 else 0.0
    return float((lags[i] + shift) / fps), float(corr[i]), float(corr[k])


def out_of_sync(lag_s: float, peak: float, at_zero: float) -> bool:
    """A clear offset: the best lag is beyond ``MAX_OFFSET_S`` and matches clearly better than no lag (a weak or
    flat correlation says nothing about sync, so it never flags a clip)."""
    return abs(lag_s) > MAX_OFFSET_S and peak >= 0.2 and peak - at_zero >= 0.15


def _local_median_1d(x: np.ndarray, window: int) -> np.ndarray:
    from scipy.ndimage import median_filter

    return median_filter(np.asarray(x, np.float64), size=max(1, window) | 1, mode="nearest") if len(x) else x
