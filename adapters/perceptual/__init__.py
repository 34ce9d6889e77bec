"""The embedded perceptual space: eight interpretable axes, computed on a CPU with no weights.

Every medium is measured on the same named axes, each in [0, 1], so a video and a sound can be compared,
matched and translated. How each axis is computed per medium and the research it rests on is in
``docs/perceptual.md`` (and ``AXIS_DOCS`` below). Time-based media give a track (T x 8) at a fixed rate plus
a pooled vector and the exact times of detected events; still media give the pooled vector only.
Where an axis has no grounded meaning for a medium (the pace of a photo) it is neutral, 0.5.
"""
from __future__ import annotations

from xmedia.embedding import Embedding
from xmedia.errors import MediaError
from xmedia.media import Audio, Image, Motion, Text, Video

from .audio import encode_audio, refine_attack, stft_magnitude
from .motion import encode_motion, to_motion
from .space import AXES, AXIS_DOCS, IDX, NEUTRAL, SPACE, pick_events, pool
from .still import colour_stats, encode_image, encode_text
from .video import VideoEncoder, encode_video, prefetch

__all__ = ["AXES", "AXIS_DOCS", "IDX", "NEUTRAL", "SPACE", "encode", "encode_video", "encode_audio", "encode_image",
           "encode_text", "encode_motion", "to_motion", "VideoEncoder", "colour_stats", "pick_events", "pool",
           "prefetch", "refine_attack", "stft_magnitude"]
SPACES = (SPACE,)  # the route node "space:perceptual" (xmedia.routing.node_name("perceptual"))


def encode(x, **options) -> Embedding:
    """Embed any supported medium in the perceptual space."""
    for klass, fn in ((Video, encode_video), (Audio, encode_audio), (Image, encode_image), (Text, encode_text),
                      (Motion, encode_motion)):
        if isinstance(x, klass):
            return fn(x, **options)
    raise MediaError(f"the perceptual space has no encoder for {type(x).__name__}")
