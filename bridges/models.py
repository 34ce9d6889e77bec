"""Concrete, trainable bridges: small MLPs, a two-tower audio-visual bridge, a text -> perceptual bridge, and the
bridges that ``extend`` and ``blend`` build (still plain, saveable ``Bridge`` subclasses).

Every class takes only JSON-serialisable constructor arguments (recorded as ``config``), so
``save_pretrained``/``from_pretrained`` rebuild it. Inputs are standardised inside the model with buffers
(``in_mean``/``in_std``) that ``train`` fits on the training split, so a saved bridge carries its own
normalisation and needs no side file.
"""
from __future__ import annotations

import math
import re

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from xmedia.adapters.perceptual import AXES
from xmedia.blend import build_process
from xmedia.embedding import Embedding
from xmedia.errors import ConfigError, MediaError

from .base import Bridge, output_dim
from .features import embedding_features, text_features

ACTIVATIONS = {"gelu": nn.GELU, "relu": nn.ReLU, "tanh": nn.Tanh, "silu": nn.SiLU}


def mlp(in_dim: int, hidden, out_dim: int, activation: str = "gelu", dropout: float = 0.0) -> nn.Sequential:
    """Linear layers of the given hidden widths with an activation (and optional dropout) between them."""
    if activation not in ACTIVATIONS:
        raise ConfigError(f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")
    dims = [int(in_dim), *[int(h) for h in hidden], int(out_dim)]
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(dims) - 2:
            layers.append(ACTIVATIONS[activation]())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class Standardize(nn.Module):
    """``(x - mean) / std`` with the statistics stored as buffers (saved with the weights)."""

    def __init__(self, dim: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))

    def fit(self, x: torch.Tensor) -> None:
        x = torch.as_tensor(x, dtype=torch.float32)
        self.mean.copy_(x.mean(0))
        self.std.copy_(x.std(0, unbiased=False).clamp_min(1e-3))

    def forward(self, x):
        return (x - self.mean) / self.std


class MLPBridge(Bridge):
    """A small MLP from one space to another (or to a decoder's controls), for ``objective="regression"``.

    ``output="sigmoid"`` keeps outputs in [0, 1] (perceptual axes, most decoder controls); ``"normalize"``
    gives unit vectors (for contrastive alignment to a fixed target space); ``"linear"`` leaves them as is.
    """

    def __init__(self, in_dim: int, out_dim: int, hidden=(64,), activation: str = "gelu", output: str = "linear",
                 dropout: float = 0.0, src: str = "space:perceptual", dst: str = "controls:composer"):
        super().__init__()
        if output not in ("linear", "sigmoid", "normalize"):
            raise ConfigError(f"output must be 'linear', 'sigmoid' or 'normalize', got {output!r}")
        self.src, self.dst, self.output = src, dst, output
        self.in_dim, self.out_dim = int(in_dim), int(out_dim)
        self.norm = Standardize(in_dim)
        self.net = mlp(in_dim, hidden, out_dim, activation, dropout)

    def fit_input_stats(self, a, b=None) -> None:
        self.norm.fit(a)

    def forward(self, x):
        y = self.net(self.norm(x))
        if self.output == "sigmoid":
            return torch.sigmoid(y)
        if self.output == "normalize":
            return F.normalize(y, dim=-1)
        return y


class SyncTower(nn.Module):
    """Reads only the centred temporal profile (``n_bins`` x 8 axes) of ``track_features`` and projects each
    time bin with one shared ``Linear(8, channels)``: the cosine of two such embeddings is the temporal
    correlation of learnt axis mixtures (e.g. visual motion vs loudness). A few dozen weights, shared over
    time, so it learns synchrony rather than memorising moments: what generalises from a few seconds of
    footage (see docs/training.md for the measurements that chose it)."""

    def __init__(self, n_bins: int, channels: int, n_axes: int = len(AXES)):
        super().__init__()
        self.n_bins, self.n_axes = n_bins, n_axes
        self.project = nn.Linear(n_axes, channels, bias=False)

    def forward(self, x):
        start = 3 * self.n_axes  # after mean, std and mean absolute change
        profile = x[..., start:start + self.n_bins * self.n_axes].reshape(*x.shape[:-1], self.n_bins, self.n_axes)
        return self.project(profile).flatten(-2)


