"""Trainable bridges between spaces: train, remix (fine-tune, extend, blend, mix) and share them.

Imports torch, so ``import xmedia`` does not import this package; ``import xmedia.bridges`` does.
"""
from .base import BRIDGE_CLASSES, Bridge
from .data import Pairs, as_pairs, av_segments, from_manifest, mix, pairs
from .models import (AudioVisualBridge, BlendedBridge, ExtendedBridge, MLPBridge, TextPerceptualBridge,
                     text_features)
from .remix import blend, compatible, extend, fine_tune
from .train import TrainResult, evaluate, retrieval_metrics, train

load = Bridge.from_pretrained

__all__ = [
    "Bridge", "BRIDGE_CLASSES", "AudioVisualBridge", "MLPBridge", "TextPerceptualBridge", "ExtendedBridge",
    "BlendedBridge", "text_features", "Pairs", "pairs", "av_segments", "from_manifest", "mix", "as_pairs",
    "train", "evaluate", "retrieval_metrics", "TrainResult", "fine_tune", "extend", "blend", "compatible", "load",
]
