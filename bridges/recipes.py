"""Recipes (``zoo/recipes/*.json``, open_clip style: one JSON per architecture): build the bridge a recipe
names and train it on the recipe's data kind, on the one trainer.

A recipe is ``{"kind": "recipe", "name", "class", "config", "objective", "data": {"kind": ...}, "train": {...}}``;
its ``"train"`` section (the trainer's option names: ``learning_rate``, ``max_epochs``, ``patience``, ``seed``...,
and the bridges' own: ``val_fraction``, ``gallery``...) goes on top of ``bridges/recipe.json`` as the defaults of
``bridge.fit``; an optional ``"fine_tune"`` section (else the bridges' own) on top of that when a trained bridge
is fine-tuned.
"""
from __future__ import annotations

from pathlib import Path

import torch

from xmedia.errors import ConfigError
from xmedia.trainer import TrainResult, plot_history

from . import models  # noqa: F401 - defines the bridge classes a recipe names
from .av_data import av_segments
from .base import BRIDGE_CLASSES, Bridge, bridge_recipe
from .data import as_pairs, lexicon
from .dataset import Pairs


def recipe_class(recipe: dict) -> type[Bridge]:
    klass = BRIDGE_CLASSES.get(recipe.get("class", ""))
    if klass is None or not issubclass(klass, Bridge):
        bridges = sorted(k for k, c in BRIDGE_CLASSES.items() if issubclass(c, Bridge))
        raise ConfigError(f"recipe names unknown bridge class {recipe.get('class')!r}; known: {bridges}")
    return klass


def recipe_options(recipe: dict, fine_tune: bool = False, **overrides) -> dict:
    """The options ``bridge.fit`` gets: the recipe's ``"train"`` section (and, to fine-tune, its
    ``"fine_tune"`` section or the bridges' own), its objective, then ``overrides`` (``None`` means unset)."""
    tuned = recipe.get("fine_tune", bridge_recipe()["fine_tune"]) if fine_tune else {}
    options = {**recipe.get("train", {}), **tuned, **{k: v for k, v in overrides.items() if v is not None}}
    if recipe.get("objective"):
        options.setdefault("objective", recipe["objective"])
    return options


def recipe_pairs(recipe: dict, data=None, cache_dir=None, progress: bool | None = None, seed: int = 0,
                 val_fraction: float = 0.25) -> Pairs:
    """The recipe's data kind read from ``data`` (a folder of videos, a manifest, a lexicon CSV; default: the
    recipe's own data where it has one)."""
    spec = recipe.get("data", {})
    kind = spec.get("kind")
    if kind == "lexicon":
        cfg = recipe.get("config", {})
        return lexicon(data, cfg.get("n_features", 512), cfg.get("ngram", (2, 4)))
    if kind == "av_segments":
        if data is None:
            raise ConfigError(f"recipe {recipe.get('name')!r} trains on videos with sound: pass --data DIR")
        seg = {k: v for k, v in spec.items() if k != "kind"}
        return av_segments(data, val_fraction=val_fraction, seed=seed, cache_dir=cache_dir, progress=progress, **seg)
    if data is not None:
        return as_pairs(data, cache_dir=cache_dir)
    raise ConfigError(f"recipe {recipe.get('name')!r} names no data: pass --data")


def build_recipe_bridge(recipe: dict, pairs: Pairs, seed: int = 0) -> Bridge:
    """The bridge the recipe names, its ``"auto"`` sizes read from ``pairs``, initialised after
    ``torch.manual_seed(seed)`` (a recipe + seed is reproducible)."""
    cfg = dict(recipe.get("config", {}))
    for key, dim in (("video_dim", pairs.a.shape[1]), ("in_dim", pairs.a.shape[1]),
                     ("audio_dim", pairs.b.shape[1]), ("out_dim", pairs.b.shape[1])):
        if cfg.get(key) == "auto":
            cfg[key] = int(dim)
    if recipe.get("class") == "AudioVisualBridge":
        cfg.setdefault("features", {k: v for k, v in recipe.get("data", {}).items() if k != "kind"})
    torch.manual_seed(seed)
    return recipe_class(recipe)(**cfg)


def train_recipe(recipe: dict, data=None, out_dir=None, cache_dir=None, progress: bool | None = None,
                 base: Bridge | None = None, **overrides) -> TrainResult:
    """Build the bridge a recipe names (or fine-tune a copy of ``base``, a trained bridge of its class) and train
    it on ``data``; returns the ``TrainResult`` (the bridge in ``.process``).

    ``overrides``: options over the recipe's (``learning_rate``, ``max_epochs``, ``seed``, ``report``, ``card``:
    model-card fields...), checked before any data is read. ``out_dir``: save the bridge there (model card
    included; a folder holding anything but a saved model is refused) and its ``loss.png``."""
    from xmedia.scale import is_main_process

    klass = recipe_class(recipe)
    options = recipe_options(recipe, fine_tune=base is not None, progress=progress, **overrides)
    card = {"title": recipe.get("name", klass.__name__), "licence": recipe.get("licence", "Apache-2.0"),
            "recipe": recipe, **(options.pop("card", None) or {})}
    report = options.pop("report", None)  # drawn after the save (a save replaces the whole folder)
    common, family = klass.check_training_options(fine_tune=base is not None, **options)  # before any work
    pairs = recipe_pairs(recipe, data, cache_dir, progress, seed=common["seed"], val_fraction=family["val_fraction"])
    if base is None:
        result = build_recipe_bridge(recipe, pairs, common["seed"]).fit(pairs, card=card, **options)
    else:
        result = base.fine_tune(pairs, card=card, **options).train_result
    if is_main_process():
        if out_dir is not None:
            result.extra["out_dir"] = Path(out_dir)
            result.process.save_pretrained(out_dir)
        if report is not None or out_dir is not None:
            result.report_path = plot_history(result, report or Path(out_dir) / "loss.png", result.curves)
    return result