class AudioVisualBridge(Bridge):
    """Two towers into one shared space: video perceptual features -> D and audio perceptual features -> D.

    Trained CLIP-style (symmetric InfoNCE, learnable temperature ``logit_scale`` initialised to 1/0.07 as in
    Radford et al. 2021) on segments of videos and their own sound. ``forward`` embeds video features;
    ``encode_a``/``encode_b`` embed the two sides; outputs are unit vectors, compared by cosine similarity.
    ``bridge(embedding)`` embeds a timed perceptual ``Embedding`` (a video's through the video tower, a
    sound's through the audio tower) into the shared space ``"av"``.
    ``tower="mlp"`` reads every feature through an MLP (for large datasets); ``tower="sync"`` reads only the
    temporal profile through a ``SyncTower`` (for small ones); ``features`` records how inputs were made.
    """

    src, dst = "space:perceptual", "space:av"

    def __init__(self, video_dim: int, audio_dim: int, embed_dim: int = 32, hidden=(64,),
                 activation: str = "gelu", dropout: float = 0.1, tower: str = "mlp", n_bins: int = 4,
                 sync_channels: int = 4, features: dict | None = None):
        super().__init__()
        self.features = dict(features or {})
        self.video_norm, self.audio_norm = Standardize(video_dim), Standardize(audio_dim)
        if tower == "mlp":
            self.video_tower = mlp(video_dim, hidden, embed_dim, activation, dropout)
            self.audio_tower = mlp(audio_dim, hidden, embed_dim, activation, dropout)
        elif tower == "sync":
            self.video_tower, self.audio_tower = SyncTower(n_bins, sync_channels), SyncTower(n_bins, sync_channels)
            embed_dim = n_bins * sync_channels
        else:
            raise ConfigError(f"tower must be 'mlp' or 'sync', got {tower!r}")
        self.in_dim, self.b_dim, self.out_dim = int(video_dim), int(audio_dim), int(embed_dim)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def fit_input_stats(self, a, b=None) -> None:
        self.video_norm.fit(a)
        if b is not None:
            self.audio_norm.fit(b)

    def encode_a(self, video_features):
        return F.normalize(self.video_tower(self.video_norm(video_features)), dim=-1)

    def encode_b(self, audio_features):
        return F.normalize(self.audio_tower(self.audio_norm(audio_features)), dim=-1)

    encode_video, encode_audio = encode_a, encode_b

    def forward(self, video_features):
        return self.encode_a(video_features)

    @torch.no_grad()
    def run(self, embedding: Embedding) -> Embedding:
        """A perceptual Embedding with a track -> one unit vector in space ``"av"`` for the whole clip, read from
        the features training used (``embedding_features`` with the recorded ``n_bins``)."""
        if embedding.space != "perceptual" or embedding.track is None:
            raise MediaError(f"{type(self).__name__} embeds a timed perceptual Embedding (a video's or a sound's), "
                             f"got space {embedding.space!r}{'' if embedding.track is not None else ' without a track'}")
        video = embedding.source == "video"
        n_bins = int(self.features.get("n_bins", self.config["n_bins"]))
        row = torch.as_tensor(embedding_features(embedding, n_bins))[None]
        expected = self.in_dim if video else self.b_dim
        if row.shape[1] != expected:
            raise MediaError(f"this bridge reads {expected} features per {'video' if video else 'sound'} but the "
                             f"embedding gives {row.shape[1]} (n_bins={n_bins}); it was trained on other features")
        device = next(self.parameters()).device
        vector = (self.encode_a if video else self.encode_b)(row.to(device))[0].cpu().numpy()
        return Embedding("av", vector, duration_s=embedding.duration_s, source=embedding.source)


# ------------------------------------------------------------------------------------------------ text
STOPWORDS = frozenset("a an the and or of to in on at with for by is are was be it its this that as very so "
                      "my your our their some".split())


