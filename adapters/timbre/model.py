"""``Timbre``: a DDSP-style timbre model (Engel et al., ICLR 2020), small enough to train and run on one CPU core.

f0 and loudness per 5 ms frame -> an MLP and a GRU -> the controls of a harmonic oscillator bank (overall
amplitude and a distribution over ``harmonics``), of ``noise_bands`` bands of filtered noise, and a learnable
reverb impulse response. Trained with the multi-scale spectral loss (``train.py``). ``run(performance)`` is the
imprint (the route step ``timbre``); ``process(frames, reset=False)`` is the live form, block by block.

Buffers (saved with the weights, interpolated by ``blend``) hold what the model learnt of its instrument's
range: the f0 range and median, and the loudness distribution of its training notes.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from xmedia.errors import ConfigError, MediaError
from xmedia.media import Audio
from xmedia.process import Process

from .imprint import fit_performance
from .performance import SAMPLE_RATE_HZ, Performance
from .synth import SynthState, filtered_noise, harmonic, noise_tables, nyquist_mask, ramp, reverb

CHUNK_FRAMES = 400  # offline rendering in 2 s pieces through the block path: bounded memory, same samples
GATE_DB = (-80.0, -70.0)  # below -80 dB the model is silent; full level above -70 dB


def features(frames: torch.Tensor) -> torch.Tensor:
    """(B, T, 2) [f0_hz, loudness_db] -> the network's scaled inputs."""
    midi = 69 + 12 * torch.log2(frames[..., 0].clamp_min(1.0) / 440.0)
    return torch.stack([(midi - 60) / 24, (frames[..., 1] + 40) / 20], dim=-1)


def exp_sigmoid(x: torch.Tensor) -> torch.Tensor:
    return 2 * torch.sigmoid(x) ** math.log(10) + 1e-7


