"""The route steps of the colour looks: the ``lut`` decoder and the ``lut-soundtrack`` encoder.

The bridge between them (``perceptual-to-look``: perceptual axes -> ``Look``, the ``controls:filter`` node that
``look_parameters`` declares) is declared in ``xmedia.bridges.routes`` and runs ``xmedia.bridges.look_map.LookMap``
(the numpy twin of ``audio_filter.PerceptualToFilter``).
"""
from __future__ import annotations

from xmedia.adapters.perceptual import encode_audio
from xmedia.embedding import Embedding
from xmedia.errors import ConfigError, MediaError
from xmedia.media import Video
from xmedia.node_kinds import NodeKind
from xmedia.routing import step

from .colour import CUBE_SIZES, DEFAULT_SIZE
from .filter import Filter
from .track import FilterTrack, Look


look_parameters = NodeKind("controls:filter", Look, "a Look (look parameters, pooled and over time)")


@step("controls:filter", "filter", name="lut", cost=0.1, kind="decoder",
      description="look parameters -> Filter (3D LUT + spatial) or FilterTrack (follows the music)")
def decode_look(look: Look, lut_size: int | None = None, strength: float = 1.0, time_varying: bool | None = None,
                title: str | None = None) -> Filter | FilterTrack:
    """``Look`` -> ``Filter`` (static) or ``FilterTrack`` (time-varying; default for a video's own soundtrack).

    ``lut_size``: points per axis, 33 by default for a static look and 17 per frame for a look track."""
    if not isinstance(look, Look):
        raise MediaError(f"the lut decoder takes a Look (controls:filter), got {type(look).__name__}")
    if lut_size is not None and lut_size not in CUBE_SIZES:
        raise ConfigError(f"lut_size must be one of {CUBE_SIZES}, got {lut_size}")
    if time_varying is None:
        time_varying = look.source == "video" and look.track is not None
    if time_varying:
        if look.track is None:
            raise ConfigError("time_varying=True needs time-based input (audio or a video's soundtrack)")
        return FilterTrack(look, strength=strength, **({"lut_size": lut_size} if lut_size else {}))
    name = title if title is not None else f"xmedia look from {look.source or 'input'}"
    return Filter.from_look(look.params, lut_size or DEFAULT_SIZE, title=name, strength=strength, look=look.summary())


@step("video", "space:perceptual", name="lut-soundtrack", cost=0.4, kind="encoder", only_for=("filter",),
      accepts=lambda v: getattr(v, "audio", None) is not None,
      description="a video's soundtrack -> perceptual space, so its look follows the music")
def encode_soundtrack(video: Video) -> Embedding:
    """A video's own soundtrack in the perceptual space, marked as coming from a video (time-varying look)."""
    if video.audio is None:
        raise MediaError("this video has no soundtrack: give an audio file, or a video with sound")
    return encode_audio(video.audio).replace(source="video")
