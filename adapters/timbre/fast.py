"""The timbre model's inference in numpy: the same network and synthesiser as ``model.Timbre.render``, without
torch's per-operation overhead (a 20 ms block is only 4 frames and 320 samples: overhead is most of the cost).

``FastRenderer(timbre)`` reads the weights once; ``render(frames, state)`` returns the block's samples and the
state for the next one. ``Timbre.process`` and ``Timbre.synthesize`` use it; training uses the torch graph.
Tests check both give the same samples.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .performance import HOP, SAMPLE_RATE_HZ

LOG10 = math.log(10)
SMALL_BLOCK = 2048  # samples: below this, vectorise over harmonics and bands instead of looping


@dataclass
class FastState:
    last: np.ndarray | None = None  # previous frame's per-frame controls
    phase: float = 0.0
    position: int = 0
    tail: np.ndarray | None = None
    hidden: np.ndarray | None = None


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _layer_norm(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def _leaky(x):
    return np.where(x >= 0, x, 0.1 * x)


def _exp_sigmoid(x):
    return 2 * _sigmoid(x) ** LOG10 + 1e-7


def _sine_series(phase: np.ndarray, start: np.ndarray, slope: np.ndarray, w: np.ndarray) -> np.ndarray:
    """sum_k a_k * sin(k * phase) with a_k ramping per frame (``start[k] + w * slope[k]``; phase (frames, HOP)),
    by Clenshaw's recurrence: no sine per harmonic, only multiply-adds."""
    if phase.size <= SMALL_BLOCK:  # a live block: one vectorised sine matrix beats K small loop steps
        amps = start.T[:, None, :] + w[..., None] * slope.T[:, None, :]
        powers = np.cumprod(np.broadcast_to(np.exp(1j * phase)[..., None], amps.shape), axis=-1)  # e^{ik phase}
        return (powers.imag * amps).sum(-1)
    c2 = 2.0 * np.cos(phase)
    b1 = np.zeros_like(phase)
    b2 = np.zeros_like(phase)
    for a0, da in zip(start[::-1], slope[::-1]):
        b1, b2 = a0[:, None] + w * da[:, None] + c2 * b1 - b2, b1
    return b1 * np.sin(phase)


