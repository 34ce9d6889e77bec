"""Training a ``StyleNet`` (Johnson et al. 2016): the family's pieces for the one trainer (``xmedia.trainer``).

Content pictures in, Gram-matrix style loss on a fixed feature network (random multi-scale filters by default),
content loss on its middle stage, a little total variation (``style_weight``, ``content_weight``,
``tv_weight``). Training draws random ``size_px`` crops with flips, ``batch_size`` at a time. Whole content
sources are held out (``holdout`` of the files or given pictures, at least one when there are two or more; the
same ones for every seed): the held-out loss, on a fixed set of their crops, drives early stopping, the best
state restored and the loss PNG. Defaults: ``recipe.json`` beside this module.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from xmedia.errors import ConfigError, MediaError
from xmedia.trainer import Task

from .data import content_files, content_images, style_images
from .features import content_loss, feature_network, style_loss, style_targets, tv_loss

FEATURES = ("random", "clip")
VALIDATION_CROPS = 4
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".oga", ".m4a", ".aac", ".opus", ".aif", ".aiff")


def _crops(pictures: list[np.ndarray], size: int, batch: int, rng: np.random.Generator) -> torch.Tensor:
    import cv2

    out = np.empty((batch, size, size, 3), np.uint8)
    for i in range(batch):
        pic = pictures[rng.integers(len(pictures))]
        h, w = pic.shape[:2]
        if min(h, w) < size:  # small picture: scale it up so a crop fits
            s = size / min(h, w)
            pic = cv2.resize(pic, (max(size, round(w * s)), max(size, round(h * s))), interpolation=cv2.INTER_LINEAR)
            h, w = pic.shape[:2]
        y, x = rng.integers(h - size + 1), rng.integers(w - size + 1)
        crop = pic[y:y + size, x:x + size]
        out[i] = crop[:, ::-1] if rng.random() < 0.5 else crop
    return torch.from_numpy(out).permute(0, 3, 1, 2).float().div_(255.0)


def style_batch(pictures: list[np.ndarray], size: int) -> torch.Tensor:
    """The style pictures resized so their shorter side is ``size`` (brush strokes at the scale of training),
    centre-cropped to a square."""
    import cv2

    out = []
    for pic in pictures:
        h, w = pic.shape[:2]
        s = size / min(h, w)
        pic = cv2.resize(pic, (max(size, round(w * s)), max(size, round(h * s))), interpolation=cv2.INTER_AREA)
        h, w = pic.shape[:2]
        y, x = (h - size) // 2, (w - size) // 2
        out.append(pic[y:y + size, x:x + size])
    return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).float().div_(255.0)


def _number(options: dict, name: str, low: float, high: float | None = None, integer: bool = False):
    v = options[name]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < low \
            or (high is not None and v > high) or (integer and v != int(v)):
        span = f">= {low:g}" if high is None else f"in [{low:g}, {high:g}]"
        raise ConfigError(f"{name} must be a {'whole number' if integer else 'finite number'} {span}, got {v!r}")
    return int(v) if integer else float(v)


def check_options(options: dict) -> dict:
    """The style family's training options, refused before any work: a missing or audio-only style source,
    NaN or negative loss weights, a crop size against ``train_crop_px`` (``xmedia.limits``)."""
    from xmedia.limits import check

    o = dict(options)
    style = o["style"]
    if style is None:
        raise ConfigError("style is required: the painting or film clip to learn (--style-image PAINTING_OR_CLIP)")
    if isinstance(style, (str, Path)):
        path = Path(style)
        if path.suffix.lower() in AUDIO_SUFFIXES:
            raise MediaError(f"style {path} is an audio file: a style is learnt from a painting or a film clip")
        if not path.is_file():
            raise MediaError(f"style {path}: no such file (give a painting or a film clip)")
    for name in ("style_weight", "content_weight", "tv_weight"):
        o[name] = _number(o, name, 0.0)
    if o["style_weight"] == 0:
        raise ConfigError("style_weight must be > 0: with no style loss there is nothing to learn")
    o["size_px"] = _number(o, "size_px", 32, integer=True)
    check("train_crop_px", o["size_px"], "size_px")
    o["holdout"] = _number(o, "holdout", 0.0, 0.9)
    o["feature_seed"] = _number(o, "feature_seed", 0, integer=True)
    if o["features"] not in FEATURES:
        raise ConfigError(f"features must be one of {FEATURES}, got {o['features']!r}")
    return o


def content_split(data, holdout: float) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """``(training pictures, held-out pictures, held-out names)``: whole sources (a photo, every frame of a clip,
    a given picture) are held out, the same ones for every seed."""
    if isinstance(data, np.ndarray):
        data = [data]
    sources = [data] if isinstance(data, (str, Path)) else list(data)
    items = [(f"picture {i}", s) for i, s in enumerate(sources) if isinstance(s, np.ndarray)]
    items += [(f.name, f) for f in content_files(sources)]
    if not items:
        raise ConfigError(f"no photos or videos found in {data}")
    n_out = min(max(1, round(holdout * len(items))), len(items) - 1) if holdout > 0 else 0
    held = set(np.random.default_rng(0).permutation(len(items))[:n_out].tolist())

    def pictures(which):
        out = []
        for i in which:
            src = items[i][1]
            out += [np.asarray(src)] if isinstance(src, np.ndarray) else content_images([src])
        return out

    train = pictures(i for i in range(len(items)) if i not in held)
    return train, pictures(sorted(held)), [items[i][0] for i in sorted(held)]


class StyleTask(Task):
    """Random crops of the training pictures; the held-out loss on fixed crops of the held-out pictures."""

    loss_name = "style + content + TV loss"
    curves = (("style", None), ("content", None))

    def __init__(self, model, data, style, size_px, style_weight, content_weight, tv_weight, features,
                 feature_seed, holdout):
        self.model, self.data, self.style, self.size = model, data, style, size_px
        self.weights = (style_weight, content_weight, tv_weight)
        self.features, self.feature_seed, self.holdout = features, feature_seed, holdout

    def setup(self, runner) -> None:
        from xmedia.limits import check_bytes

        check_bytes(self.options["batch_size"] * 3 * self.size ** 2 * 4, "the training crops (batch_size x size_px²)")
        styles = style_images(self.style)  # first: a bad style source is refused before the content is read
        self.pictures, held, self.held_names = content_split(self.data, self.holdout)
        self.net = feature_network(self.features, self.feature_seed)
        self.targets = style_targets(self.net, style_batch(styles, self.size))
        self.style_pictures = len(styles)
        # no held-out source (one clip or photo): a fixed set of training crops shows the curve instead
        self.val = _crops(held or self.pictures, self.size, VALIDATION_CROPS, np.random.default_rng(1))

    def batch(self, step, rng):
        return _crops(self.pictures, self.size, self.options["batch_size"], rng)

    def terms(self, net, x) -> tuple[torch.Tensor, ...]:
        with torch.no_grad():
            cf = self.net(x)
        y = net(x)
        f = self.net(y)
        parts = style_loss(f, self.targets), content_loss(f, cf), tv_loss(y)
        return (sum(w * p for w, p in zip(self.weights, parts)), *parts)

    def loss(self, net, batch):
        return self.terms(net, batch)[0]

    def validate(self, model):
        total, ls, lc, lt = (float(v) for v in self.terms(model, self.val))
        return total, {"style": ls, "content": lc, "tv": lt}

    def finish(self, result) -> None:
        sw, cw, tw = self.weights
        result.extra.update(content_pictures=len(self.pictures), style_pictures=self.style_pictures,
                            held_out=self.held_names,
                            objective=f"Johnson et al. 2016 perceptual loss on {self.features} features (seed "
                                      f"{self.feature_seed}): style x {sw:g} + content x {cw:g} + TV x {tw:g}, "
                                      f"{self.size} px crops")
