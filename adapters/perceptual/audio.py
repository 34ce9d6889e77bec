"""Audio in the perceptual space: loudness, onsets refined to the attack, spectral shape and mode."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from xmedia.embedding import Embedding
from xmedia.errors import MediaError
from xmedia.media import Audio
from xmedia.routing import step

from .space import (
    _EPS,
    AXES,
    IDX,
    NEUTRAL,
    SPACE,
    _moving_average,
    _sat,
    pick_events,
    pool,
)

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


@step("audio", "space:perceptual", name="perceptual-audio", cost=0.5, kind="encoder",
      description="audio -> the embedded perceptual space (energy, pace, brightness, warmth, texture, valence, density, onset)")
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


def detect_onsets(audio: Audio, threshold: float = 0.08, min_gap_s: float = 0.03) -> np.ndarray:
    """Onset times (s): peaks of half-wave-rectified log spectral flux above an adaptive (median) threshold.

    Frames of ~21 ms (hop ~5 ms) find the onsets; each is then refined to the steepest rise of the 1 ms
    amplitude envelope within one frame around it, so the reported time is the attack itself (a few ms).
    It measures where a sound's attacks fall (a soundtrack's sync in its report, tests and benchmarks).
    """
    from scipy.ndimage import maximum_filter1d, median_filter, uniform_filter1d

    sr = audio.sample_rate_hz
    mono = audio.mono().astype(np.float32)
    win = 1 << int(round(math.log2(sr * 0.0213)))
    hop = win // 4
    if len(mono) < win:
        return np.zeros(0)
    n = 1 + (len(mono) - win) // hop
    frames = np.lib.stride_tricks.as_strided(mono, (n, win), (mono.strides[0] * hop, mono.strides[0]))
    power = np.abs(np.fft.rfft(frames * np.hanning(win).astype(np.float32), axis=1)) ** 2
    # Log energy in log-spaced bands, so a bass note's onset counts as much as a hi-hat's.
    edges = np.unique(np.geomspace(2, win // 2, 25).astype(int))
    bands = np.add.reduceat(power, edges, axis=1)[:, :-1]
    logband = np.log1p(1e4 * bands / win)
    flux = np.maximum(0, np.diff(logband, axis=0, prepend=logband[:1])).mean(axis=1)
    flux /= flux.max() + 1e-9
    k = max(3, int(0.1 * sr / hop) | 1)
    floor = median_filter(flux, size=k, mode="nearest") + threshold
    gap = max(1, int(min_gap_s * sr / hop))
    is_peak = (flux >= maximum_filter1d(flux, size=2 * gap + 1, mode="nearest")) & (flux > floor)
    env = np.log(uniform_filter1d(np.abs(mono), size=max(1, sr // 1000)) + 1e-5)
    rise = np.diff(env, prepend=env[:1])
    rise = uniform_filter1d(rise, size=max(1, sr // 2000))
    out = []
    for i in np.flatnonzero(is_peak):
        a, b = max(0, i * hop), min(len(mono), i * hop + win + hop)
        out.append((a + int(np.argmax(rise[a:b]))) / sr)
    return np.asarray(out)
