"""Live imprint: a voice (or any monophonic input) in, the same melody played by a timbre out, block by block.

``LiveImprint(timbre, sample_rate_hz=48000).process(chunk, reset=False)`` takes blocks of any size (20 ms and
less) and returns as many samples as it was given, delayed by a fixed ``latency_s`` (the 64 ms pitch window's
second half plus two 5 ms frames, 42 ms). Everything it keeps between blocks (filter states, the analysis
buffer, the last voiced pitch, the oscillator phase, the reverb tail, the GRU state) is carried, so the output
is the same whatever the block sizes: no seam. Pitch is YIN (causal per frame once its window is complete);
the melody moves by a fixed number of octaves (``octave="auto"``: from an assumed input median
``input_median_hz`` to the timbre's) and the level by ``gain_db`` (default: the input's -20 dB to the timbre's
median loudness).
"""
from __future__ import annotations

import numpy as np

from xmedia.errors import ConfigError, MediaError

from .imprint import fold_into
from .performance import HOP, SAMPLE_RATE_HZ, SILENCE_DB, WINDOW, loudness_blocks, yin_blocks

LIVE_RATES_HZ = (16000, 32000, 48000)


class LiveImprint:
    def __init__(self, timbre, sample_rate_hz: int = 48000, octave="auto", gain_db: float | None = None,
                 input_median_hz: float = 220.0, voicing_threshold: float = 0.5):
        from scipy.signal import firwin

        from .blend import load_timbre

        if int(sample_rate_hz) not in LIVE_RATES_HZ:
            raise ConfigError(f"live input must be at one of {LIVE_RATES_HZ} Hz, got {sample_rate_hz}")
        self.model = load_timbre(timbre)
        stats = self.model.range_stats()
        self.low_hz, self.high_hz = stats["f0_range_hz"]
        self.median_hz = stats["f0_median_hz"]
        self.octave = (int(np.round(np.log2(stats["f0_median_hz"] / input_median_hz))) if octave == "auto"
                       else int(octave))
        q = np.asarray(stats["loudness_quantiles_db"])
        self.gain_db = float(q[len(q) // 2] + 20.0) if gain_db is None else float(gain_db)
        self.sample_rate_hz, self.factor = int(sample_rate_hz), int(sample_rate_hz) // SAMPLE_RATE_HZ
        self.threshold = voicing_threshold
        self._fir = firwin(63, 0.9 / self.factor) if self.factor > 1 else None
        self.latency_samples = (WINDOW // 2 + 2 * HOP) * self.factor
        self.reset()

    @property
    def latency_s(self) -> float:
        return self.latency_samples / self.sample_rate_hz

    def reset(self) -> None:
        self.model.reset()
        self._down_zi = np.zeros(62) if self._fir is not None else None
        self._up_zi = np.zeros(62) if self._fir is not None else None
        self._phase = 0  # input samples seen modulo the decimation factor
        self._buffer = np.zeros(WINDOW // 2)  # 16 kHz samples from the next frame's window start on
        self._next_frame = 0
        self._last_f0 = None
        self._out = np.zeros(self.latency_samples, np.float32)

    def _fir_apply(self, x: np.ndarray, history: np.ndarray, keep) -> tuple[np.ndarray, np.ndarray]:
        """FIR output at the positions ``keep`` selects, each an explicit dot product over its own 63 inputs,
        so it does not depend on how the stream was cut into blocks (``lfilter`` with a carried state differs
        in the last bits, and a pitch tracker's decisions can flip on them)."""
        from numpy.lib.stride_tricks import sliding_window_view

        buf = np.concatenate([history, x])
        windows = sliding_window_view(buf, len(self._fir))[keep]
        return (windows * self._fir[::-1]).sum(axis=1), buf[len(buf) - len(history):]

    def _downsample(self, x: np.ndarray) -> np.ndarray:
        if self._fir is None:
            return x
        start = (-self._phase) % self.factor
        self._phase = (self._phase + len(x)) % self.factor
        y, self._down_zi = self._fir_apply(x, self._down_zi, slice(start, None, self.factor))
        return y

    def _upsample(self, y: np.ndarray) -> np.ndarray:
        if self._fir is None:
            return y
        stuffed = np.zeros(len(y) * self.factor)
        stuffed[::self.factor] = y * self.factor
        out, self._up_zi = self._fir_apply(stuffed, self._up_zi, slice(None))
        return out

    def _frames(self) -> np.ndarray:
        """The (f0, loudness) frames whose analysis windows are complete."""
        ready = (len(self._buffer) - WINDOW) // HOP + 1
        if ready <= 0:
            return np.zeros((0, 2))
        idx = np.arange(ready)[:, None] * HOP + np.arange(WINDOW)[None, :]
        blocks = self._buffer[idx]
        self._buffer = self._buffer[ready * HOP:]
        f0, periodicity = yin_blocks(blocks)
        loud = loudness_blocks(blocks)
        rows = []
        for f, p, level in zip(f0, periodicity, loud):
            voiced = p >= self.threshold and level > -60.0
            if voiced:
                self._last_f0 = f
            pitch = self._last_f0 if self._last_f0 is not None else self.median_hz
            pitch = float(fold_into(np.array([pitch * 2.0 ** self.octave]), self.low_hz, self.high_hz)[0])
            fade = np.clip((p - 0.3) / 0.3, 0.0, 1.0)
            level = level + self.gain_db + (0.0 if voiced else 40.0 * (fade - 1.0))
            rows.append((pitch, float(np.clip(level, SILENCE_DB, 0.0))))
        return np.asarray(rows)

    def process(self, chunk, reset: bool = False) -> np.ndarray:
        """Mono float32 block in, the same number of output samples (the timbre, ``latency_s`` later)."""
        if reset:
            self.reset()
        x = np.asarray(chunk, dtype=np.float64)
        if x.ndim == 2:
            x = x.mean(axis=1)
        if x.ndim != 1 or not np.isfinite(x).all():
            raise MediaError("live input must be a finite mono (or (n, channels)) block of samples")
        self._buffer = np.concatenate([self._buffer, self._downsample(x)])
        frames = self._frames()
        if len(frames):
            y = self.model.process(frames)
            self._out = np.concatenate([self._out, self._upsample(y.astype(np.float64)).astype(np.float32)])
        out, self._out = self._out[:len(x)], self._out[len(x):]
        if len(out) < len(x):  # cannot happen with the latency above; never return a short block
            out = np.pad(out, (0, len(x) - len(out)))
        return np.clip(np.nan_to_num(out), -1.0, 1.0)