class Timbre(Process):
    """f0 + loudness -> the sound of one instrument. ``Timbre.from_pretrained("violin")`` loads a zoo timbre."""

    src, dst = "controls:timbre", "audio"
    # training defaults (and fine-tuning overrides) for the API and the CLI:
    recipe = "recipe.json"

    def __init__(self, hidden: int = 96, harmonics: int = 48, noise_bands: int = 24, reverb_s: float = 0.25,
                 seed: int = 0):
        super().__init__()
        if hidden < 4 or harmonics < 1 or noise_bands < 1 or not 0.0 < reverb_s <= 2.0:
            raise ConfigError("Timbre needs hidden >= 4, harmonics >= 1, noise_bands >= 1 and 0 < reverb_s <= 2")
        torch.manual_seed(seed)
        self.harmonics, self.noise_bands = harmonics, noise_bands
        self.inp = nn.Sequential(nn.Linear(2, hidden), nn.LayerNorm(hidden), nn.LeakyReLU(0.1),
                                 nn.Linear(hidden, hidden), nn.LayerNorm(hidden), nn.LeakyReLU(0.1))
        self.gru = nn.GRU(hidden, hidden, batch_first=True)
        self.out = nn.Sequential(nn.Linear(hidden + 2, hidden), nn.LayerNorm(hidden), nn.LeakyReLU(0.1),
                                 nn.Linear(hidden, 1 + harmonics + noise_bands))
        n_ir = int(reverb_s * SAMPLE_RATE_HZ)
        t = torch.arange(n_ir) / SAMPLE_RATE_HZ
        self.ir = nn.Parameter(1e-3 * torch.randn(n_ir) * torch.exp(-t / 0.05))
        self.register_buffer("f0_range_hz", torch.tensor([65.0, 1047.0]))
        self.register_buffer("f0_median_hz", torch.tensor(262.0))
        self.register_buffer("loudness_quantiles_db", torch.linspace(-60.0, -10.0, 21))
        self.register_buffer("noise", noise_tables(noise_bands), persistent=False)
        self._stream: SynthState | None = None

    def compatible(self, other) -> bool:
        """Same architecture (the initialisation ``seed`` does not matter): the weights can be interpolated."""
        if type(self) is not type(other):
            return False
        mine, theirs = dict(self.config), dict(other.config)
        mine.pop("seed", None), theirs.pop("seed", None)
        sa, sb = self.state_dict(), other.state_dict()
        return mine == theirs and sa.keys() == sb.keys() and all(sa[k].shape == sb[k].shape for k in sa)

    # -- the network and the synthesiser --------------------------------------------------------------------
    def controls(self, frames: torch.Tensor, hidden=None):
        """(B, T, 2) frames -> per-frame (amplitude, harmonic distribution, noise gains) and the GRU state."""
        feats = features(frames)
        h, hidden = self.gru(self.inp(feats), hidden)
        raw = self.out(torch.cat([h, feats], dim=-1))
        gate = ((frames[..., 1:2] - GATE_DB[0]) / (GATE_DB[1] - GATE_DB[0])).clamp(0.0, 1.0)
        amp = exp_sigmoid(raw[..., :1]) * gate
        dist = torch.softmax(raw[..., 1:1 + self.harmonics], dim=-1)
        noise = exp_sigmoid(raw[..., 1 + self.harmonics:] - 5.0) * gate
        return amp, dist, noise, hidden

    def render(self, frames: torch.Tensor, state: SynthState | None = None, noise_offset: int = 0):
        """(B, T, 2) frames -> (B, T * HOP) audio and the state for the next block."""
        state = state or SynthState(position=noise_offset)
        amp, dist, noise, hidden = self.controls(frames, state.hidden)
        f0 = frames[..., :1]
        per_frame = torch.cat([f0, amp, dist, noise], dim=-1)
        samples = ramp(per_frame, state.last)
        f0_s, amp_s = samples[..., 0], samples[..., 1:2]
        dist_s = samples[..., 2:2 + self.harmonics] * nyquist_mask(f0_s, self.harmonics)
        dist_s = dist_s / dist_s.sum(-1, keepdim=True).clamp_min(1e-7)
        harm, phase = harmonic(f0_s, amp_s * dist_s, state.phase)
        noisy = filtered_noise(self.noise, samples[..., 2 + self.harmonics:], state.position)
        wet, tail = reverb(harm + noisy, self.ir, state.tail, None if torch.is_grad_enabled() else self._ir_spectra())
        return wet, SynthState(per_frame[:, -1], phase, state.position + wet.shape[1], tail, hidden)

    def _ir_spectra(self) -> dict:
        """The reverb IR's spectra per FFT size, recomputed whenever the IR's values change."""
        key = (self.ir.data_ptr(), self.ir._version)
        cache = getattr(self, "_spectra", None)
        if cache is None or cache[0] != key:
            cache = (key, {})
            object.__setattr__(self, "_spectra", cache)
        return cache[1]

    def forward(self, frames: torch.Tensor, noise_offset: int = 0) -> torch.Tensor:
        """(B, T, 2) [f0_hz, loudness_db] frames -> (B, T * HOP) audio at 16 kHz (a fresh start)."""
        return self.render(frames, noise_offset=noise_offset)[0]

    # -- training (xmedia.trainer: ``Timbre().fit("recordings/")`` returns a TrainResult) -----------------------
    @classmethod
    def check_family_options(cls, options: dict) -> dict:
        from .train import check_options

        return check_options(options)

    def training_task(self, data, holdout: float, pitch: str, segment_s: float):
        """Recordings (a folder, a ``.jsonl`` manifest, files) -> the trainer's ``TimbreTask`` (``train.py``)."""
        from .train import TimbreTask

        return TimbreTask(self, data, holdout, pitch, segment_s)

    # -- live --------------------------------------------------------------------------------------------------
    def process(self, frames, reset: bool = False) -> np.ndarray:
        """Live: (T, 2) [f0_hz, loudness_db] frames -> T * HOP samples, the state carried to the next call.

        Blocks of any size (4 frames = 20 ms) give the same samples as one offline call. Runs the numpy
        renderer (``fast.py``: the same model without torch's per-operation overhead)."""
        if reset:
            self._stream = None
        x = np.asarray(frames, dtype=np.float64).reshape(-1, 2)
        if not np.isfinite(x).all():
            raise MediaError("timbre frames contain NaN/inf")
        x = np.stack([np.clip(x[:, 0], 1.0, SAMPLE_RATE_HZ / 2), np.clip(x[:, 1], -100.0, 0.0)], axis=1)
        out, self._stream = self._renderer().render(x, self._stream)
        return out.astype(np.float32)

    def _renderer(self):
        """The numpy renderer of the current weights: checked at the start of each stream (``reset``) and
        rebuilt when any parameter or buffer changed since."""
        from .fast import FastRenderer

        cached = getattr(self, "_fast", None)
        if cached is not None and self._stream is not None:
            return cached[1]
        key = tuple((t.data_ptr(), t._version) for t in (*self.parameters(), *self.buffers()))
        if cached is None or cached[0] != key:
            cached = (key, FastRenderer(self))
            object.__setattr__(self, "_fast", cached)
        return cached[1]

    def reset(self) -> None:
        self._stream = None

    def synthesize(self, frames: np.ndarray) -> np.ndarray:
        """(T, 2) frames -> T * HOP samples at 16 kHz, rendered in chunks through the block path."""
        frames = np.asarray(frames, dtype=np.float64).reshape(-1, 2)
        saved, self._stream = self._stream, None
        try:
            out = [self.process(frames[i:i + CHUNK_FRAMES]) for i in range(0, len(frames), CHUNK_FRAMES)]
        finally:
            self._stream = saved
        return np.concatenate(out) if out else np.zeros(0, np.float32)

    # -- imprint (the route step) ------------------------------------------------------------------------------
    def run(self, performance: Performance, octave: str | int = "auto", loudness: str = "match",
            sample_rate_hz: int | None = None) -> Audio:
        """Play ``performance`` with this timbre: its melody moved by octaves into the model's range
        (``octave="auto"`` or a number of octaves), its loudness mapped onto the model's distribution
        (``loudness="match"``) or kept (``"keep"``)."""
        if not isinstance(performance, Performance):
            raise MediaError(f"a timbre plays a Performance (controls:timbre), got {type(performance).__name__}")
        f0, loud = fit_performance(performance, self.range_stats(), octave=octave, loudness=loudness)
        audio = self.synthesize(np.stack([f0, loud], axis=1))
        return finish(audio, performance, sample_rate_hz)

    def range_stats(self) -> dict:
        return {"f0_range_hz": self.f0_range_hz.tolist(), "f0_median_hz": float(self.f0_median_hz),
                "loudness_quantiles_db": self.loudness_quantiles_db.tolist()}


def finish(audio16k: np.ndarray, performance: Performance, sample_rate_hz: int | None) -> Audio:
    """16 kHz model output -> ``Audio`` at the requested rate, exactly the performance's duration, peak <= 0.99."""
    sr = int(sample_rate_hz or performance.sample_rate_hz or 48000)
    audio16k = np.nan_to_num(np.asarray(audio16k, np.float64))
    peak = float(np.abs(audio16k).max()) if len(audio16k) else 0.0
    if peak > 0.99:
        audio16k = audio16k * (0.99 / peak)
    out = Audio(audio16k.astype(np.float32), SAMPLE_RATE_HZ).resample(sr).mono()
    n = int(round(float(performance.duration_s) * sr))
    out = out[:n] if len(out) >= n else np.pad(out, (0, n - len(out)))
    return Audio(np.clip(out, -1, 1).astype(np.float32), sr)

