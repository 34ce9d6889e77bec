"""Training a ``StyleNet`` (Johnson et al. 2016): content pictures in, Gram-matrix style loss on a fixed feature
network (random multi-scale filters by default), content loss on its middle stage, a little total variation.

Random crops (``size_px``) with flips from the content pictures, ``batch`` at a time, Adam, a bounded number of
``steps`` (the loop also stops at ``max_minutes``); a progress bar when asked and a loss-curve PNG.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from xmedia.errors import ConfigError

from .data import content_images, style_images
from .features import content_loss, feature_network, style_loss, style_targets, tv_loss

DEFAULTS = dict(steps=800, size_px=256, batch=4, lr=2e-3, style_weight=8.0, content_weight=1.0, tv_weight=0.5,
                features="random", feature_seed=0, seed=0, max_minutes=30.0)


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


def train_style(model, data, style, progress: bool = False, report=None, log_every: int = 10,
                distributed: bool | None = None, **options) -> dict:
    """Train ``model`` in place; returns ``{"steps", "seconds", "loss", "style", "content", "tv"}`` histories.
    ``distributed``: data-parallel under ``torchrun`` (see ``xmedia.scale.runner``); each process crops its
    own pictures."""
    from xmedia.scale import runner

    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise ConfigError(f"unknown style-training option(s) {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    o = {**DEFAULTS, **options}
    if o["steps"] < 1 or o["size_px"] < 32 or o["batch"] < 1:
        raise ConfigError(f"steps >= 1, size_px >= 32 and batch >= 1 needed, got {o['steps']}, {o['size_px']}, "
                          f"{o['batch']}")
    r = runner(distributed)
    progress = progress and r.is_main
    torch.manual_seed(o["seed"])
    rng = np.random.default_rng(o["seed"] + r.process_index)
    pictures = content_images(data) if not _is_pictures(data) else list(data)
    styles = style_images(style)
    net = feature_network(o["features"], o["feature_seed"])
    targets = style_targets(net, style_batch(styles, o["size_px"]))
    opt = torch.optim.Adam(model.parameters(), lr=o["lr"])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, o["steps"], eta_min=o["lr"] * 0.1)
    gen, opt = r.prepare(model, opt)
    hist = {k: [] for k in ("step", "loss", "style", "content", "tv")}
    steps = range(o["steps"])
    if progress:
        from tqdm import tqdm

        steps = tqdm(steps, desc="style", unit="step")
    start = time.perf_counter()
    model.train()
    for i in steps:
        x = _crops(pictures, o["size_px"], o["batch"], rng)
        with torch.no_grad():
            cf = net(x)
        y = gen(x)
        f = net(y)
        ls, lc, lt = style_loss(f, targets), content_loss(f, cf), tv_loss(y)
        loss = o["style_weight"] * ls + o["content_weight"] * lc + o["tv_weight"] * lt
        opt.zero_grad()
        r.backward(loss)
        opt.step()
        sched.step()
        if i % log_every == 0 or i == o["steps"] - 1:
            for k, v in zip(hist, (i, loss, ls, lc, lt)):
                hist[k].append(float(v.detach()) if torch.is_tensor(v) else float(v))
            if progress:
                steps.set_postfix(loss=f"{float(loss):.3f}", style=f"{float(ls):.3f}", content=f"{float(lc):.3f}")
        if r.any(time.perf_counter() - start > 60 * o["max_minutes"]):
            break
    model.eval()
    result = {**hist, "seconds": time.perf_counter() - start, "options": o, "content_pictures": len(pictures),
              "style_pictures": len(styles)}
    if report and r.is_main:
        write_loss_report(result, report)
    return result


def _is_pictures(data) -> bool:
    return isinstance(data, (list, tuple)) and bool(data) and all(isinstance(d, np.ndarray) for d in data)


def write_loss_report(result: dict, path) -> None:
    """Loss curves (total, style, content, TV) against the training step, as a PNG."""
    from xmedia.report import pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
    o = result["options"]
    ax[0].plot(result["step"], result["loss"], label="total")
    ax[0].set_title(f"loss ({result['seconds'] / 60:.1f} min, {result['content_pictures']} content pictures)")
    for key, w in (("style", o["style_weight"]), ("content", o["content_weight"]), ("tv", o["tv_weight"])):
        ax[1].plot(result["step"], np.asarray(result[key]) * w, label=f"{key} x {w}")
    for a in ax:
        a.set_xlabel("step")
        a.set_yscale("log")
        a.legend()
    fig.tight_layout()
    save_figure(fig, path, dpi=90)
