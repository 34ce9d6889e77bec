"""What a timbre model plays: a ``Performance`` (f0, loudness and voicing per control frame) and its analysis.

``Performance`` is the ``controls:timbre`` route node. ``analyse(audio)`` tracks it from a recording: pitch
with torchcrepe (the tiny model ships inside its wheel) when it is installed, else with the YIN tracker below
(de Cheveigné & Kawahara 2002, numpy, no weights); loudness is the RMS level in dB of a 64 ms window.
Frame ``i`` is centred on sample ``i * HOP`` at ``SAMPLE_RATE_HZ`` (16 kHz, 200 frames/s).
"""
from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from xmedia.errors import ConfigError, MediaError
from xmedia.media import Audio

SAMPLE_RATE_HZ = 16000
HOP = 80  # 5 ms: 200 control frames per second
WINDOW = 1024  # 64 ms analysis window (pitch down to ~35 Hz)
SILENCE_DB = -100.0
F0_RANGE_HZ = (32.7, 2093.0)  # C1..C7: what the trackers search
PITCH_METHODS = ("auto", "crepe", "yin")
CREPE_LOWEST_CENTS = 1997.3794084376191  # torchcrepe.convert.bins_to_cents: the centre of bin 0, without dither


@dataclass(frozen=True, eq=False)
class Performance:
    """Per-frame ``f0_hz``, ``loudness_db`` (RMS dB, <= 0) and ``periodicity`` (0 noise .. 1 clear pitch).

    ``rate_hz`` is the frame rate (200 Hz); ``sample_rate_hz`` the rate the result should be rendered at (the
    source recording's). Unvoiced frames keep the last voiced pitch, so a model never sees a jump to 0 Hz."""

    f0_hz: np.ndarray
    loudness_db: np.ndarray
    periodicity: np.ndarray
    rate_hz: Fraction = Fraction(SAMPLE_RATE_HZ, HOP)
    sample_rate_hz: int = 48000
    source: str = ""
    KIND = "controls:timbre"

    def __post_init__(self):
        arrays = []
        for name in ("f0_hz", "loudness_db", "periodicity"):
            a = np.asarray(getattr(self, name), dtype=np.float64).reshape(-1)
            if not np.isfinite(a).all():
                raise MediaError(f"Performance {name} contains NaN/inf")
            arrays.append(a)
        if len({len(a) for a in arrays}) != 1 or len(arrays[0]) < 1:
            raise MediaError(f"Performance tracks must have the same, non-zero length; got {[len(a) for a in arrays]}")
        f0, loud, per = arrays
        object.__setattr__(self, "f0_hz", np.clip(f0, 1.0, SAMPLE_RATE_HZ / 2))
        object.__setattr__(self, "loudness_db", np.clip(loud, SILENCE_DB, 0.0))
        object.__setattr__(self, "periodicity", np.clip(per, 0.0, 1.0))
        object.__setattr__(self, "rate_hz", Fraction(self.rate_hz))

    @property
    def num_frames(self) -> int:
        return len(self.f0_hz)

    @property
    def duration_s(self) -> Fraction:
        return self.num_frames / self.rate_hz

    def times_s(self) -> np.ndarray:
        return np.arange(self.num_frames) / float(self.rate_hz)

    def voiced(self, threshold: float = 0.5, floor_db: float = -60.0) -> np.ndarray:
        return (self.periodicity >= threshold) & (self.loudness_db > floor_db)

    def replace(self, **changes) -> "Performance":
        return dataclasses.replace(self, **changes)

    def __repr__(self):
        v = self.voiced()
        med = f", median f0 {np.median(self.f0_hz[v]):.0f} Hz" if v.any() else ", unvoiced"
        return f"Performance({self.num_frames} frames at {self.rate_hz} Hz{med})"


def to_model_rate(audio: Audio) -> np.ndarray:
    """Mono float32 samples at ``SAMPLE_RATE_HZ``."""
    if not isinstance(audio, Audio):
        raise MediaError(f"expected Audio, got {type(audio).__name__}")
    return audio.resample(SAMPLE_RATE_HZ).mono().astype(np.float32) if audio.sample_rate_hz != SAMPLE_RATE_HZ \
        else audio.mono().astype(np.float32)


