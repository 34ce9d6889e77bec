"""Trainable bridges between spaces: train, remix (fine-tune, extend, blend, mix) and share them.

The names below load on first use (they import torch), so importing a light submodule such as
``xmedia.bridges.routes`` (the route steps) costs nothing.
"""
from importlib import import_module

_EXPORTS = {
    "Bridge": "base", "BRIDGE_CLASSES": "base", "BlendedBridge": "base",
    "AudioVisualBridge": "models", "ExtendedBridge": "models", "MLPBridge": "models",
    "TextPerceptualBridge": "models", "text_features": "features",
    "Pairs": "dataset", "pairs": "data", "av_segments": "av_data", "from_manifest": "data", "mix": "data",
    "as_pairs": "data",
    "blend": "remix", "compatible": "remix", "extend": "remix", "fine_tune": "remix",
    "TrainResult": "training", "evaluate": "training", "retrieval_metrics": "metrics", "train": "training",
    "train_recipe": "recipes",
}

__all__ = sorted(_EXPORTS) + ["load"]


def __getattr__(name):
    if name == "load":
        return import_module(".base", __name__).Bridge.from_pretrained
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
