"""xmedia: cross-media translation through a shared embedding space and remixable bridges.

``import xmedia`` is cheap: heavy libraries (torch, av, cv2, transformers) load when first used.
"""
from .embedding import Embedding
from .errors import ConfigError, MediaError, RouteError, WeightsError, XMediaError
from .media import Audio, Frame, Image, Motion, Rig, Text, Video

__version__ = "0.1.0"

__all__ = [
    "Audio", "Embedding", "Frame", "Image", "Motion", "Rig", "Text", "Video",
    "XMediaError", "MediaError", "RouteError", "WeightsError", "ConfigError",
    "load", "save", "info", "translate", "plan", "routes", "encode", "stream",
]


def load(src, kind=None, **options):
    from .io import load as _load

    return _load(src, kind, **options)


def save(media, path, **options):
    from .io import save as _save

    return _save(media, path, **options)


def info(path):
    from .io import info as _info

    return _info(path)


def translate(x, to, via=None, bridge=None, **options):
    from .routing import translate as _translate

    return _translate(x, to, via=via, bridge=bridge, **options)


def plan(x, to, via=None, bridge=None):
    from .routing import plan as _plan

    return _plan(x, to, via=via, bridge=bridge)


def routes():
    from .routing import routes as _routes

    return _routes()


def encode(x, space="perceptual", **options):
    """Embed ``x`` in a space (default: the embedded perceptual space)."""
    return translate(x, to=f"space:{space}", **options)


def stream(source, to, **options):
    from .streaming import stream as _stream

    return _stream(source, to, **options)
