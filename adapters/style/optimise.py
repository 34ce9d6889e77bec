"""Style transfer by optimisation (Gatys, Ecker & Bethge 2015): the pixels themselves are optimised so their
feature Gram matrices match the painting's while the middle-stage features stay the photo's. Slow, best quality,
no training: ``xmedia translate photo.jpg --to image --style-image painting.jpg``.
"""
from __future__ import annotations

import numpy as np
import torch

from xmedia.errors import ConfigError

from .features import content_loss, feature_network, style_loss, style_targets, tv_loss
from .train import style_batch


def optimise(content_rgb: np.ndarray, styles: list[np.ndarray], steps: int = 200, size_px: int = 384,
             style_weight: float = 8.0, content_weight: float = 1.0, tv_weight: float = 0.5, lr: float = 0.03,
             features: str = "random", feature_seed: int = 0, seed: int = 0, progress: bool = False) -> np.ndarray:
    """The photo (uint8 RGB) repainted with the style pictures' statistics; returned at the photo's size."""
    import cv2

    if steps < 1:
        raise ConfigError(f"optimisation steps must be >= 1, got {steps}")
    torch.manual_seed(seed)
    h, w = content_rgb.shape[:2]
    s = min(1.0, size_px / max(h, w))
    small = cv2.resize(content_rgb, (max(8, round(w * s)), max(8, round(h * s))), interpolation=cv2.INTER_AREA)
    x0 = torch.from_numpy(small).permute(2, 0, 1).unsqueeze(0).float().div(255.0)
    net = feature_network(features, feature_seed)
    targets = style_targets(net, style_batch(styles, min(max(small.shape[:2]), 512)))
    with torch.no_grad():
        cf = net(x0)
    # optimise in logit space so pixels stay in (0, 1) without clamping away the gradient
    z = torch.logit(x0.clamp(0.02, 0.98)).requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr * 10)
    it = range(steps)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc="optimise", unit="step")
    for _ in it:
        y = torch.sigmoid(z)
        f = net(y)
        loss = style_weight * style_loss(f, targets) + content_weight * content_loss(f, cf) + tv_weight * tv_loss(y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    out = (torch.sigmoid(z)[0].detach().permute(1, 2, 0).numpy() * 255).round().clip(0, 255).astype(np.uint8)
    if out.shape[:2] != (h, w):
        out = cv2.resize(out, (w, h), interpolation=cv2.INTER_CUBIC)
    return out
