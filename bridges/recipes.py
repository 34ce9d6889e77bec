"""Recipes (``zoo/recipes/*.json``, open_clip style: one JSON per architecture): build the bridge a recipe
names and train it on the recipe's data kind."""
from __future__ import annotations

import torch

from xmedia.errors import ConfigError

from . import models  # noqa: F401 - defines the bridge classes a recipe names
from .av_data import av_segments
from .base import BRIDGE_CLASSES
from .data import as_pairs, lexicon
from .training import TrainResult, guess_objective, train


def train_recipe(recipe: dict, data=None, out_dir=None, cache_dir=None, progress: bool | None = None,
                 **overrides) -> TrainResult:
    """Build the bridge a recipe names (``zoo/recipes/*.json``, open_clip style) and train it on ``data``
    (a folder of videos, a manifest, a lexicon CSV; default: the recipe's own data where it has one)."""
    spec = recipe.get("data", {})
    kind = spec.get("kind")
    options = {**recipe.get("train", {}), **overrides}
    if kind == "lexicon":
        cfg = recipe.get("config", {})
        pairs = lexicon(data, cfg.get("n_features", 512), cfg.get("ngram", (2, 4)))
    elif kind == "av_segments":
        if data is None:
            raise ConfigError(f"recipe {recipe.get('name')!r} trains on videos with sound: pass --data DIR")
        seg = {k: v for k, v in spec.items() if k != "kind"}
        pairs = av_segments(data, val_fraction=options.get("val_fraction", 0.25), seed=options.get("seed", 0),
                            cache_dir=cache_dir, progress=progress, **seg)
    elif data is not None:
        pairs = as_pairs(data, cache_dir=cache_dir)
    else:
        raise ConfigError(f"recipe {recipe.get('name')!r} names no data: pass --data")
    cfg = dict(recipe.get("config", {}))
    for key, dim in (("video_dim", pairs.a.shape[1]), ("in_dim", pairs.a.shape[1]),
                     ("audio_dim", pairs.b.shape[1]), ("out_dim", pairs.b.shape[1])):
        if cfg.get(key) == "auto":
            cfg[key] = int(dim)
    if recipe.get("class") == "AudioVisualBridge":
        cfg.setdefault("features", {k: v for k, v in spec.items() if k != "kind"})
    klass = BRIDGE_CLASSES.get(recipe.get("class", ""))
    if klass is None:
        raise ConfigError(f"recipe names unknown bridge class {recipe.get('class')!r}; known: {sorted(BRIDGE_CLASSES)}")
    torch.manual_seed(options.get("seed", 0))  # the initial weights too: a recipe + seed is reproducible
    bridge = klass(**cfg)
    card = {"title": recipe.get("name", klass.__name__), "licence": recipe.get("licence", "Apache-2.0"),
            "recipe": recipe, **options.pop("card", {})}
    return train(bridge, pairs, recipe.get("objective", guess_objective(bridge)), out_dir=out_dir, card=card,
                 progress=progress, **options)