def num_frames(num_samples: int) -> int:
    return max(1, -(-int(num_samples) // HOP))


def frame_blocks(x: np.ndarray, frames: int | None = None) -> np.ndarray:
    """(frames, WINDOW) analysis windows, frame ``i`` centred on sample ``i * HOP`` (zeros outside ``x``)."""
    frames = num_frames(len(x)) if frames is None else frames
    half = WINDOW // 2
    padded = np.pad(np.asarray(x, np.float64), (half, half + frames * HOP))
    return padded[np.arange(frames)[:, None] * HOP + np.arange(WINDOW)[None, :]]


def loudness_db(x: np.ndarray, frames: int | None = None) -> np.ndarray:
    """RMS level in dB over ``WINDOW`` samples centred on each frame (16 kHz mono input)."""
    return np.concatenate([loudness_blocks(b) for b in _chunks(frame_blocks(x, frames))])


def yin(x: np.ndarray, frames: int | None = None, threshold: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """YIN pitch per frame (16 kHz mono): ``(f0_hz, periodicity)``; periodicity = 1 - the dip's depth."""
    out = [yin_blocks(b, threshold) for b in _chunks(frame_blocks(x, frames))]
    return np.concatenate([o[0] for o in out]), np.concatenate([o[1] for o in out])


def _chunks(blocks: np.ndarray, size: int = 1024):
    return [blocks[i:i + size] for i in range(0, max(len(blocks), 1), size)] if len(blocks) else [blocks]


def loudness_blocks(blocks: np.ndarray) -> np.ndarray:
    power = np.mean(blocks * blocks, axis=1)
    return np.maximum(10 * np.log10(np.maximum(power, 1e-12)), SILENCE_DB)


def yin_blocks(blocks: np.ndarray, threshold: float = 0.15,
               f0_range_hz: tuple[float, float] = F0_RANGE_HZ) -> tuple[np.ndarray, np.ndarray]:
    """YIN on (frames, WINDOW) windows; every row is computed on its own (block sizes do not change results)."""
    frames = len(blocks)
    half = n = WINDOW // 2
    blocks = blocks - blocks.mean(axis=1, keepdims=True)
    spec = np.fft.rfft(blocks, 2 * WINDOW)
    head = np.fft.rfft(blocks[:, :n], 2 * WINDOW)
    cross = np.fft.irfft(np.conj(head) * spec, 2 * WINDOW)[:, :half]  # sum_j x[j] x[j + tau], j < n
    sq = np.concatenate([np.zeros((frames, 1)), np.cumsum(blocks * blocks, axis=1)], axis=1)
    taus = np.arange(half)
    diff = np.maximum(sq[:, n:n + 1] + sq[:, taus + n] - sq[:, taus] - 2 * cross, 0.0)
    cum = np.cumsum(diff[:, 1:], axis=1)
    cmnd = np.ones_like(diff)
    cmnd[:, 1:] = diff[:, 1:] * taus[1:] / np.maximum(cum, 1e-12)
    lo = max(2, int(SAMPLE_RATE_HZ / f0_range_hz[1]))
    hi = min(half - 2, int(SAMPLE_RATE_HZ / f0_range_hz[0]))
    seg = cmnd[:, lo:hi]
    below = seg < threshold
    first = np.where(below.any(axis=1), below.argmax(axis=1), seg.argmin(axis=1))
    rows = np.arange(frames)
    for _ in range(64):  # walk down to the local minimum after the first dip under the threshold
        nxt = np.minimum(first + 1, seg.shape[1] - 1)
        move = seg[rows, nxt] < seg[rows, first]
        if not move.any():
            break
        first = np.where(move, nxt, first)
    tau = first + lo
    a, b, c = cmnd[rows, tau - 1], cmnd[rows, tau], cmnd[rows, np.minimum(tau + 1, half - 1)]
    denom = a - 2 * b + c
    shift = np.where(np.abs(denom) > 1e-12, 0.5 * (a - c) / np.where(denom == 0, 1, denom), 0.0)
    f0 = SAMPLE_RATE_HZ / np.maximum(tau + np.clip(shift, -1, 1), 1.0)
    silent = sq[:, -1] < 1e-10 * WINDOW  # digital silence: no pitch at all
    return np.where(silent, 0.0, f0), np.where(silent, 0.0, np.clip(1.0 - b, 0.0, 1.0))


def has_crepe() -> bool:
    try:
        import torchcrepe  # noqa: F401
    except ImportError:
        return False
    return True


def crepe(x: np.ndarray, frames: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """torchcrepe (tiny model, weights inside the wheel) pitch and periodicity per frame (16 kHz mono)."""
    import torch
    import torchcrepe

    frames = num_frames(len(x)) if frames is None else frames
    audio = torch.as_tensor(np.asarray(x, np.float32))[None]
    # torchcrepe builds its weighted-argmax table once per process with random dither (numpy's global RNG), so
    # each process tracked a slightly different pitch and the timbre route's audio differed run to run. In a
    # weighted mean dither only adds noise: the exact bin centres make the pitch deterministic.
    torchcrepe.decode.weighted_argmax.weights = (torchcrepe.CENTS_PER_BIN * torch.arange(360)
                                                 + CREPE_LOWEST_CENTS)[None, :, None]
    with torch.no_grad():
        f0, periodicity = torchcrepe.predict(audio, SAMPLE_RATE_HZ, HOP, F0_RANGE_HZ[0], F0_RANGE_HZ[1], "tiny",
                                             batch_size=512, device="cpu", return_periodicity=True,
                                             decoder=torchcrepe.decode.weighted_argmax)
    f0, periodicity = f0[0].numpy().astype(np.float64), periodicity[0].numpy().astype(np.float64)
    f0, periodicity = _fit_length(f0, frames), _fit_length(periodicity, frames)
    return np.nan_to_num(f0, nan=220.0), np.nan_to_num(periodicity)


def _fit_length(a: np.ndarray, n: int) -> np.ndarray:
    return a[:n] if len(a) >= n else np.concatenate([a, np.full(n - len(a), a[-1] if len(a) else 0.0)])


def hold_unvoiced(f0: np.ndarray, voiced: np.ndarray, default_hz: float = 220.0) -> np.ndarray:
    """Unvoiced frames take the last voiced pitch (the first voiced one before any), so f0 never jumps to 0."""
    f0 = np.asarray(f0, np.float64).copy()
    if not voiced.any():
        return np.full_like(f0, default_hz)
    idx = np.where(voiced, np.arange(len(f0)), -1)
    idx = np.maximum.accumulate(idx)
    idx[idx < 0] = int(np.argmax(voiced))
    return f0[idx]


def analyse(audio: Audio, pitch: str = "auto", voicing_threshold: float = 0.5) -> Performance:
    """Track f0, loudness and periodicity of a (mono or mixed-down) recording."""
    if pitch not in PITCH_METHODS:
        raise ConfigError(f"pitch must be one of {PITCH_METHODS}, got {pitch!r}")
    x = to_model_rate(audio)
    if len(x) < HOP:
        raise MediaError(f"the recording is {len(x) / SAMPLE_RATE_HZ * 1000:.1f} ms long: give at least 5 ms of audio")
    frames = num_frames(len(x))
    use_crepe = pitch == "crepe" or (pitch == "auto" and has_crepe())
    if pitch == "crepe" and not has_crepe():
        raise ConfigError("pitch='crepe' needs torchcrepe: pip install 'xmedia[timbre]' (or use pitch='yin')")
    f0, periodicity = crepe(x, frames) if use_crepe else yin(x, frames)
    loud = loudness_db(x, frames)
    voiced = (periodicity >= voicing_threshold) & (loud > -60)
    if not voiced.any():
        warnings.warn(f"{getattr(audio, 'source', '') or 'the recording'} has no pitched frames (silence or noise): "
                      "its performance is unvoiced", UserWarning, stacklevel=2)
    return Performance(hold_unvoiced(f0, voiced), loud, periodicity, sample_rate_hz=audio.sample_rate_hz)
