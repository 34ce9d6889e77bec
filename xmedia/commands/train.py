"""``xmedia train NAME ...`` and ``xmedia eval BRIDGE --data DIR``.

NAME is a trainer that an area declares in its ``TRAINERS`` (``xmedia train visual-onsets --data DIR -o OUT``;
each has its own flags, see ``xmedia train NAME --help``), else a bridge recipe: a JSON file or the name of one
in zoo/recipes (``av-perceptual``, ``av-mlp``, ``text-perceptual``). BRIDGE is a zoo name (``av-perceptual@1``)
or a folder written by ``bridge.save(dir)``. Training code (torch) is imported when a verb runs, so
``xmedia --help`` stays light.
"""
from __future__ import annotations

import argparse

from xmedia.errors import ConfigError

from . import Trainer, areas
from .text import eval_text, is_text_model


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
    s.set_defaults(func=cmd_eval)


def recipe_parser(name: str) -> argparse.ArgumentParser:
    s = argparse.ArgumentParser(prog=f"xmedia train {name}", description="train a bridge from a recipe")
    s.add_argument("--data", help="folder of videos with sound, a video file, a manifest .csv or a lexicon .csv")
    s.add_argument("-o", "--output", required=True, help="folder to save the trained bridge in")
    s.add_argument("--epochs", type=int, help="maximum epochs (overrides the recipe)")
    s.add_argument("--seed", type=int, help="random seed for the split and the training")
    s.add_argument("--cache", help="embeddings cache folder (default $XMEDIA_CACHE or ~/.cache/xmedia)")
    s.add_argument("--report", help="loss-curve PNG (default OUTPUT/loss.png)")
    return s


def cmd_train(args) -> int:
    trainer = trainers().get(args.name)
    if trainer is not None:
        from xmedia.scale import LAUNCH_HINT

        parser = argparse.ArgumentParser(prog=f"xmedia train {trainer.name}", description=trainer.help,
                                         epilog=LAUNCH_HINT.format(name=trainer.name))
        trainer.add_arguments(parser)
        return trainer.run(parser.parse_args(args.rest))
    return train_recipe_command(args.name, recipe_parser(args.name).parse_args(args.rest))


def train_recipe_command(name: str, args) -> int:
    from xmedia.bridges.recipes import train_recipe
    from xmedia.zoo import recipe

    overrides = {k: v for k, v in (("epochs", args.epochs), ("seed", args.seed), ("report", args.report))
                 if v is not None}
    result = train_recipe(recipe(name), args.data, out_dir=args.output, cache_dir=args.cache, **overrides)
    print(result.summary())
    _print_metrics(result.metrics)
    print(f"wrote {args.output} (loss curve: {result.report_path})")
    return 0


def cmd_eval(args) -> int:
    if is_text_model(args.bridge):  # a text model: nats per character on --data
        return eval_text(args)
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


def _print_metrics(m: dict) -> None:
    if "recall@1" in m:
        for k in (1, 5):
            print(f"  recall@{k}: a->b {m[f'recall@{k}']:.3f}  b->a {m[f'recall@{k}_b2a']:.3f}  "
                  f"(chance {m[f'chance@{k}']:.3f}, gallery {m['gallery_size']:.0f})")
    else:
        print(f"  mse {m['mse']:.4f} (predicting the training mean: {m['baseline_mse']:.4f}), r2 {m['r2']:.3f}")
