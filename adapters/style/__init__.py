"""Style transfer for photos and video: a fast feed-forward ``StyleNet`` (a ``Process``), Gatys optimisation,
temporally consistent video and an offline feature network (random multi-scale filters; CLIP when on disk).

Light to import (route planning imports it): torch loads when a style step runs. ``docs/style.md``.
"""
from .steps import style_image_step, style_video_step

__all__ = ["style_image_step", "style_video_step"]