class FastRenderer:
    def __init__(self, timbre):
        sd = {k: v.detach().cpu().numpy().astype(np.float64) for k, v in timbre.state_dict().items()}
        self.p = sd
        self.k, self.bands = timbre.harmonics, timbre.noise_bands
        self.hidden = sd["gru.weight_hh_l0"].shape[1]
        self.noise = timbre.noise.detach().cpu().numpy().astype(np.float64)
        self.ir = sd["ir"]
        self.ks = np.arange(1, self.k + 1, dtype=np.float64)
        self.ramp_w = (np.arange(1, HOP + 1) / HOP)[None, :, None]
        self._spectra: dict[int, np.ndarray] = {}

    def _mlp(self, prefix, x):
        p = self.p
        x = x @ p[f"{prefix}.0.weight"].T + p[f"{prefix}.0.bias"]
        x = _leaky(_layer_norm(x, p[f"{prefix}.1.weight"], p[f"{prefix}.1.bias"]))
        x = x @ p[f"{prefix}.3.weight"].T + p[f"{prefix}.3.bias"]
        if f"{prefix}.4.weight" in p:
            x = _leaky(_layer_norm(x, p[f"{prefix}.4.weight"], p[f"{prefix}.4.bias"]))
        return x

    def _gru(self, x, h):
        p, hs = self.p, self.hidden
        gi = x @ p["gru.weight_ih_l0"].T + p["gru.bias_ih_l0"]
        whh, bhh = p["gru.weight_hh_l0"], p["gru.bias_hh_l0"]
        out = np.empty((len(x), hs))
        for t in range(len(x)):
            gh = whh @ h + bhh
            r = _sigmoid(gi[t, :hs] + gh[:hs])
            z = _sigmoid(gi[t, hs:2 * hs] + gh[hs:2 * hs])
            n = np.tanh(gi[t, 2 * hs:] + r * gh[2 * hs:])
            h = (1 - z) * n + z * h
            out[t] = h
        return out, h

    def controls(self, frames: np.ndarray, hidden):
        midi = 69 + 12 * np.log2(np.maximum(frames[:, 0], 1.0) / 440.0)
        feats = np.stack([(midi - 60) / 24, (frames[:, 1] + 40) / 20], axis=-1)
        h, hidden = self._gru(self._mlp("inp", feats), np.zeros(self.hidden) if hidden is None else hidden)
        raw = self._mlp("out", np.concatenate([h, feats], axis=-1))
        gate = np.clip((frames[:, 1:2] + 80.0) / 10.0, 0.0, 1.0)
        amp = _exp_sigmoid(raw[:, :1]) * gate
        logits = raw[:, 1:1 + self.k]
        e = np.exp(logits - logits.max(-1, keepdims=True))
        dist = e / e.sum(-1, keepdims=True)
        noise = _exp_sigmoid(raw[:, 1 + self.k:] - 5.0) * gate
        return amp, dist, noise, hidden

    def render(self, frames: np.ndarray, state: FastState | None = None):
        state = state or FastState()
        frames = np.asarray(frames, np.float64)
        amp, dist, noise, hidden = self.controls(frames, state.hidden)
        per_frame = np.concatenate([frames[:, :1], amp, dist, noise], axis=-1)
        prev = np.concatenate([per_frame[:1] if state.last is None else state.last[None], per_frame[:-1]], axis=0)
        w = self.ramp_w[0, :, 0][None, :]  # (1, HOP): sample j of a frame is w_j of the way to the frame's value
        f0 = (prev[:, :1] + w * (per_frame[:, :1] - prev[:, :1])).reshape(-1)
        # Harmonic amplitudes per frame (both ends of each frame's ramp), masked below Nyquist for the higher of
        # the two pitches: the same sound as ramping per sample, without (samples x harmonics) arrays.
        top = np.maximum(prev[:, 0], per_frame[:, 0])[:, None] * self.ks < SAMPLE_RATE_HZ / 2 * 0.95
        ends = []
        for rows in (prev, per_frame):
            d = rows[:, 2:2 + self.k] * top
            ends.append(rows[:, 1:2] * d / np.maximum(d.sum(-1, keepdims=True), 1e-7))
        phase = np.cumsum(2 * np.pi * f0 / SAMPLE_RATE_HZ) + state.phase
        end = float(np.remainder(phase[-1], 2 * np.pi))
        harm = _sine_series(np.remainder(phase, 2 * np.pi).reshape(-1, HOP), ends[0].T, (ends[1] - ends[0]).T, w)
        idx = (np.arange(len(f0)) + state.position) % self.noise.shape[1]
        tables = self.noise[:, idx].reshape(self.bands, -1, HOP)
        n0, dn = prev[:, 2 + self.k:].T, (per_frame - prev)[:, 2 + self.k:].T
        if len(f0) <= SMALL_BLOCK:
            noisy = ((n0[:, :, None] + w[None] * dn[:, :, None]) * tables).sum(0)
        else:
            noisy = np.zeros_like(tables[0])
            for b in range(self.bands):
                noisy += (n0[b][:, None] + w * dn[b][:, None]) * tables[b]
        wet, tail = self._reverb(harm.reshape(-1) + noisy.reshape(-1), state.tail)
        return wet, FastState(per_frame[-1], end, state.position + len(wet), tail, hidden)

    def _reverb(self, dry: np.ndarray, tail):
        n, m = len(dry), len(self.ir)
        size = 1 << math.ceil(math.log2(n + m))
        if size not in self._spectra:
            self._spectra[size] = np.fft.rfft(self.ir, size)
        conv = np.fft.irfft(np.fft.rfft(dry, size) * self._spectra[size], size)[: n + m - 1]
        if tail is not None:
            conv[: m - 1] += tail
        return dry + conv[:n], conv[n:].copy()
