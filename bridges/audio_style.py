"""The soundtrack picks the style: music -> a time-varying blend of style models, as the audio -> look bridge
(``audio_filter``) makes a time-varying colour look.

Both the music and each style live in the perceptual space (``xmedia.adapters.perceptual``: the same named
axes for sound and picture). A style's character is the perceptual embedding of what it paints on a fixed
reference picture (how energetic, bright, warm, textured, positive and dense its pictures are); at each moment
the music's axes (energy, brightness, warmth, texture, valence, density; pace and onset have no meaning for a
still picture) are compared with each style's, and the weights are a softmax of the negative distances,
smoothed over about a second so the painting does not flicker with every beat. The clip is then styled frame by
frame with the blend of the moment (weights interpolated between compatible models, outputs mixed otherwise),
flow-guided for temporal consistency.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from xmedia.adapters.perceptual import IDX, encode_audio, encode_image
from xmedia.adapters.style.stylise import load_style, mix_styles
from xmedia.adapters.style.video import TemporalStyler
from xmedia.errors import ConfigError, MediaError
from xmedia.media import Audio, Frame, Image, Video

from .look_map import smooth_track

SHARED_AXES = ("energy", "brightness", "warmth", "texture", "valence", "density")
DEFAULT_STYLES = ("starry", "wave")
WEIGHT_STEPS = 20  # weights are quantised to 1/20 so a clip needs at most a few dozen blended networks


@dataclass(frozen=True)
class StyleTrack:
    """Style weights over time: ``weights[i, j]`` is style ``names[j]``'s share at ``times_s[i]`` (rows sum to 1)."""

    names: tuple[str, ...]
    times_s: np.ndarray
    weights: np.ndarray
    characters: np.ndarray  # (styles, axes): each style's perceptual character on SHARED_AXES

    def at(self, time_s: float) -> np.ndarray:
        """The weights at ``time_s`` (linear interpolation between rows, held at the ends)."""
        return np.array([np.interp(time_s, self.times_s, self.weights[:, j]) for j in range(len(self.names))])


def reference_picture(size_px: int = 128) -> np.ndarray:
    """A fixed picture with colour ramps, soft shapes and fine detail for a style to paint (no file needed)."""
    y, x = np.mgrid[0:size_px, 0:size_px].astype(np.float32) / size_px
    r = 0.5 + 0.4 * np.sin(2 * np.pi * x)
    g = 0.5 + 0.4 * np.cos(2 * np.pi * (x + y) / 2)
    b = y
    rings = 0.15 * np.sin(40 * np.hypot(x - 0.5, y - 0.5))
    rgb = np.stack([r, g, b], -1) + rings[..., None]
    return np.clip(np.round(rgb * 255), 0, 255).astype(np.uint8)


def style_character(net) -> np.ndarray:
    """A style's position on ``SHARED_AXES``: the perceptual embedding of its painting of the reference picture."""
    from xmedia.adapters.style.network import apply_network

    painted = apply_network(net, reference_picture())
    v = encode_image(Image(painted)).vector
    return np.array([v[IDX[a]] for a in SHARED_AXES], dtype=np.float64)


def style_track(music: Audio, styles=DEFAULT_STYLES, temperature: float = 0.01, smoothing_s: float = 1.0,
                rate_hz: float = 10.0) -> StyleTrack:
    """The style weights along ``music`` for the zoo names / folders in ``styles``."""
    if not isinstance(music, Audio):
        raise MediaError(f"the style follows a soundtrack: give Audio, got {type(music).__name__}")
    names = tuple(str(s) for s in styles)
    if len(names) < 1:
        raise ConfigError("give at least one style for the soundtrack to choose from")
    if temperature <= 0:
        raise ConfigError(f"temperature must be > 0, got {temperature}")
    characters = np.stack([style_character(load_style(n)) for n in names])
    emb = encode_audio(music)
    track = np.asarray(emb.track, dtype=np.float64)[:, [IDX[a] for a in SHARED_AXES]]
    src_rate = float(emb.rate_hz)
    step = max(1, int(round(src_rate / rate_hz)))
    track = smooth_track(track, src_rate, smoothing_s)[::step]
    times = float(emb.start_s or 0) + np.arange(track.shape[0]) * step / src_rate
    d = ((track[:, None, :] - characters[None, :, :]) ** 2).mean(-1)
    logits = -d / temperature
    w = np.exp(logits - logits.max(1, keepdims=True))
    w /= w.sum(1, keepdims=True)
    return StyleTrack(names, times, w.astype(np.float32), characters)


def style_by_soundtrack(video: Video, styles=None, music: Audio | None = None, strength: float = 1.0,
                        temporal: bool = True, temperature: float = 0.01, smoothing_s: float = 1.0,
                        seed: int = 0) -> Video:
    """The clip styled with the blend of ``styles`` its own soundtrack (or ``music``) picks at each moment
    (deterministic: ``seed`` is accepted for symmetry with the other style steps). ``styles=None``: the zoo's
    ``DEFAULT_STYLES``."""
    styles = DEFAULT_STYLES if styles is None else styles
    if not isinstance(video, Video):
        raise MediaError(f"soundtrack-style takes a Video, got {type(video).__name__}")
    music = music if music is not None else video.audio
    if music is None:
        raise MediaError("this clip has no soundtrack to pick the style from: pass music= (an Audio) or use style=")
    if isinstance(styles, str):
        styles = tuple(s.strip() for s in styles.split(",") if s.strip())
    track = style_track(music, styles, temperature=temperature, smoothing_s=smoothing_s)
    nets = [load_style(n) for n in track.names]
    cache: dict[tuple, object] = {}

    def net_at(t_s: float):
        q = tuple(np.round(track.at(t_s) * WEIGHT_STEPS).astype(int))
        if sum(q) == 0:
            q = tuple(int(i == int(np.argmax(track.at(t_s)))) for i in range(len(nets)))
        if q not in cache:
            cache[q] = mix_styles(nets, np.asarray(q, dtype=np.float64))
        return cache[q]

    source = video

    def reader(max_side=None, start=0, stop=None):
        from xmedia.media import downscale

        styler = TemporalStyler(nets[0], strength, temporal)
        for f in source.iter_frames(start=start, stop=stop):
            rgb = styler.process(np.ascontiguousarray(f.rgb), net=net_at(float(f.time_s)))
            if max_side and max(rgb.shape[:2]) > max_side:
                rgb = downscale(rgb, max_side)
            yield Frame(f.index, f.time_s, rgb)

    out = dataclasses.replace(video, frames=None, reader=reader, source=None, rotation_deg=0)
    object.__setattr__(out, "style_track", track)  # for reports: which style when
    return out
