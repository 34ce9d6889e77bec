"""Rebuild the shipped processes and their zoo/index.json entries: ``python -m xmedia.zoo.build [NAME ...]``.

``BUILDERS`` names each shipped family and the function (``"module:function"``) that trains and saves it; a
builder returns ``{name: index entry}`` (see ``index_entry``) and only those entries of the index are replaced,
so ``python -m xmedia.zoo.build timbre`` leaves the others alone.

- ``text-perceptual@1``: words -> the eight perceptual axes, regression on the project's lexicon (adapters/perceptual_lexicon.csv).
- ``av-perceptual@1``: video <-> audio, contrastive on 1 s segments of the real clips that have their own sound
  (phone_portrait.mp4 and megamind.avi from ../shared/media/video), held out by whole 2 s time blocks.

Everything is seeded and runs single-threaded with torch's deterministic algorithms (``deterministic``), so two
rebuilds on one machine give identical weights; the embeddings cache (``$XMEDIA_CACHE``) only saves time.
"""
from __future__ import annotations

import argparse
import json
import os
from importlib import import_module
from pathlib import Path

import numpy as np

from xmedia.atomic import write_text
from xmedia.bridges.recipes import train_recipe
from xmedia.formats import tagged

from . import INDEX, INDEX_KIND, ZOO_DIR, index, index_entry, recipe

AV_CLIPS = ("phone_portrait.mp4", "megamind.avi")
DEFAULT_MEDIA = ZOO_DIR.parents[1] / "shared" / "media"
DEFAULT_CORPORA = ZOO_DIR.parents[1] / "shared" / "corpora"
BUILDERS = {
    "bridges": "xmedia.zoo.build:build_bridges",
    "style": "xmedia.zoo.build_style:build_style",
    "text": "xmedia.zoo.build_text:build_text",
    "onsets": "xmedia.zoo.build_onsets:build_onsets",
    "timbre": "xmedia.zoo.build_timbre:build_timbres",
    "music": "xmedia.zoo.build_music:build_music",
}
CV_SPLITS = 10


def av_files(media_dir) -> list[Path]:
    return [Path(media_dir) / "video" / name for name in AV_CLIPS]


def cross_validated(rec: dict, files, cache_dir=None, splits: int = CV_SPLITS) -> dict:
    """Held-out metrics averaged over ``splits`` random block splits (seeds 0..splits-1): one split of a few
    seconds is noisy, the mean says more."""
    from scipy.stats import binom

    rows = [train_recipe(rec, files, cache_dir=cache_dir, progress=False, seed=s).metrics for s in range(splits)]
    keys = ("recall@1", "recall@5", "recall@1_b2a", "recall@5_b2a", "chance@1", "chance@5", "n")
    out = {f"mean over {splits} splits {k}": round(float(np.mean([r[k] for r in rows])), 4) for k in keys}
    # Few queries per split: pool them and ask how likely that many top-1 hits are by chance (one-sided binomial).
    hits = int(round(sum(r["recall@1"] * r["n"] for r in rows)))
    queries = int(round(sum(r["n"] for r in rows)))
    p_chance = float(np.mean([r["chance@1"] for r in rows]))
    out[f"pooled over {splits} splits top-1 hits"] = f"{hits}/{queries}"
    out[f"pooled over {splits} splits p-value vs chance"] = float(f"{binom.sf(hits - 1, queries, p_chance):.2g}")
    return out


def build_bridges(media_dir=DEFAULT_MEDIA, cache_dir=None, progress: bool | None = None, **_) -> dict:
    """``text-perceptual@1`` and ``av-perceptual@1``."""
    entries = {}
    text = train_recipe(recipe("text-perceptual"), out_dir=ZOO_DIR / "text-perceptual" / "1", progress=progress,
                        card={"reproduce": "python -m xmedia.zoo.build bridges: bit for bit, two rebuilds on one "
                                           "machine give identical bytes (seeded, single-threaded, torch "
                                           "deterministic algorithms)",
                              "description": "Words -> the eight perceptual axes (hashed character n-grams + MLP); "
                                             "unseen words map through the n-grams they share with known ones."})
    print(text.summary())
    entries["text-perceptual"] = text
    files = av_files(media_dir)
    rec = recipe("av-perceptual")
    cv = cross_validated(rec, files, cache_dir)
    av = train_recipe(rec, files, out_dir=ZOO_DIR / "av-perceptual" / "1", cache_dir=cache_dir, progress=progress,
                      card={"reproduce": "python -m xmedia.zoo.build bridges: bit for bit from the same cached "
                                         "features ($XMEDIA_CACHE); from scratch, the video features of two "
                                         "processes can differ by one float32 step (6e-8 in a few values), which "
                                         "training amplifies. The source is not pinned down (torch, OpenCV and "
                                         "BLAS run single-threaded): keep the cache to reproduce these weights.",
                            "description": "Video segment <-> its own sound: two SyncTowers over the temporal "
                                           "profiles of the perceptual tracks (see docs/training.md). Held-out "
                                           f"moments, mean over {CV_SPLITS} block splits: " + ", ".join(
                                               f"{k.split(' splits ', 1)[-1]} {v}" for k, v in cv.items()),
                            "cross_validation": cv,
                            "licence": "Apache-2.0 (weights); trained on OpenCV sample footage (BSD-3-Clause)"})
    print(av.summary())
    print(json.dumps(cv, indent=1))
    entries["av-perceptual"] = av
    return {name: {"1": index_entry(result.extra["out_dir"], result.process)} for name, result in entries.items()}


def write_entries(entries: dict) -> dict:
    """Replace these ``{name: {revision: entry}}`` in zoo/index.json, keeping every other entry."""
    merged = {**index(), **entries}
    body = json.loads(json.dumps(merged, sort_keys=True))
    write_text(INDEX, json.dumps(tagged(INDEX_KIND, body), indent=2) + "\n")
    return merged


def build(names=None, media_dir=DEFAULT_MEDIA, corpora_dir=DEFAULT_CORPORA, cache_dir=None,
          progress: bool | None = None) -> dict:
    """Run the builders in ``names`` (default all) and write their entries into zoo/index.json."""
    unknown = sorted(set(names or ()) - set(BUILDERS))
    if unknown:
        raise SystemExit(f"unknown builder(s) {unknown}; choose from {sorted(BUILDERS)}")
    deterministic()
    entries = {}
    for name in names or BUILDERS:
        module, function = BUILDERS[name].split(":")
        entries.update(getattr(import_module(module), function)(
            media_dir=media_dir, corpora_dir=corpora_dir, cache_dir=cache_dir, progress=progress))
    return write_entries(entries)


def deterministic() -> None:
    """Same inputs, same bytes: one thread (a multi-threaded sum adds in a varying order: torch, OpenCV's optical
    flow) and torch's deterministic kernels; every builder seeds its own generators (torch, numpy)."""
    import cv2
    import torch

    cv2.setNumThreads(1)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m xmedia.zoo.build", description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", help=f"builders to run (default all: {', '.join(BUILDERS)})")
    p.add_argument("--media", default=str(DEFAULT_MEDIA), help="the shared media folder (with video/)")
    p.add_argument("--corpora", default=str(DEFAULT_CORPORA), help="the shared corpora folder")
    p.add_argument("--cache", default=None, help="embeddings cache folder (default $XMEDIA_CACHE)")
    args = p.parse_args(argv)
    build(args.names, args.media, args.corpora, args.cache)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
