"""Remix mode of the embedded composer: a soundtrack built from the user's own audio samples.

Each sample in the folder is embedded in the perceptual space (``xmedia.adapters.perceptual.encode``) and
sorted into a role by its shape: ``hit`` (short, or a sharp attack that dies away), ``loop`` (many regular
onsets) or ``pad`` (sustained). Per moment the sample nearest to the picture's perceptual track is chosen:
hits on events (their attack placed on the event's sample) and on downbeats when the bank has no loops,
loops time-stretched (by resampling) onto the bar, pads pitched (by resampling) to the key's tonic.
"""
from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xmedia.adapters.perceptual import encode
from xmedia.errors import ConfigError, MediaError
from xmedia.io import load as load_media

from .arrange import Piece, beat_times
from .render import Score

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".m4a", ".aac", ".opus")
MAX_SAMPLE_S = 12.0
# Axis weights of the similarity (timbre axes count most; the pooled onset axis means different things).
AXIS_WEIGHTS = np.array([1.0, 1.0, 1.5, 1.0, 1.5, 1.0, 0.7, 0.5], np.float32)
_CACHE: dict[tuple, "Sample"] = {}


@dataclass(frozen=True, eq=False)
class Sample:
    name: str
    samples: np.ndarray  # (n, 2) float32 at the bank's rate
    vector: np.ndarray  # pooled perceptual vector (8,)
    role: str  # "hit" | "loop" | "pad"
    attack: int  # sample index of the attack (placed on the event)
    beats: int  # beats a loop spans at its natural tempo
    f0_hz: float | None


@dataclass
class SampleBank:
    samples: list[Sample]
    sample_rate_hz: int

    @classmethod
    def load(cls, folder, sample_rate_hz: int, progress: bool = False) -> "SampleBank":
        """Every audio file in ``folder`` (not recursive), embedded and classified; cached per file version."""
        folder = Path(folder)
        if not folder.is_dir():
            raise ConfigError(f"bank {folder} is not a folder; give a folder of audio samples (wav, flac, mp3...)")
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
        out = []
        for path in files:
            st = path.stat()
            key = (str(path.resolve()), st.st_mtime_ns, st.st_size, sample_rate_hz)
            if key not in _CACHE:
                try:
                    audio = load_media(path, kind="audio")
                except MediaError as exc:
                    warnings.warn(f"bank: skipping {path.name} ({exc})")
                    continue
                _CACHE[key] = _analyse(path.stem, audio, sample_rate_hz)
            out.append(_CACHE[key])
        if not out:
            raise ConfigError(f"bank {folder} holds no readable audio samples ({', '.join(AUDIO_SUFFIXES)})")
        return cls(out, sample_rate_hz)

    def with_audio(self, name: str, audio) -> "SampleBank":
        """This bank plus one more sample (e.g. a sustained note of a trained timbre, for the pads)."""
        return SampleBank(self.samples + [_analyse(name, audio, self.sample_rate_hz)], self.sample_rate_hz)

    def of_role(self, role: str) -> list[Sample]:
        return [s for s in self.samples if s.role == role]

    def nearest(self, candidates: list[Sample], target: np.ndarray) -> Sample:
        d = [float(np.sum(AXIS_WEIGHTS * (s.vector - target) ** 2)) for s in candidates]
        return candidates[int(np.argmin(d))]


