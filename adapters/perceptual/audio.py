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


def _chroma(mag: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """Per-frame energy in the 12 pitch classes (60 Hz - 5 kHz)."""
    sel = (freqs > 60) & (freqs < 5000)
    pc = np.round(12 * np.log2(freqs[sel] / 261.63)).astype(int) % 12
    chroma = np.zeros((mag.shape[0], 12), np.float32)
    for k in range(12):
        chroma[:, k] = mag[:, sel][:, pc == k].sum(axis=1)
    return chroma


def _mode_score(chroma: np.ndarray, energy_w, window: int) -> np.ndarray:
    """Per-frame major-vs-minor score in [-1, 1] from chroma over a sliding window (Krumhansl-Kessler profiles)."""
    smooth = _moving_average(chroma * energy_w[:, None], window)

    def best(profile):
        z = (profile - profile.mean()) / profile.std()
        rolled = np.stack([np.roll(z, s) for s in range(12)])  # (12 keys, 12 pcs)
        c = smooth - smooth.mean(axis=1, keepdims=True)
        c = c / (np.linalg.norm(c, axis=1, keepdims=True) + _EPS)
        return (c @ rolled.T / np.linalg.norm(z)).max(axis=1)

    return np.tanh(4 * (best(_KK_MAJOR) - best(_KK_MINOR)))


def centred_frames(audio: Audio, hop: int, sizes: tuple[int, ...], frames_per_chunk: int = 256):
    """The mono mix's centred STFT frames, a chunk of frames at a time: yields one ``(k, size)`` array per size.

    Frame ``i`` of size ``n`` covers samples ``[i*hop - n//2, i*hop + n//2)`` (zeros outside the audio), as
    ``stft_magnitude`` pads; reading ``audio.iter_blocks`` keeps memory bounded however long the file is.
    """
    half = max(sizes) // 2
    total = 1 + audio.num_samples // hop
    blocks = (b.mean(axis=1) for b in audio.iter_blocks(1 << 18))
    buf, buf_start = np.zeros(half, np.float32), -half  # buf[j] is sample buf_start + j
    for f0 in range(0, total, frames_per_chunk):
        f1 = min(total, f0 + frames_per_chunk)
        need = (f1 - 1) * hop + half  # one past the last sample this chunk reads
        parts = [buf]
        have = buf_start + len(buf)
        while have < need:
            block = next(blocks, None)
            if block is None:
                parts.append(np.zeros(need - have, np.float32))
                break
            parts.append(block.astype(np.float32, copy=False))
            have += len(block)
        buf = np.concatenate(parts) if len(parts) > 1 else buf
        seg = buf[f0 * hop - half - buf_start:]
        out = []
        for n in sizes:
            view = seg[half - n // 2:]
            out.append(np.lib.stride_tricks.as_strided(view, (f1 - f0, n), (view.strides[0] * hop, view.strides[0])))
        yield out
        drop = f1 * hop - half - buf_start
        buf, buf_start = buf[drop:].copy(), buf_start + drop


class _FrameTimes:
    """Frame ``i``'s exact time ``i * hop / sr``, computed when asked (an hour is 360 000 frames)."""

    def __init__(self, count: int, hop: int, sr: int):
        self.count, self.hop, self.sr = count, hop, sr

    def __len__(self):
        return self.count

    def __getitem__(self, i):
        return Fraction(i * self.hop, self.sr)


@step("audio", "space:perceptual", name="perceptual-audio", cost=0.5, kind="encoder",
      description="audio -> the embedded perceptual space (energy, pace, brightness, warmth, texture, valence, density, onset)")
def encode_audio(audio: Audio, onset_threshold: float = 0.3) -> Embedding:
    """Axes at ~100 Hz (hop = sample_rate // 100; the exact rate is a Fraction), pooled vector and onsets.

    The audio is read a chunk of frames at a time (``centred_frames``), so a long file-backed ``Audio`` is
    analysed in bounded memory; only per-frame features (a few numbers per 10 ms) are kept.
    """
    if audio.num_samples == 0:
        raise MediaError("the audio is empty (zero samples): nothing to analyse")
    sr = audio.sample_rate_hz
    hop = sr // 100
    n_fft = 2048
    short = 1 << int(np.ceil(np.log2(sr * 0.023)))  # ~23 ms onset window, so onsets are not smeared
    freqs = np.fft.rfftfreq(n_fft, 1 / sr)
    window, short_window = np.hanning(n_fft).astype(np.float32), np.hanning(short).astype(np.float32)
    edges = np.geomspace(50, min(16000, sr / 2 - 1), 25)
    band = (freqs > 50) & (freqs < min(16000, sr / 2))
    cols = {k: [] for k in ("db", "centroid", "warmth", "flat", "density", "chroma", "flux")}
    prev = None
    for frames, short_frames in centred_frames(audio, hop, (n_fft, short)):
        mag = np.abs(np.fft.rfft(frames * window, axis=1))
        power = mag**2
        rms = np.sqrt(power.sum(axis=1) * 2 / (n_fft * np.sum(np.hanning(n_fft) ** 2)) + _EPS)
        cols["db"].append(20 * np.log10(rms + _EPS))
        cols["centroid"].append((power * freqs).sum(axis=1) / (power.sum(axis=1) + _EPS))
        low = power[:, (freqs >= 100) & (freqs < 800)].sum(axis=1)
        high = power[:, (freqs >= 1500) & (freqs < 8000)].sum(axis=1)
        cols["warmth"].append(low / (low + high + _EPS))
        pb = power[:, band]
        cols["flat"].append(np.exp(np.mean(np.log(pb + _EPS), axis=1)) / (np.mean(pb, axis=1) + _EPS))
        bands = np.stack([power[:, (freqs >= a) & (freqs < b)].sum(axis=1) for a, b in zip(edges[:-1], edges[1:])], axis=1)
        bands_db = 10 * np.log10(bands + _EPS)
        cols["density"].append((bands_db > bands_db.max(axis=1, keepdims=True) - 30).mean(axis=1))
        cols["chroma"].append(_chroma(mag, freqs))
        smag = np.abs(np.fft.rfft(short_frames * short_window, axis=1))
        logmag = np.log1p(100 * smag / (np.sqrt(short) + _EPS))
        cols["flux"].append(np.maximum(0, np.diff(logmag, axis=0, prepend=logmag[:1] if prev is None else prev)).mean(axis=1))
        prev = logmag[-1:]
    db, centroid, warmth, flat, density, chroma, flux = (np.concatenate(cols[k]) for k in
                                                         ("db", "centroid", "warmth", "flat", "density", "chroma", "flux"))
    loud = db > -60
    energy = np.clip((db + 60) / 60, 0, 1)
    brightness = np.clip(np.log2(np.maximum(centroid, 1) / 200) / np.log2(8000 / 200), 0, 1)
    texture = np.clip(np.sqrt(flat) * 1.6, 0, 1)
    onset = _sat(flux, 0.08) * loud
    rate = Fraction(sr, hop)
    events, strengths = pick_events(onset, _FrameTimes(len(onset), hop, sr), min_gap_s=0.05, threshold=onset_threshold)
    events = refine_attacks(audio, events, search_s=short / sr)
    ev_frames = np.zeros(len(onset))
    for e in events:
        ev_frames[min(len(onset) - 1, int(e * rate))] = 1
    win = int(2 * rate)
    onset_rate = _moving_average(ev_frames, win) * float(rate)
    pace = _sat(onset_rate, 4.0)
    mode = _mode_score(chroma, energy, window=int(3 * rate))
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


def refine_attacks(audio: Audio, events, search_s: float) -> tuple[Fraction, ...]:
    """``refine_attack`` for each event (sorted), reading the audio once, in blocks, when it is file-backed."""
    sr = audio.sample_rate_hz
    if not audio.is_file_backed:
        mono = audio.mono()
        return tuple(refine_attack(mono, sr, e, search_s) for e in events)
    blocks = (b.mean(axis=1) for b in audio.iter_blocks(1 << 18))
    buf, buf_start, read, out = np.zeros(0, np.float32), 0, 0, []  # buf holds samples [buf_start, read)
    for e in events:
        lo = max(0, int((e - Fraction(search_s)) * sr))
        hi = int((e + Fraction(2 * search_s)) * sr)
        while True:
            cut = min(lo, read) - buf_start  # samples before this window are no longer needed
            if cut > 0:
                buf, buf_start = buf[cut:], buf_start + cut
            block = next(blocks, None) if read < hi else None
            if block is None:
                break
            buf, read = np.concatenate([buf, block]), read + len(block)
        out.append(refine_attack(buf, sr, e, search_s, offset=buf_start))
    return tuple(out)


def refine_attack(mono: np.ndarray, sr: int, guess_s: Fraction, search_s: float, offset: int = 0) -> Fraction:
    """The sample where the sound's envelope first reaches half its local peak, near ``guess_s``.

    Frame-based flux only knows an onset to within a window; the attack's sample keeps sync within 1-2 ms.
    ``mono`` may be a piece of the audio that starts at sample ``offset`` and covers the search window.
    """
    lo = max(0, int((guess_s - Fraction(search_s)) * sr))
    hi = min(offset + len(mono), int((guess_s + Fraction(2 * search_s)) * sr))
    if hi - lo < 8:
        return guess_s
    env = _moving_average(np.abs(mono[lo - offset:hi - offset]), max(1, sr // 1000))
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
