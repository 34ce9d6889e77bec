"""Differentiable DDSP synthesis in torch: a harmonic oscillator bank, filtered noise and a learnable reverb.

Every piece runs offline on whole tensors (training) or block by block with a carried ``SynthState`` (live);
both give the same samples. Controls are per frame (``HOP`` samples); sample ``n`` of frame ``i`` ramps
linearly from frame ``i - 1``'s value to frame ``i``'s, so a block needs only the previous frame (5 ms latency,
no look-ahead).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .performance import HOP, SAMPLE_RATE_HZ

NOISE_TABLE = 1 << 15


@dataclass
class SynthState:
    """What a block hands the next: last controls, oscillator phase, noise position, reverb tail, GRU state."""

    last: torch.Tensor | None = None  # (B, C) the previous frame's controls at sample level
    phase: torch.Tensor | None = None  # (B,) float64 radians
    position: int = 0  # samples rendered so far (noise table index)
    tail: torch.Tensor | None = None  # (B, n_ir - 1) reverb contributions still to come
    hidden: torch.Tensor | None = None


def ramp(frames: torch.Tensor, last: torch.Tensor | None) -> torch.Tensor:
    """(B, T, C) frame controls -> (B, T * HOP, C) samples, ramping from the previous frame to each frame."""
    prev = torch.cat([(frames[:, :1] if last is None else last[:, None]), frames[:, :-1]], dim=1)
    w = (torch.arange(1, HOP + 1, dtype=frames.dtype, device=frames.device) / HOP)[None, None, :, None]
    out = prev[:, :, None] + w * (frames - prev)[:, :, None]
    return out.reshape(frames.shape[0], -1, frames.shape[2])


def harmonic(f0_hz: torch.Tensor, amplitudes: torch.Tensor, phase0: torch.Tensor | None):
    """Sum of harmonics ``k * f0`` with per-sample ``amplitudes`` (B, N, K); returns (audio, final phase)."""
    b, n, k = amplitudes.shape
    step = 2 * math.pi * f0_hz.double() / SAMPLE_RATE_HZ  # float64: no drift between blocks
    phase = torch.cumsum(step, dim=1)
    if phase0 is not None:
        phase = phase + phase0[:, None]
    end = torch.remainder(phase[:, -1], 2 * math.pi)
    phase = torch.remainder(phase, 2 * math.pi).to(amplitudes.dtype)
    ks = torch.arange(1, k + 1, dtype=amplitudes.dtype, device=amplitudes.device)
    audio = (torch.sin(phase[..., None] * ks) * amplitudes).sum(-1)
    return audio, end


def nyquist_mask(f0_hz: torch.Tensor, k: int) -> torch.Tensor:
    ks = torch.arange(1, k + 1, dtype=f0_hz.dtype, device=f0_hz.device)
    return (f0_hz[..., None] * ks < SAMPLE_RATE_HZ / 2 * 0.95).to(f0_hz.dtype)


def noise_tables(bands: int, seed: int = 1234) -> torch.Tensor:
    """(bands, NOISE_TABLE) unit-RMS noise, each band-limited to one of ``bands`` log-spaced bands (20 Hz..8 kHz)."""
    g = torch.Generator().manual_seed(seed)
    white = torch.randn(bands, NOISE_TABLE, generator=g, dtype=torch.float64)
    spec = torch.fft.rfft(white, dim=1)
    freqs = torch.fft.rfftfreq(NOISE_TABLE, 1 / SAMPLE_RATE_HZ, dtype=torch.float64)
    edges = torch.logspace(math.log10(20.0), math.log10(SAMPLE_RATE_HZ / 2), bands + 1, dtype=torch.float64)
    edges[0] = 0.0
    masks = torch.stack([((freqs >= lo) & (freqs < hi)).double() for lo, hi in zip(edges[:-1], edges[1:])])
    masks[-1, -1] = 1.0
    bandlimited = torch.fft.irfft(spec * masks, NOISE_TABLE, dim=1)
    bandlimited = bandlimited / bandlimited.pow(2).mean(dim=1, keepdim=True).sqrt().clamp_min(1e-9)
    return bandlimited.float()


def filtered_noise(tables: torch.Tensor, gains: torch.Tensor, position: int) -> torch.Tensor:
    """Sum over bands of ``gains`` (B, N, bands) times each band's noise, read from sample ``position`` on."""
    n = gains.shape[1]
    idx = (torch.arange(n) + position) % tables.shape[1]
    return (gains * tables[:, idx].T[None]).sum(-1)


def reverb(dry: torch.Tensor, ir: torch.Tensor, tail: torch.Tensor | None, spectra: dict | None = None):
    """``dry + dry * ir`` (convolution), with ``tail`` the previous blocks' ringing; returns (wet, new tail).

    ``spectra`` caches the impulse response's spectrum per FFT size (inference only: the IR is fixed then)."""
    b, n = dry.shape
    m = ir.shape[0]
    size = 1 << math.ceil(math.log2(n + m))
    if spectra is None:
        ir_spec = torch.fft.rfft(ir, size)
    else:
        if size not in spectra:
            spectra[size] = torch.fft.rfft(ir, size)
        ir_spec = spectra[size]
    conv = torch.fft.irfft(torch.fft.rfft(dry, size) * ir_spec, size)[:, : n + m - 1]
    if tail is not None:
        conv = conv + torch.nn.functional.pad(tail, (0, n))  # tail has m - 1 samples
    out = dry + conv[:, :n]
    return out, conv[:, n:]


def multiscale_spectral_loss(a: torch.Tensor, b: torch.Tensor,
                             sizes: tuple[int, ...] = (2048, 1024, 512, 256, 128, 64)) -> torch.Tensor:
    """DDSP's multi-scale spectral loss: L1 of linear and log magnitudes over several FFT sizes (mean per scale)."""
    total = a.new_zeros(())
    for size in sizes:
        win = torch.hann_window(size, device=a.device)
        sa = torch.stft(a, size, size // 4, window=win, return_complex=True).abs()
        sb = torch.stft(b, size, size // 4, window=win, return_complex=True).abs()
        total = total + (sa - sb).abs().mean() + (torch.log(sa + 1e-5) - torch.log(sb + 1e-5)).abs().mean()
    return total / len(sizes)
