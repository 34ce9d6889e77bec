"""Bridges between the foundation-model spaces (CLIP, CLAP, MiniLM) and the perceptual space.

``SpaceMap`` is an ordinary trainable ``Bridge`` (an ``MLPBridge`` whose src/dst come from its config) that
also maps whole ``Embedding`` objects, track and all, so it can sit in a route: CLIP -> CLAP with AudioLDM
gives the V2A-Mapper recipe (Wang et al. 2024, "V2A-Mapper": a lightweight mapper from CLIP to CLAP
space feeding a frozen CLAP-conditioned generator). ``AxisAnchors`` projects a sentence-embedding space onto
the eight perceptual axes with anchor phrases (SemAxis, An et al. 2018), usable untrained and trainable later.

Trained bridges are found at ``$XMEDIA_HOME/bridges/<src>-to-<dst>`` (e.g. ``clip-to-clap``), written there
with ``bridge.save_pretrained(...)``; ``load_trained`` loads one for its route step (declared in
``xmedia.bridges.routes``), and ``minilm_anchors`` is the ``minilm-anchors`` step.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from xmedia.adapters.foundation import cached_model
from xmedia.adapters.minilm import MiniLMEncoder
from xmedia.adapters.perceptual import AXES
from xmedia.adapters.weights import xmedia_home
from xmedia.embedding import Embedding
from xmedia.errors import ConfigError, MediaError, WeightsError
from xmedia.routing import space_names

from .base import CONFIG_NAME, Bridge
from .models import MLPBridge

# Axis anchors: opposite poles per perceptual axis, worded after ../shared/design/crossmodal.md.
ANCHORS = {
    "energy": ("loud, intense, powerful, explosive, forceful", "quiet, calm, soft, gentle, faint"),
    "pace": ("fast, rapid, hurried, frantic, racing", "slow, leisurely, languid, unhurried, still"),
    "brightness": ("bright, light, luminous, sunny, shining", "dark, dim, gloomy, shadowy, murky"),
    "warmth": ("warm, cozy, golden, amber, glowing", "cold, icy, frosty, chilly, bluish"),
    "texture": ("rough, gritty, harsh, jagged, noisy", "smooth, clean, pure, silky, soft-edged"),
    "valence": ("happy, joyful, cheerful, uplifting, delightful", "sad, melancholic, sorrowful, bleak, gloomy"),
    "density": ("dense, crowded, busy, layered, thick", "sparse, empty, minimal, bare, thin"),
    "onset": ("sudden, abrupt, percussive, punchy, staccato", "sustained, flowing, gradual, legato, continuous"),
}


def embedding_to_tensor(emb: Embedding) -> tuple[torch.Tensor, bool]:
    """Rows to map: the track when there is one (the pooled vector is re-derived from it), else the vector."""
    rows = emb.track if emb.track is not None else emb.vector[None]
    return torch.as_tensor(np.array(rows, dtype=np.float32)), emb.track is not None


def check_input(bridge: Bridge, emb: Embedding) -> None:
    """Refuse an embedding from another space, or of another size, than the bridge was built for."""
    if f"space:{emb.space}" != bridge.src:
        raise MediaError(f"{type(bridge).__name__} maps {bridge.src} embeddings, got space:{emb.space}")
    if emb.dim != bridge.in_dim:
        raise MediaError(f"this bridge takes {bridge.in_dim}-d embeddings, got {emb.dim}-d (another checkpoint?)")


def mapped_embedding(emb: Embedding, rows: np.ndarray, space: str, axes=None, unit: bool = False) -> Embedding:
    pooled = rows.mean(axis=0)
    if unit:
        pooled = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
    has_track = emb.track is not None
    return emb.replace(space=space, vector=pooled, track=rows if has_track else None, axes=axes)


class SpaceMap(MLPBridge):
    """A small MLP from one space to another; outputs unit vectors when the target is a joint space.

    ``SpaceMap(512, 512, src="space:clip", dst="space:clap")`` is the V2A-Mapper-style CLIP -> CLAP map.
    Call it on a tensor (``forward``, training) or an ``Embedding`` (``run``, in a route).
    """

    def __init__(self, in_dim: int, out_dim: int, hidden=(512,), activation: str = "gelu", dropout: float = 0.0,
                 src: str = "space:clip", dst: str = "space:clap"):
        spaces = space_names()  # the spaces the providers declare
        for node in (src, dst):
            if not node.startswith("space:") or node.split(":", 1)[1] not in spaces:
                raise ConfigError(f"SpaceMap connects spaces {sorted('space:' + s for s in spaces)}, got {node!r}")
        output = "sigmoid" if dst == "space:perceptual" else "normalize"
        super().__init__(in_dim, out_dim, hidden=hidden, activation=activation, output=output, dropout=dropout,
                         src=src, dst=dst)

    @torch.no_grad()
    def run(self, emb: Embedding) -> Embedding:
        """The embedding mapped row by row (its track, events and timing kept) into the ``dst`` space."""
        check_input(self, emb)
        rows, _ = embedding_to_tensor(emb)
        out = self(rows.to(next(self.parameters()).device)).cpu().numpy()
        perceptual = self.dst == "space:perceptual"
        return mapped_embedding(emb, out, self.dst.split(":", 1)[1], axes=AXES if perceptual else None,
                                unit=not perceptual)


class AxisAnchors(Bridge):
    """Sentence embedding -> perceptual axes: ``sigmoid(scale * (x . d_axis - offset_axis))``.

    ``d_axis`` is the difference of the mean embeddings of an axis's two anchor phrase sets, ``offset`` the
    midpoint between them, so "explosive fireworks" lands high on energy without any training; all three
    are parameters, so the bridge can be refined by regression later.
    """

    src, dst = "space:minilm", "space:perceptual"

    def __init__(self, in_dim: int = 384, scale: float = 8.0, src: str = "space:minilm"):
        super().__init__()
        self.in_dim, self.out_dim, self.src = int(in_dim), len(AXES), src
        self.directions = torch.nn.Parameter(torch.zeros(len(AXES), in_dim))
        self.offsets = torch.nn.Parameter(torch.zeros(len(AXES)))
        self.scale = torch.nn.Parameter(torch.tensor(float(scale)))

    @classmethod
    def from_text_encoder(cls, encode_texts, anchors: dict = ANCHORS, **config) -> "AxisAnchors":
        """Build from an ``encode_texts(list[str]) -> (N, D)`` function (e.g. ``MiniLMEncoder.encode_texts``)."""
        missing = set(AXES) - set(anchors)
        if missing:
            raise ConfigError(f"anchors are missing axes {sorted(missing)}")
        pos = np.stack([np.asarray(encode_texts([w.strip() for w in anchors[a][0].split(",")])).mean(0) for a in AXES])
        neg = np.stack([np.asarray(encode_texts([w.strip() for w in anchors[a][1].split(",")])).mean(0) for a in AXES])
        bridge = cls(in_dim=pos.shape[1], **config)
        d = pos - neg
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        with torch.no_grad():
            bridge.directions.copy_(torch.as_tensor(d, dtype=torch.float32))
            bridge.offsets.copy_(torch.as_tensor(((pos + neg) / 2 * d).sum(1), dtype=torch.float32))
        bridge.card = {"description": "anchor-phrase projection onto the perceptual axes (SemAxis, An et al. 2018)",
                       "data": "no training: anchor phrases in bridges/foundation.py ANCHORS"}
        return bridge

    def forward(self, x):
        x = F.normalize(x, dim=-1)
        return torch.sigmoid(self.scale * (x @ self.directions.T - self.offsets))

    @torch.no_grad()
    def run(self, emb: Embedding) -> Embedding:
        """A sentence embedding (track and all) as a perceptual one."""
        check_input(self, emb)
        rows, _ = embedding_to_tensor(emb)
        out = self(rows.to(self.directions.device)).cpu().numpy()
        return mapped_embedding(emb, out, "perceptual", axes=AXES)


# ------------------------------------------------------------------------------------------------ route steps
def trained_dir(name: str) -> Path:
    """Where the trained bridge ``<src>-to-<dst>`` lives: ``$XMEDIA_HOME/bridges/<name>``."""
    return xmedia_home() / "bridges" / name


def load_trained(name: str) -> Bridge:
    """The bridge saved at ``$XMEDIA_HOME/bridges/<name>`` (cached until the folder changes)."""
    folder = trained_dir(name)
    if not (folder / CONFIG_NAME).is_file():
        raise WeightsError(f"no trained bridge at {folder}: train one and save it there with "
                           "bridge.save_pretrained(...) (docs/foundation.md)")
    return cached_model(("bridge", str(folder), folder.stat().st_mtime_ns), lambda: Bridge.from_pretrained(folder))


def minilm_axis_anchors(device=None, dtype=None) -> AxisAnchors:
    """The MiniLM -> perceptual ``AxisAnchors`` built from the anchor phrases (cached with its encoder)."""
    encoder = MiniLMEncoder.from_pretrained(device=device, dtype=dtype)
    return cached_model(("minilm-anchors", encoder),
                        lambda: AxisAnchors.from_text_encoder(encoder.encode_texts).eval())


def minilm_anchors(x: Embedding, device=None, dtype=None) -> Embedding:
    """A MiniLM sentence embedding projected onto the perceptual axes by anchor phrases (no training)."""
    return minilm_axis_anchors(device, dtype)(x)