class TextPerceptualBridge(Bridge):
    """Words -> the eight perceptual axes in [0, 1], through hashed character n-grams and a small MLP.

    Trained by regression on the project's lexicon (``adapters/perceptual_lexicon.csv``); ``bridge("dark rumbling
    drone")`` (``run``) averages the per-word predictions of the content words into a perceptual ``Embedding``.
    """

    src, dst = "text", "space:perceptual"

    def __init__(self, n_features: int = 512, ngram=(2, 4), hidden=(64,), activation: str = "gelu",
                 dropout: float = 0.0):
        super().__init__()
        self.n_features, self.ngram = int(n_features), tuple(int(n) for n in ngram)
        self.in_dim, self.out_dim = self.n_features, len(AXES)
        self.net = mlp(n_features, hidden, len(AXES), activation, dropout)

    def featurize(self, words) -> torch.Tensor:
        return torch.from_numpy(text_features(words, self.n_features, self.ngram))

    def forward(self, features):
        return torch.sigmoid(self.net(features))

    @torch.no_grad()
    def predict(self, words) -> np.ndarray:
        """Axis values (len(words), 8) for single words."""
        return self(self.featurize(words)).numpy()

    def run(self, text) -> Embedding:
        """A perceptual ``Embedding`` for a phrase or ``Text``: mean over its content words (neutral if none)."""
        words = re.findall(r"[a-z]+", getattr(text, "text", text).lower())
        content = [w for w in words if w not in STOPWORDS] or words
        vector = self.predict(content).mean(axis=0) if content else np.full(len(AXES), 0.5, np.float32)
        return Embedding("perceptual", vector, axes=AXES, source="text")


# ------------------------------------------------------------------------------------------------ extend
def _head(in_dim: int, layers) -> tuple[nn.Sequential, int]:
    """Layers from a JSON spec: ints are Linear widths (activation between them), or dicts
    ``{"type": "linear", "out": 16}``, ``{"type": "gelu"|"relu"|"tanh"|"silu"|"sigmoid"|"dropout", "p": 0.1}``."""
    mods, dim = [], in_dim
    ints = all(isinstance(x, int) for x in layers)
    for i, layer in enumerate(layers):
        if isinstance(layer, int):
            layer = {"type": "linear", "out": layer}
        if not isinstance(layer, dict) or "type" not in layer:
            raise ConfigError(f"layer {layer!r}: give an int width or a dict with 'type'")
        kind = layer["type"]
        if kind == "linear":
            mods.append(nn.Linear(dim, int(layer["out"])))
            dim = int(layer["out"])
            if ints and i < len(layers) - 1:
                mods.append(nn.GELU())
        elif kind in ACTIVATIONS:
            mods.append(ACTIVATIONS[kind]())
        elif kind == "sigmoid":
            mods.append(nn.Sigmoid())
        elif kind == "dropout":
            mods.append(nn.Dropout(float(layer.get("p", 0.1))))
        else:
            raise ConfigError(f"unknown layer type {kind!r}; use linear, {', '.join(ACTIVATIONS)}, sigmoid, dropout")
    return nn.Sequential(*mods), dim


class ExtendedBridge(Bridge):
    """A bridge with layers stacked on its output (``extend``). For a two-tower base the head is shared by
    both towers and outputs stay unit vectors, so the result trains contrastively like the base."""

    def __init__(self, base: dict, layers: list):
        super().__init__()
        self.base = build_process(base, Bridge)
        self.src, self.dst = self.base.src, self.base.dst
        self.head, self.out_dim = _head(output_dim(self.base), layers)
        self.in_dim = getattr(self.base, "in_dim", None)
        self.two_tower = hasattr(self.base, "encode_b") and getattr(self.base, "two_tower", True)
        if self.two_tower:
            self.b_dim = self.base.b_dim

    @property
    def logit_scale(self):  # the base's temperature (a shared Parameter would be saved twice)
        return self.base.logit_scale

    def fit_input_stats(self, a, b=None) -> None:
        if hasattr(self.base, "fit_input_stats"):
            self.base.fit_input_stats(a, b)

    def encode_a(self, x):
        return F.normalize(self.head(self.base.encode_a(x)), dim=-1)

    def encode_b(self, y):
        return F.normalize(self.head(self.base.encode_b(y)), dim=-1)

    def forward(self, x):
        return self.encode_a(x) if self.two_tower else self.head(self.base(x))
