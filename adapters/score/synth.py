"""The built-in synth: a ``Score`` played as ``Audio`` with no model and no sound font.

Each part gets a voice from its General MIDI program family (``program // 8``): piano and chromatic percussion
strike and decay, organs and reeds sustain, guitars, basses and ethnic plucks ring down with their high partials
dying first, strings, ensembles, brass and pads swell in and sustain with a slow vibrato. A voice is a set of
harmonic partials (exact pitch: ``440 * 2 ** ((pitch - 69) / 12)``), an ADSR envelope and a brightness that
follows the velocity; a drum part (channel 10) plays noise and pitch-swept sines per GM drum note (kick, snare,
hats, toms, cymbals). Every note starts on the sample ``round(onset_s * sample_rate)`` of its tempo-mapped onset
and stops (then releases) at its exact offset. Parts are spread across the stereo field; the mix is normalised
to a peak of ``gain_db``. Rendering is deterministic (the drum noise is seeded).

A score with no notes is a MediaError (there is nothing to play); a drums-only score plays its drums.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xmedia import limits
from xmedia.errors import ConfigError, MediaError
from xmedia.media import Audio
from xmedia.score import Score


@dataclass(frozen=True)
class Voice:
    name: str
    partials: tuple[float, ...]  # amplitude of harmonic 1, 2, 3...
    attack_s: float = 0.005
    decay_s: float = 0.3
    sustain: float = 0.6  # level held while the note is on (0: the note decays away even while held)
    release_s: float = 0.12
    ring_s: float = 0.0  # > 0: a struck/plucked string: partial k decays with time constant ring_s / k
    vibrato: float = 0.0  # depth in semitones, at 5 Hz, after 0.25 s


def _saw(n: int, falloff: float = 1.0) -> tuple[float, ...]:
    return tuple(1.0 / k ** falloff for k in range(1, n + 1))


def _odd(n: int) -> tuple[float, ...]:
    return tuple((1.0 / k if k % 2 else 0.08 / k) for k in range(1, n + 1))


VOICES = {  # GM program family (program // 8) -> voice
    0: Voice("piano", _saw(10, 1.6), 0.003, 0.8, 0.25, 0.15, ring_s=1.6),
    1: Voice("mallet", (1.0, 0.0, 0.0, 0.35, 0.0, 0.0, 0.0, 0.0, 0.0, 0.12), 0.002, 0.5, 0.0, 0.2, ring_s=1.0),
    2: Voice("organ", (1.0, 0.7, 0.0, 0.5, 0.0, 0.3, 0.0, 0.25), 0.01, 0.05, 1.0, 0.08),
    3: Voice("guitar", _saw(12, 1.3), 0.002, 1.0, 0.0, 0.1, ring_s=1.2),
    4: Voice("bass", _saw(8, 1.8), 0.004, 0.8, 0.0, 0.08, ring_s=1.5),
    5: Voice("strings", _saw(12, 1.1), 0.08, 0.2, 0.85, 0.25, vibrato=0.12),
    6: Voice("ensemble", _saw(10, 1.2), 0.12, 0.3, 0.8, 0.35, vibrato=0.08),
    7: Voice("brass", _saw(12, 0.9), 0.04, 0.15, 0.75, 0.12, vibrato=0.05),
    8: Voice("reed", _odd(11), 0.03, 0.1, 0.8, 0.1, vibrato=0.05),
    9: Voice("pipe", (1.0, 0.25, 0.08, 0.04), 0.04, 0.1, 0.85, 0.12, vibrato=0.06),
    10: Voice("lead", _saw(14, 1.0), 0.01, 0.1, 0.8, 0.08),
    11: Voice("pad", _saw(8, 1.5), 0.3, 0.5, 0.8, 0.6, vibrato=0.04),
    12: Voice("fx", _saw(6, 1.2), 0.2, 0.4, 0.7, 0.5, vibrato=0.15),
    13: Voice("pluck", _saw(10, 1.2), 0.002, 0.6, 0.0, 0.1, ring_s=0.8),
    14: Voice("percussive", (1.0, 0.0, 0.3, 0.0, 0.1), 0.001, 0.3, 0.0, 0.1, ring_s=0.5),
    15: Voice("effect", _saw(5, 1.0), 0.05, 0.3, 0.5, 0.3),
}
RELEASE_TAIL_S = 0.8  # rendered past the last offset, for releases and ringing


def voice_for(program: int) -> Voice:
    return VOICES[int(program) // 8]


def hz(pitch) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(pitch, np.float64) - 69.0) / 12.0)


def _envelope(v: Voice, held: int, total: int, sr: int) -> np.ndarray:
    """ADSR over ``total`` samples: attack, decay to ``sustain`` while held, then release from where it is."""
    t = np.arange(total) / sr
    a = max(v.attack_s, 1e-4)
    env = np.where(t < a, t / a, v.sustain + (1 - v.sustain) * np.exp(-(t - a) / max(v.decay_s, 1e-4)))
    if v.sustain == 0.0 and v.ring_s == 0.0:
        env = np.where(t < a, t / a, np.exp(-(t - a) / max(v.decay_s, 1e-4)))
    if held < total:
        level = env[held - 1] if held > 0 else 0.0
        tr = (np.arange(total - held)) / sr
        env[held:] = level * np.exp(-tr / max(v.release_s / 4.0, 1e-4))  # ~ -35 dB at release_s
    return env


def _tone(v: Voice, pitch: int, velocity: int, held: int, total: int, sr: int) -> np.ndarray:
    f0 = hz(pitch)
    t = np.arange(total) / sr
    phase = 2 * np.pi * f0 * t
    if v.vibrato:
        depth = (2.0 ** (v.vibrato / 12.0) - 1.0) * np.clip((t - 0.25) / 0.3, 0.0, 1.0)
        phase = phase + 2 * np.pi * f0 * np.cumsum(depth * np.sin(2 * np.pi * 5.0 * t)) / sr
    bright = 0.45 + 0.55 * velocity / 127.0  # soft notes are darker
    out = np.zeros(total)
    for k, amp in enumerate(v.partials, start=1):
        if amp == 0.0 or k * f0 >= 0.45 * sr:
            continue
        a = amp * bright ** (k - 1)
        partial = a * np.sin(k * phase)
        if v.ring_s:
            partial *= np.exp(-t * k / v.ring_s * (1.0 + f0 / 1000.0))  # high notes and partials die sooner
        out += partial
    return out * _envelope(v, held, total, sr)


def _drum(pitch: int, total: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """GM percussion (key map 35-81) from noise and swept sines."""
    t = np.arange(total) / sr
    noise = rng.standard_normal(total)
    if pitch in (35, 36):  # kick: a sine swept 120 -> 45 Hz
        f = 45 + 75 * np.exp(-t / 0.03)
        return np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t / 0.18)
    if pitch in (37, 38, 39, 40):  # snare, clap, stick: noise and a 190 Hz body
        return (0.7 * noise * np.exp(-t / 0.07) + 0.5 * np.sin(2 * np.pi * 190 * t) * np.exp(-t / 0.05))
    if pitch in (42, 44, 46):  # hi-hats: high-passed noise, open longer
        hp = np.diff(noise, prepend=0.0)
        return 0.5 * hp * np.exp(-t / (0.25 if pitch == 46 else 0.04))
    if pitch in (41, 43, 45, 47, 48, 50):  # toms: swept sines, low to high
        base = 80 + (pitch - 41) * 14
        f = base * (1 + 0.5 * np.exp(-t / 0.05))
        return np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t / 0.25)
    if pitch in (49, 51, 52, 53, 55, 57, 59):  # cymbals and rides: bright noise, long
        hp = np.diff(noise, prepend=0.0)
        return 0.35 * hp * np.exp(-t / (0.6 if pitch in (51, 59) else 1.2))
    f = 200 + (pitch - 35) * 20  # the rest (cowbell, blocks, congas...): a short pitched click
    return (0.5 * np.sin(2 * np.pi * f * t) + 0.2 * noise) * np.exp(-t / 0.06)


def _pans(n: int) -> np.ndarray:
    return np.full(n, 0.5) if n == 1 else np.linspace(0.25, 0.75, n)


def render(score: Score, sample_rate_hz: int = 44_100, channels: int = 2, gain_db: float = -1.0,
           seed: int = 0) -> Audio:
    """``score`` played by the built-in synth (see the module's doc)."""
    if not isinstance(score, Score):
        raise MediaError(f"render needs a Score, got {type(score).__name__}")
    if score.num_notes == 0:
        raise MediaError("the score has no notes: there is nothing to render (an empty score is valid, but "
                         "playing it would be silence); add notes or check the file's tracks")
    if channels not in (1, 2):
        raise ConfigError(f"channels must be 1 (mono) or 2 (stereo), got {channels!r}")
    if not np.isfinite(gain_db) or gain_db > 0:
        raise ConfigError(f"gain_db is the peak level in dBFS and must be <= 0, got {gain_db!r}")
    sr = int(sample_rate_hz)
    limits.check("sample_rate_hz", sr, "sample_rate_hz")
    limits.check("duration_s", float(score.duration_s) + RELEASE_TAIL_S, "the rendered score")
    starts = np.round(score.onset_s() * sr).astype(np.int64)
    stops = np.maximum(starts + 1, np.round(score.offset_s() * sr).astype(np.int64))
    length = int(stops.max()) + int(RELEASE_TAIL_S * sr)
    limits.check("memory_bytes", length * 8 * channels, "the rendered score's samples")
    pans = _pans(len(score.parts))
    mix = np.zeros((length, channels))
    rng = np.random.default_rng(seed)
    for i in range(score.num_notes):
        part = score.parts[int(score.part[i])]
        start, held, pitch, vel = int(starts[i]), int(stops[i] - starts[i]), int(score.pitch[i]), int(score.velocity[i])
        if part.is_drum:
            total = min(length - start, int(1.5 * sr))
            sound = _drum(pitch, total, sr, rng)
        else:
            v = voice_for(part.program)
            total = min(length - start, held + int(v.release_s * sr))
            sound = _tone(v, pitch, vel, held, total, sr)
        amp = (vel / 127.0) ** 1.6
        # at the note's start the envelope is 0: the note is silent before its exact start sample
        if channels == 1:
            mix[start:start + total, 0] += amp * sound
        else:
            p = pans[int(score.part[i])]
            mix[start:start + total, 0] += amp * np.cos(p * np.pi / 2) * sound
            mix[start:start + total, 1] += amp * np.sin(p * np.pi / 2) * sound
    peak = float(np.abs(mix).max())
    if peak > 0:
        mix *= 10 ** (gain_db / 20.0) / peak
    return Audio(mix.astype(np.float32), sr)