def _analyse(name: str, audio, sample_rate_hz: int) -> Sample:
    audio = audio.with_channels(2) if audio.channels != 2 else audio
    audio = audio.slice_s(0, MAX_SAMPLE_S).resample(sample_rate_hz)
    x = np.ascontiguousarray(audio.samples, dtype=np.float32)
    emb = encode(audio)
    sr, n = sample_rate_hz, len(x)
    env = np.abs(x).max(axis=1)
    peak = float(env.max()) + 1e-9
    x, env = x * (0.9 / peak), env * (0.9 / peak)  # a common peak level: the arrangement's gains set the balance
    peak = 0.9
    # The attack: where the envelope starts its rise to the first loud point (it goes on the event's sample).
    loud = int(np.argmax(env >= 0.25 * peak))
    quiet = np.flatnonzero(env[:loud] < 0.05 * peak)
    attack = int(quiet[-1]) + 1 if len(quiet) else 0
    dur = n / sr
    first = float(np.sqrt(np.mean(env[: max(1, n * 2 // 5)] ** 2)))
    last = float(np.sqrt(np.mean(env[n * 3 // 5 :] ** 2))) if n > 5 else first
    sharp = attack < 0.06 * sr and last < 0.4 * first
    rate = len(emb.events_s) / dur
    if dur <= 1.5 or sharp:
        role = "hit"
    elif rate >= 1.5 and dur >= 1.0:
        role = "loop"
    else:
        role = "pad"
    # A loop spans a power-of-two number of beats; pick the count whose tempo is closest to 110 bpm.
    beats = min((2**k for k in range(0, 6)), key=lambda b: abs(math.log2(60 * b / dur / 110)))
    return Sample(name, x, np.asarray(emb.vector, np.float32), role, attack, beats, _f0(x.mean(axis=1), sr))


def _f0(mono: np.ndarray, sr: int) -> float | None:
    """Fundamental by autocorrelation of the loudest 100 ms (None when not clearly pitched)."""
    w = int(0.1 * sr)
    if len(mono) < 2 * w:
        return None
    c = np.concatenate([[0.0], np.cumsum(mono.astype(np.float64) ** 2)])
    energy = (c[w:] - c[:-w])[:: w // 4]
    i = int(np.argmax(energy)) * (w // 4)
    seg = mono[i : i + w] - mono[i : i + w].mean()
    ac = np.fft.irfft(np.abs(np.fft.rfft(seg, 2 * w)) ** 2)[:w]
    lo, hi = int(sr / 1000), int(sr / 50)
    if ac[0] <= 0:
        return None
    lag = lo + int(np.argmax(ac[lo:hi]))
    if lag <= lo or lag >= hi - 1:
        return None  # the peak sits on the search range's edge: no clear period
    return sr / lag if ac[lag] / ac[0] > 0.6 else None


def _stretch(x: np.ndarray, ratio: float) -> np.ndarray:
    """Resample ``x`` to ``ratio`` times its length (pitch moves with it, like a turntable)."""
    n = max(2, int(round(len(x) * ratio)))
    src = np.linspace(0, len(x) - 1, n)
    return np.stack([np.interp(src, np.arange(len(x)), x[:, c]) for c in range(x.shape[1])], axis=1).astype(np.float32)


def _fade(x: np.ndarray, sr: int, fade_s: float = 0.02) -> np.ndarray:
    k = min(len(x) // 2, int(fade_s * sr))
    if k > 0:
        x = x.copy()
        ramp = np.linspace(0, 1, k, dtype=np.float32)[:, None]
        x[:k] *= ramp
        x[-k:] *= ramp[::-1]
    return x


def _target(piece: Piece, t_s: float | np.ndarray) -> np.ndarray:
    """The picture's perceptual vector at time(s) ``t_s`` (from the controls when no perceptual track is kept)."""
    c = piece.controls
    src = c.perceptual if c.perceptual is not None else c.track  # controls' columns track the axes they came from
    ts = np.atleast_1d(np.asarray(t_s, dtype=float)) - float(c.start_s)
    rows = np.stack([np.interp(ts, c.times_s(), src[:, d]) for d in range(src.shape[1])], axis=1)
    return rows.mean(axis=0)


def arrange_from_bank(piece: Piece, bank: SampleBank, style: str, follow_pace: bool = True) -> Score:
    """The remix's score: hits on events, then per bar a pad, a loop or downbeat hits."""
    sr, n = piece.sr, piece.n
    score = Score(n, sr, ("hits",) if style == "foley" else ("pad", "loops", "hits"))
    hits = bank.of_role("hit") or bank.samples
    for s, strength in piece.event_samples():
        h = bank.nearest(hits, _target(piece, s / sr))
        score.choke("hits", s - h.attack)
        score.place("hits", s - h.attack, h.samples[: int(3 * sr)], 0.4 + 0.6 * strength)
    if style == "foley":
        return score
    beats, index = beat_times(piece, follow_pace=follow_pace)
    if len(beats) == 0:
        return score
    beat_len = 60 / piece.tempo_bpm
    loops, pads = bank.of_role("loop"), bank.of_role("pad")
    starts = [j for j in range(len(beats)) if index[j] == 0 or j == 0]
    dur = float(piece.controls.duration_s)
    pad_pos: dict[str, int] = {}
    pitched: dict[str, np.ndarray] = {}  # one pitched copy per pad: every bar's note reads from it
    for b, j0 in enumerate(starts):
        t0 = 0.0 if b == 0 else beats[j0]
        t1 = beats[starts[b + 1]] if b + 1 < len(starts) else dur
        if t1 <= t0:
            continue
        target = _target(piece, np.linspace(t0, t1, 8))
        inten = float(piece.at("intensity", (t0 + t1) / 2))
        length = int((t1 - t0) * sr)
        s0 = int(round(t0 * sr))
        if pads:
            p = bank.nearest(pads, target)
            if p.name not in pitched:
                pitched[p.name] = _pitch_to_key(p, piece)
            x = pitched[p.name]
            pos = pad_pos.get(p.name, 0) % max(1, len(x) - length) if len(x) > length else 0
            seg = x[pos : pos + length + int(0.05 * sr)]
            pad_pos[p.name] = pos + length
            score.place("pad", s0, functools.partial(_fade, seg, sr, 0.05), 0.35 + 0.25 * (1 - inten), length=len(seg))
        if loops and inten > 0.35:
            lp = bank.nearest(loops, target)
            bar_beats = max(1, (starts[b + 1] if b + 1 < len(starts) else len(beats)) - j0)
            local_beat = (t1 - t0) / bar_beats if b + 1 < len(starts) else beat_len
            ratio = lp.beats * local_beat * sr / len(lp.samples)
            score.place("loops", s0, functools.partial(_loop_bar, lp.samples, ratio, length, sr),
                        0.3 + 0.5 * inten, length=length)
        elif not loops and inten > 0.35:
            kick = min(hits, key=lambda h: float(h.vector[2]))  # the darkest hit marks the downbeats
            for j in range(j0, starts[b + 1] if b + 1 < len(starts) else len(beats)):
                if index[j] in (0, 2):
                    score.place("hits", int(round(beats[j] * sr)) - kick.attack, kick.samples[: int(1.5 * sr)],
                                0.35 * (0.5 + inten))
    score.duck(("pad", "loops"), [s for s, _ in piece.event_samples()])
    return score


def _loop_bar(samples: np.ndarray, ratio: float, length: int, sr: int) -> np.ndarray:
    """A loop stretched by ``ratio`` and repeated over ``length`` samples (synthesised when a window needs it)."""
    x = _stretch(samples, ratio)
    reps = np.concatenate([x] * (1 + length // max(1, len(x))))[:length]
    return _fade(reps, sr, 0.005)


def _pitch_to_key(sample: Sample, piece: Piece) -> np.ndarray:
    """Move a pitched pad's fundamental to the nearest tonic (at most 6 semitones), by resampling."""
    if sample.f0_hz is None:
        return sample.samples
    semis = 12 * math.log2(sample.f0_hz / 440.0) + 69 - piece.root
    shift = -(((semis + 6) % 12) - 6)
    if abs(shift) < 0.1:
        return sample.samples
    return _stretch(sample.samples, 2 ** (-shift / 12))
