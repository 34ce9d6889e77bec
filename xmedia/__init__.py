"""xmedia: cross-media translation through a shared embedding space and remixable processes.

``import xmedia`` is cheap: heavy libraries (torch, av, cv2, transformers) load when first used, and so do the
subpackages ``xmedia.zoo``, ``xmedia.bridges`` and ``xmedia.adapters`` (``xmedia.zoo.list()`` just works).
"""
from importlib import import_module

from .embedding import Embedding
from .errors import ConfigError, DecodeWarning, LimitError, MediaError, RouteError, WeightsError, XMediaError
from .media import Audio, Frame, Image, Motion, Rig, Text, Video
from .score import Score

__version__ = "0.1.0"

__all__ = [
    "Audio", "Embedding", "Frame", "Image", "Motion", "Rig", "Score", "Text", "Video",
    "XMediaError", "MediaError", "RouteError", "WeightsError", "ConfigError", "LimitError", "DecodeWarning",
    "load", "save", "info", "translate", "plan", "routes", "encode", "stream",
]

_LAZY_MODULES = ("zoo", "bridges", "adapters", "io", "routing", "streaming", "formats", "process", "limits")


def __getattr__(name):
    if name in _LAZY_MODULES:
        return import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load(src, kind=None, **options):
    """Media (or any object xmedia saved) from a path, ``bytes`` or an ndarray."""
    return import_module(".io", __name__).load(src, kind, **options)


def save(obj, path, **options):
    return import_module(".io", __name__).save(obj, path, **options)


def info(path):
    return import_module(".io", __name__).info(path)


def translate(x, to, via=None, bridge=None, trace=False, **options):
    """Translate ``x`` into ``to`` along the cheapest route; ``trace=True`` also returns every intermediate."""
    return import_module(".routing", __name__).translate(x, to, via=via, bridge=bridge, trace=trace, **options)


def plan(x, to, via=None, bridge=None, options=None):
    """The route ``translate`` would run for these ``options`` (options may select steps: ``style="sfx"``)."""
    return import_module(".routing", __name__).plan(x, to, via=via, bridge=bridge, options=options)


def routes():
    return import_module(".routing", __name__).routes()


def encode(x, space="perceptual", **options):
    """Embed ``x`` in a space (default: the embedded perceptual space)."""
    return translate(x, to=f"space:{space}", **options)


def stream(source, to, **options):
    return import_module(".streaming", __name__).stream(source, to, **options)
