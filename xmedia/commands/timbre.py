"""CLI: timbre imprint, blends, sound effects from motion, and ``xmedia train timbre``.

- ``xmedia translate voice.wav --to audio --timbre violin -o out.wav``: the voice's melody and dynamics played by
  a trained timbre (a folder, a zoo name, or a blend ``--timbre "violin:0.7,flute:0.3"``).
- ``xmedia translate fire.mp4 --to audio --style sfx [--preset fire|water|wind] -o out.mp4``: procedural sound
  effects driven by the picture's motion; with ``--timbre violin`` the motion plays the timbre instead.
- ``xmedia train timbre --data recordings/ -o my_timbre/``: train a timbre (progress bar, loss PNG, early stop).

The options select the route (``timbre=`` the timbre decoder, ``style="sfx"`` the sound-effect decoder); this
area only turns flags into options. A video's result is written by the soundtrack area (alone or muxed).
"""
from __future__ import annotations

import sys
from pathlib import Path

from xmedia.errors import ConfigError

from . import Trainer, flag_options

FLAGS = ("timbre", "preset", "octave", "instrument")


def add_translate_arguments(parser) -> None:
    have = parser._option_string_actions
    group = parser.add_argument_group("timbre and sound effects (audio/video -> audio)")
    flags = [
        ("--timbre", dict(metavar="NAME|DIR", help="play the input with a trained timbre: zoo name (violin, flute), "
                                                   "folder, or blend 'violin:0.7,flute:0.3'")),
        ("--preset", dict(choices=("fire", "water", "wind"), help="with --style sfx: the sound effect (default fire)")),
        ("--octave", dict(help="with --timbre: octaves to move the melody (default auto: into the timbre's range)")),
        ("--instrument", dict(metavar="NAME|DIR", help="the composer's melodic notes played by a trained timbre")),
        ("--style", dict(help="sfx: sound effects driven by the picture's motion")),
    ]
    for flag, kw in flags:
        if flag not in have:
            group.add_argument(flag, **kw)


def translate_options(args, to) -> dict:
    if to != "audio":
        return {}
    options = flag_options(args, FLAGS)
    if "octave" in options and options["octave"] != "auto":
        try:
            options["octave"] = int(options["octave"])
        except ValueError:
            raise ConfigError(f"--octave takes 'auto' or a whole number, got {options['octave']!r}") from None
    return options


def add_train_arguments(p) -> None:
    p.add_argument("--data", required=True,
                   help="folder (or .jsonl manifest) of recordings of ONE instrument or voice (a few minutes)")
    p.add_argument("-o", "--output", required=True, help="folder to save the trained timbre in")
    p.add_argument("--minutes", type=float, default=20.0, help="training time limit in minutes (default 20)")
    p.add_argument("--steps", type=int, default=4000, help="maximum training steps (default 4000)")
    p.add_argument("--holdout", type=float, default=0.15, help="fraction of whole files held out (default 0.15)")
    p.add_argument("--pitch", default="auto", choices=("auto", "crepe", "yin"), help="pitch tracker")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fine-tune", metavar="NAME|DIR", help="start from a trained timbre instead of from scratch")
    p.add_argument("--report", help="loss-curve PNG (default OUTPUT/loss.png)")


def run_train(args) -> int:
    import torch

    from xmedia.adapters.timbre.blend import load_timbre
    from xmedia.adapters.timbre.model import Timbre
    from xmedia.adapters.timbre.train import write_loss_report
    from xmedia.scale import is_main_process

    torch.set_num_threads(1)
    out = Path(args.output)
    report = Path(args.report) if args.report else out / "loss.png"
    options = dict(max_minutes=args.minutes, max_steps=args.steps, holdout=args.holdout, pitch=args.pitch,
                   seed=args.seed, progress=sys.stderr.isatty())
    if args.fine_tune:
        base = load_timbre(args.fine_tune)
        model = base.__class__(**base.config)
        model.load_state_dict(base.state_dict())
        options["learning_rate"] = 3e-4
    else:
        model = Timbre(seed=args.seed)
    result = model.fit(args.data, **options)
    if not is_main_process():  # torchrun: the other ranks trained in step; rank 0 writes
        return 0
    card = {"title": out.name or "timbre",
            "description": f"timbre trained on {args.data}; held-out multi-scale spectral loss "
                           f"{result['held_out_loss']}",
            "data": f"{args.data}: {len(result['train_files'])} files for training, held out: "
                    f"{', '.join(result['held_out_files'])}",
            "objective": "multi-scale spectral loss, early stopping on the held-out files",
            "reproduce": "xmedia train timbre " + " ".join(sys.argv[3:])}
    model.save_pretrained(out, card=card)  # replaces the folder: the loss curves are written after it
    write_loss_report(report, result["history"], f"timbre training: best held-out loss {result['held_out_loss']}")
    print(f"wrote {out} ({result['steps']} steps, {result['minutes']} min, held-out loss {result['held_out_loss']}; "
          f"loss curves {report})")
    if result["skipped"]:
        print(f"skipped {len(result['skipped'])} unreadable file(s): {result['skipped'][:3]}")
    return 0


TRAINERS = (Trainer("timbre", "train a timbre model (DDSP-style) on recordings of one instrument or voice",
                    add_train_arguments, run_train),)
