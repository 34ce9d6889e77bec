"""Zoo builder for the fast style models: ``python -m xmedia.zoo.build style``.

Two ``StyleNet``s, each trained once with a bounded number of steps on this CPU (seeded; same content pictures,
same initial weights, so their weights can also be interpolated):

- ``starry``: Van Gogh, The Starry Night (1889), public domain (corpora/style/jcjohnson_starry_night.jpg);
- ``wave``: Hokusai, The Great Wave off Kanagawa (c. 1831), public domain (corpora/style/lengstrom_wave.jpg).

Content pictures (the training split): the photos baboon, butterfly, home, orange (media/image) and frames of
fire_a, fire_b, megamind, phone_portrait (media/video) and of the nature/ clips. Held out for measuring: the
photos building and fruits, the clips tree.avi and pedestrians.avi (benchmarks/bench_style.py).
"""
from __future__ import annotations

from pathlib import Path

from xmedia.adapters.style.data import content_images, read_picture, style_images
from xmedia.adapters.style.measure import edge_f_score, reinhard, ssim, style_distance, texture_distance
from xmedia.adapters.style.network import StyleNet, apply_network

from . import ZOO_DIR, index_entry

STYLES = {
    "starry": ("jcjohnson_starry_night.jpg", "Vincent van Gogh, The Starry Night (1889)"),
    "wave": ("lengstrom_wave.jpg", "Katsushika Hokusai, The Great Wave off Kanagawa (c. 1831)"),
}
TRAIN_PHOTOS = ("baboon.jpg", "butterfly.jpg", "home.jpg", "orange.jpg")
TRAIN_CLIPS = ("fire_a.mp4", "fire_b.mp4", "megamind.avi", "phone_portrait.mp4")
HELD_OUT = {"photos": ("building.jpg", "fruits.jpg"), "clips": ("tree.avi", "pedestrians.avi")}
# holdout 0 and the last state kept: the shipped training (the held-out photos above are measured apart)
TRAINING = dict(max_steps=700, size_px=256, batch_size=2, learning_rate=2e-3, style_weight=10.0, content_weight=1.0,
                tv_weight=0.5, seed=0, max_minutes=25.0, holdout=0.0, restore_best=False)
REVISION = "1"


def training_files(media_dir, corpora_dir) -> list[Path]:
    media, corpora = Path(media_dir), Path(corpora_dir)
    files = [media / "image" / n for n in TRAIN_PHOTOS] + [media / "video" / n for n in TRAIN_CLIPS]
    nature = corpora / "nature"
    files += sorted(nature.glob("*.mp4")) if nature.is_dir() else []
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        raise SystemExit(f"style builder: missing training media {missing}")
    return files


def build_style(media_dir, corpora_dir, cache_dir=None, progress=None, names=None, **_) -> dict:
    """Train and save every style in ``STYLES`` (or ``names``); returns their zoo index entries."""
    import torch

    torch.set_num_threads(1)
    files = training_files(media_dir, corpora_dir)
    pictures = content_images(files)
    entries = {}
    for name in names or STYLES:
        painting, title = STYLES[name]
        torch.manual_seed(0)  # same initial weights for every style
        model = StyleNet()
        folder = ZOO_DIR / f"style-{name}" / REVISION
        result = model.fit(pictures, style=Path(corpora_dir) / "style" / painting, progress=progress, **TRAINING)
        folder.mkdir(parents=True, exist_ok=True)
        model.card = card(name, title, painting, files, result)
        model.card["metrics"] = held_out_metrics(model, Path(corpora_dir) / "style" / painting, media_dir)
        model.save_pretrained(folder)
        from xmedia.trainer import plot_history

        plot_history(result, folder / "loss.png", result.curves)
        entries[name] = {REVISION: index_entry(folder, model, step=False)}
    return entries


def held_out_metrics(model, painting: Path, media_dir) -> dict:
    """Independent style distance, texture distance, SSIM and edge F1 on the held-out photos, beside the
    unstyled photo and Reinhard colour transfer (the full table: benchmarks/bench_style.py)."""
    import numpy as np

    style = style_images(painting)[0]
    rows = {"model": [], "unstyled photo": [], "Reinhard colour transfer": []}
    for name in HELD_OUT["photos"]:
        photo = read_picture(Path(media_dir) / "image" / name, 384, "photo")
        for key, img in (("model", apply_network(model, photo)), ("unstyled photo", photo),
                         ("Reinhard colour transfer", reinhard(photo, style))):
            rows[key].append((style_distance(img, style), texture_distance(img, style), ssim(img, photo),
                              edge_f_score(img, photo)))
    out = {}
    for key, vals in rows.items():
        d, tx, s, e = np.mean(vals, axis=0)
        out[key] = (f"style distance {d:.3f}, texture distance {tx:.3f}, SSIM {s:.3f}, edge F1 {e:.3f} "
                    f"(held-out photos {', '.join(HELD_OUT['photos'])}; independent features, lower = closer)")
    return out


def card(name: str, title: str, painting: str, files, result) -> dict:
    return {
        "title": f"style: {name}",
        "description": f"fast style model: photos and video frames painted like {title}",
        "data": (f"style: corpora/style/{painting} ({title}; public domain). Content: "
                 f"{result.extra['content_pictures']} pictures - the photos {', '.join(TRAIN_PHOTOS)} (media/image) and "
                 f"evenly spaced frames of {', '.join(f.name for f in files if f.suffix != '.jpg')} (media/video, "
                 "corpora/nature). The video footage is for development and evaluation only (corpora README): "
                 "these weights inherit that restriction. Held out: " + "; ".join(f"{k}: {', '.join(v)}"
                                                                            for k, v in HELD_OUT.items())),
        "objective": ("Johnson et al. 2016 perceptual loss on a fixed random multi-scale conv network (seed 0): "
                      "Gram-matrix style loss on 3 stages + content loss on stage 2 + total variation"),
        "training": {**{k: v for k, v in result.options.items() if k not in ("progress", "report", "distributed")},
                     **TRAINING, "minutes": round(result.seconds / 60, 1), "final_loss": round(result.train_losses[-1], 4)},
        "licence": "weights: MIT (as xmedia); painting public domain; see data for the footage's terms",
        "reproduce": f"python -m xmedia.zoo.build style  (or: xmedia train style --style-image {painting} ...)",
    }
