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

from xmedia.adapters.timbre.sfx import PRESETS
from xmedia.errors import ConfigError

from . import Flag
from .training import ProcessTrainer, TrainFlag

ORDER = 70  # where this area's hooks run among the others' (xmedia.commands.areas)


def octave_option(value: str) -> dict:
    """``--octave auto`` or a whole number of octaves, as the timbre decoder's ``octave`` option."""
    if value == "auto":
        return {"octave": value}
    try:
        return {"octave": int(value)}
    except ValueError:
        raise ConfigError(f"--octave takes 'auto' or a whole number, got {value!r}") from None


TRANSLATE_GROUP = "timbre and sound effects (audio/video -> audio)"
TRANSLATE_FLAGS = (  # --style sfx (sound effects from motion) is declared by the style area
    Flag("timbre", "play the input with a trained timbre: zoo name (violin, flute), folder, or blend "
                   "'violin:0.7,flute:0.3'", metavar="NAME|DIR"),
    Flag("preset", "with --style sfx: the sound effect (default fire)", choices=PRESETS),
    Flag("octave", "with --timbre: octaves to move the melody (default auto: into the timbre's range)",
         to_options=octave_option),
    Flag("instrument", "the composer's melodic notes played by a trained timbre", metavar="NAME|DIR"),
)


def _timbre(args, model_options):
    """A fresh timbre, its initial weights drawn from --seed (as ``Timbre(seed=...)``)."""
    from xmedia.adapters.timbre.model import Timbre

    return Timbre(**{"seed": args.seed or 0, **model_options})


def _card(args, result) -> dict:
    x = result.extra
    return {"data": f"{', '.join(map(str, args.data))}: {len(x['train_files'])} files for training, held out: "
                    f"{', '.join(x['held_out_files'])}",
            "objective": "multi-scale spectral loss, early stopping on the held-out files"}


def _skipped(args, result, out) -> list:
    if result.extra.get("skipped"):
        print(f"skipped {len(result.extra['skipped'])} unreadable file(s): {result.extra['skipped'][:3]}")
    return []


TRAINERS = (ProcessTrainer(
    "timbre", "train a timbre model (DDSP-style) on recordings of one instrument or voice",
    "xmedia.adapters.timbre.model:Timbre",
    "folder (or .jsonl manifest) of recordings of ONE instrument or voice (a few minutes)",
    flags=(TrainFlag("holdout", float, "fraction of whole files held out, in (0, 1)"),
           TrainFlag("pitch", str, "pitch tracker", choices=("auto", "crepe", "yin"))),
    threads=1, build=_timbre, card=_card, after_save=_skipped).as_trainer(),)
