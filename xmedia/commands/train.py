"""``xmedia train NAME ...`` and ``xmedia eval BRIDGE --data DIR``.

NAME is a trainer that an area declares in its ``TRAINERS`` (``xmedia train visual-onsets --data DIR -o OUT``;
each has its own flags, see ``xmedia train NAME --help``), else a bridge recipe: a JSON file or the name of one
in zoo/recipes (``av-perceptual``, ``av-mlp``, ``text-perceptual``). BRIDGE is a zoo name (``av-perceptual@1``)
or a folder written by ``bridge.save(dir)``. Training code (torch) is imported when a verb runs, so
``xmedia --help`` stays light.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from xmedia.errors import ConfigError

from . import Trainer, areas
from .music import eval_music, is_music_model
from .onsets import eval_onsets, is_onset_model
from .text import eval_text, is_text_model
from .training import ProcessTrainer, TrainFlag, load_family_model

ORDER = 80  # where this area's hooks run among the others' (xmedia.commands.areas)


def trainers() -> dict[str, Trainer]:
    return {t.name: t for area in areas() for t in getattr(area, "TRAINERS", ())}


def add_commands(subparsers) -> None:
    names = ", ".join(sorted(trainers()))
    s = subparsers.add_parser("train", help="train a process (timbre, text, style...) or a bridge recipe on your media",
                              description=f"Trainers: {names or 'none'}; else a bridge recipe (a JSON file or "
                                          "av-perceptual, av-mlp, text-perceptual). "
                                          "`xmedia train NAME --help` lists NAME's flags.")
    s.add_argument("name", help=f"trainer ({names}) or recipe JSON file / zoo recipe name")
    s.add_argument("rest", nargs=argparse.REMAINDER, help="the trainer's flags")
    s.set_defaults(func=cmd_train)

    s = subparsers.add_parser("eval", help="retrieval recall@1/@5 (or MSE) of a bridge on held-out data; "
                                           "nats per character of a text model on --data text.txt")
    s.add_argument("bridge", help="zoo name (av-perceptual@1, shakespeare-gru) or a saved bridge / text model folder")
    s.add_argument("--data", help="the data it was trained on (folder of videos, manifest or lexicon csv)")
    s.add_argument("--split", default="val", choices=("val", "train", "all"), help="which part to score")
    s.add_argument("--gallery", choices=("all", "file"), help="retrieval among all items or within each file")
    s.add_argument("--cache", help="embeddings cache folder")
    s.add_argument("--encoding", default="utf-8", help="text models: the encoding of --data (default utf-8; "
                                                      "latin-1 reads any bytes)")
    s.set_defaults(func=cmd_eval)


@dataclass(frozen=True)
class RecipeTrainer(ProcessTrainer):
    """``xmedia train RECIPE``: a bridge recipe (zoo/recipes/*.json or a JSON file) with the common trainer's
    flags (``ProcessTrainer.add_arguments``: defaults from the recipe's ``"train"`` section), its destination
    check and ``--fine-tune``, then ``bridges.recipes.train_recipe``."""

    recipe: dict | None = None

    def defaults(self) -> dict:
        """The recipe's ``"train"`` section over the bridges' own defaults (read without importing torch)."""
        from importlib.util import find_spec

        bridges = Path(find_spec("xmedia.bridges").origin).with_name("recipe.json")
        return {**json.loads(bridges.read_text())["train"], **self.recipe.get("train", {})}

    def add_arguments(self, p) -> None:
        super().add_arguments(p)
        p.add_argument("--cache", help="embeddings cache folder (default $XMEDIA_CACHE or ~/.cache/xmedia)")

    def run(self, args) -> int:
        import sys

        from xmedia.bridges.recipes import recipe_class, train_recipe
        from xmedia.scale import is_main_process

        klass = recipe_class(self.recipe)
        options, _, data, out = self.start(args, klass)
        base = load_family_model(args.fine_tune, klass, self.name) if args.fine_tune else None
        result = train_recipe(self.recipe, data, out_dir=out, cache_dir=args.cache, progress=args.progress, base=base,
                              report=args.report, card={"reproduce": "xmedia train " + " ".join(sys.argv[2:])},
                              **options)
        if is_main_process():  # torchrun: the other ranks trained in step; rank 0 writes
            print(result.summary())
            _print_metrics(result.metrics)
            print(f"wrote {out} (loss curve: {result.report_path})")
        return 0


def recipe_trainer(name: str) -> Trainer:
    """The trainer of a bridge recipe: a JSON file or the name of one in zoo/recipes."""
    from xmedia.zoo import recipe

    rec = recipe(name)
    flags = (TrainFlag("max_epochs", int, "epochs at most (an epoch is one pass over the training pairs)"),
             TrainFlag("patience", int, "stop after this many epochs without a better held-out loss"),
             TrainFlag("val_fraction", float, "fraction of the data held out (whole groups: files or time blocks)"))
    return RecipeTrainer(name, f"train the {rec.get('class', 'bridge')} of the recipe {rec.get('name', name)}",
                         "xmedia.bridges.base:Bridge", "folder of videos with sound, video file(s), a manifest "
                         ".csv/.jsonl or a lexicon .csv", flags=flags, recipe=rec,
                         data_required=rec.get("data", {}).get("kind") != "lexicon").as_trainer()


def cmd_train(args) -> int:
    from xmedia.scale import LAUNCH_HINT

    trainer = trainers().get(args.name) or recipe_trainer(args.name)
    parser = argparse.ArgumentParser(prog=f"xmedia train {trainer.name}", description=trainer.help,
                                     epilog=LAUNCH_HINT.format(name=trainer.name))
    trainer.add_arguments(parser)
    return trainer.run(parser.parse_args(args.rest))


def cmd_eval(args) -> int:
    if is_onset_model(args.bridge):  # a visual-onsets model: its per-clip F on --data's clips
        return eval_onsets(args)
    if is_text_model(args.bridge):  # a text model: nats per character on --data
        return eval_text(args)
    if is_music_model(args.bridge):  # a composition model: nats per note on --data's pieces
        return eval_music(args)
    check_evaluable(args.bridge)
    from xmedia.bridges.av_data import av_segments
    from xmedia.bridges.data import lexicon
    from xmedia.bridges.training import evaluate
    from xmedia.zoo import load

    bridge = load(args.bridge)
    card = bridge.card
    rec = card.get("recipe", {})
    opts = card.get("training", {})
    kind = rec.get("data", {}).get("kind")
    seed, val_fraction = opts.get("seed", 0), opts.get("val_fraction", 0.25)
    if kind == "lexicon":
        data = lexicon(args.data, bridge.config.get("n_features", 512), bridge.config.get("ngram", (2, 4)))
    elif kind == "av_segments":
        if not args.data:
            raise ConfigError("this bridge was trained on videos with sound: pass --data DIR (or a video file)")
        seg = {k: v for k, v in rec["data"].items() if k != "kind"}
        data = av_segments(args.data, val_fraction=val_fraction, seed=seed, cache_dir=args.cache, **seg)
    elif args.data:
        data = args.data
    else:
        raise ConfigError("pass --data (the bridge's card does not say what it was trained on)")
    gallery = args.gallery or opts.get("gallery", "all")
    metrics = evaluate(bridge, data, split=args.split, val_fraction=val_fraction, seed=seed, gallery=gallery)
    print(f"{args.bridge}: {args.split} split, {int(metrics['n'])} items, gallery={gallery}")
    _print_metrics(metrics)
    return 0


def check_evaluable(name) -> None:
    """``xmedia eval`` scores bridges and text models; any other saved process (a timbre, a style, visual onsets)
    is a ``ConfigError`` saying so, before its data is read."""
    from xmedia.errors import XMediaError
    from xmedia.pretrained import locate, read_config

    try:
        cfg = read_config(locate(name))
    except XMediaError:
        return  # not a saved process: loading it says why
    module, cls = str(cfg.get("module", "")), cfg.get("class", "process")
    if not module.startswith("xmedia.bridges"):
        raise ConfigError(f"xmedia eval scores bridges (retrieval recall or MSE on held-out data, e.g. av-perceptual) "
                          f"and text models (nats per character, e.g. shakespeare-markov); {name} is a {cls} "
                          f"({module}), which it does not evaluate")


def _print_metrics(m: dict) -> None:
    if "recall@1" in m:
        for k in (1, 5):
            print(f"  recall@{k}: a->b {m[f'recall@{k}']:.3f}  b->a {m[f'recall@{k}_b2a']:.3f}  "
                  f"(chance {m[f'chance@{k}']:.3f}, gallery {m['gallery_size']:.0f})")
    else:
        print(f"  mse {m['mse']:.4f} (predicting the training mean: {m['baseline_mse']:.4f}), r2 {m['r2']:.3f}")
