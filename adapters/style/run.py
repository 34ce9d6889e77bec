"""The route steps' code (imports torch): ``image -> image`` and ``video -> video`` style transfer.

Declared lazily in ``steps.py`` so planning a route never imports torch; the options are these functions'
keyword parameters.
"""
from __future__ import annotations

import numpy as np
import torch

from xmedia.errors import ConfigError
from xmedia.media import Image, Video

from .data import style_images
from .network import MAX_SIDE_PX, check_strength, content_rgb
from .optimise import optimise
from .stylise import stylise
from .video import stylise_video

NEEDS_STYLE = ("style transfer needs style= (a zoo name such as 'starry' or 'wave', a folder saved by `xmedia train "
               "style`, or a blend 'starry:0.6,wave:0.4') or style_image= (a painting, optimised Gatys-style)")


def style_image(image: Image, style=None, style_image=None, strength: float = 1.0, optimise_steps: int = 200,
                size_px: int = 384, seed: int = 0, progress: bool = False, max_side_px: int = MAX_SIDE_PX,
                blend_mode: str = "auto", features: str = "random") -> Image:
    """A photo painted in a style: a fast style model (``style=``) or optimisation against a painting
    (``style_image=``, Gatys et al. 2015: slow, no training; ``features="clip"`` uses CLIP's vision tower as the
    loss network when its weights are on disk, else the offline random multi-scale network)."""
    if style_image is None:
        if style is None:
            raise ConfigError(NEEDS_STYLE)
        return stylise(image, style=style, strength=strength, max_side_px=max_side_px, blend_mode=blend_mode)
    if style is not None:
        raise ConfigError("give style= (a trained model) or style_image= (optimisation), not both")
    strength = check_strength(strength)
    rgb, alpha = content_rgb(image, max_side_px)
    out = optimise(rgb, style_images(style_image), steps=int(optimise_steps), size_px=int(size_px), seed=int(seed),
                   progress=progress, features=features)
    if strength != 1.0:
        out = np.clip(np.round(rgb + strength * (out.astype(np.float32) - rgb)), 0, 255).astype(np.uint8)
    return Image(out if alpha is None else np.dstack([out, alpha]))


def style_video(video: Video, style=None, style_image=None, strength: float = 1.0, temporal: bool = True,
                temporal_weight: float = 0.75, seed: int = 0, blend_mode: str = "auto") -> Video:
    """A clip painted frame by frame by a fast style model, flow-guided for temporal consistency (``temporal``),
    keeping its timestamps and audio. Deterministic: the same input gives the same frames (``seed`` is accepted
    for symmetry; nothing is random)."""
    if style_image is not None:
        raise ConfigError("optimising every frame against a painting would take hours: train a fast model first "
                          "(xmedia train style --style-image PAINTING --data FRAMES/ -o mystyle/), then style=mystyle/")
    if style is None:
        raise ConfigError(NEEDS_STYLE.split(" or style_image")[0])
    torch.manual_seed(int(seed))
    return stylise_video(video, style=style, strength=strength, temporal=bool(temporal),
                         temporal_weight=float(temporal_weight), blend_mode=blend_mode)
