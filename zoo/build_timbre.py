"""The shipped timbres: ``python -m xmedia.zoo.build timbre`` trains ``violin`` and ``flute`` (at most 5 and 3.5
minutes on one core) from ``../shared/corpora/timbre/`` and writes their zoo entries (no route step: a timbre
is loaded by name, ``--timbre violin``). The shipped weights were trained on a budget of CPU minutes; the one
trainer (``xmedia.trainer``) counts wall-clock minutes, so a rebuild on a busy machine trains fewer steps.

Both folders hold single notes of the University of Iowa Musical Instrument Samples; whole notes are held out
(15 %, seeded) for early stopping and for the numbers in the model card. The training notes' pitch is tracked
with YIN (the notes are clean and single; torchcrepe would take most of the CPU budget on this machine).
"""
from __future__ import annotations

from pathlib import Path

import torch

from xmedia.adapters.timbre.model import Timbre
from xmedia.trainer import plot_history

from . import ZOO_DIR, index_entry

DEFAULT_CORPORA = ZOO_DIR.parents[1] / "shared" / "corpora"  # as zoo/build.py (which names this module: no import)

LICENCE = ("weights Apache-2.0; trained on the University of Iowa Musical Instrument Samples (free to use, "
           "https://theremin.music.uiowa.edu/MIS.html)")
SHIPPED = {  # name: (corpus folder, minutes of training at most, description)
    "violin": ("violin", 5.0, "arco notes, sul A/D/G/E, ff"),
    "flute": ("flute", 3.5, "vibrato notes, ff"),
}


def build_timbre(name: str, corpora_dir=DEFAULT_CORPORA, progress: bool | None = None, seed: int = 0) -> tuple:
    folder, minutes, what = SHIPPED[name]
    data = Path(corpora_dir) / "timbre" / folder
    torch.manual_seed(seed)
    model = Timbre(seed=seed)
    out = ZOO_DIR / name / "1"
    result = model.fit(data, max_minutes=minutes, max_steps=3000, seed=seed, progress=progress, pitch="yin")
    x, loss = result.extra, round(result.best_val, 4)
    card = {
        "title": f"{name} timbre",
        "description": f"DDSP-style {name} timbre (harmonic bank + filtered noise + learnt reverb, GRU controls); "
                       f"held-out multi-scale spectral loss {loss}",
        "data": f"../shared/corpora/timbre/{folder}/ ({what}): {len(x['train_files'])} notes for training, "
                f"{len(x['held_out_files'])} whole notes held out: {', '.join(x['held_out_files'])}",
        "objective": "multi-scale spectral loss (FFT 2048..64, linear + log magnitudes), early stopping on the "
                     "held-out notes",
        "metrics": {"held-out multi-scale spectral loss": loss, "steps": result.steps,
                    "training wall minutes (1 thread, pitch tracking included)": round(result.seconds / 60, 2),
                    "pitch tracker": x["pitch"],
                    "benchmark": "python benchmarks/bench_timbre.py (spectral distance vs sine and pitch-shifted "
                                 "nearest-note baselines, imprint pitch error, real-time factor)"},
        "licence": LICENCE,
        "reproduce": f"python -m xmedia.zoo.build timbre  (or: xmedia train timbre --data "
                     f"../shared/corpora/timbre/{folder} -o {name}/)",
    }
    model.save_pretrained(out, card=card)
    plot_history(result, out / "loss.png")
    print(f"{name}: {result.summary()}")
    return out, model


def build_timbres(corpora_dir=DEFAULT_CORPORA, progress: bool | None = None, names=None, **_) -> dict:
    entries = {}
    for name in names or SHIPPED:
        out, model = build_timbre(name, corpora_dir, progress)
        model.card = Timbre.from_pretrained(out).card
        entries[name] = {"1": index_entry(out, model, step=False)}
    return entries
