"""Offline feature networks for style losses: multi-scale random conv filters, or CLIP when its weights are on disk.

No pretrained VGG or CLIP weights can be downloaded here, so the default loss network is the one Ustyuzhaninov,
Shi & Stein (ICLR 2017, "What does it take to generate natural textures?") showed to synthesise textures:
random, untrained convolution filters of several sizes with ReLUs. Ours is hierarchical and cheap: three stages
(5x5, then 3x3 after 2x average pooling, then 3x3 after another 2x), so the Gram matrices see receptive fields
from 5 to about 25 pixels of the input. Fixed seed -> the same filters everywhere (training and inference agree).

``feature_network("clip")`` uses the CLIP vision tower's patch tokens (``xmedia.adapters.weights`` finds the
weights offline); ``feature_network("random")`` is the default and always works.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from xmedia.errors import ConfigError, WeightsError

# Per-channel mean/std of natural images (sRGB in [0, 1]) so the random filters see centred input.
RGB_MEAN = (0.485, 0.456, 0.406)
RGB_STD = (0.229, 0.224, 0.225)


class RandomFeatures(nn.Module):
    """Random multi-scale conv features: ``forward(rgb01) -> [f1, f2, f3]`` (stage outputs, ReLU'd).

    ``channels``/``kernels`` give each stage's width and filter size; each stage after the first sees the
    previous one average-pooled by 2. Weights are He-normal from ``seed`` and never trained."""

    def __init__(self, seed: int = 0, channels=(32, 64, 96), kernels=(5, 3, 3), pool: str = "avg"):
        super().__init__()
        gen = torch.Generator().manual_seed(int(seed))
        self.convs = nn.ModuleList()
        c_in = 3
        for c, k in zip(channels, kernels):
            conv = nn.Conv2d(c_in, c, k, padding=k // 2, padding_mode="reflect")
            with torch.no_grad():
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen) * (2.0 / (c_in * k * k)) ** 0.5)
                conv.bias.zero_()
            conv.requires_grad_(False)
            self.convs.append(conv)
            c_in = c
        self.pool = pool
        self.register_buffer("mean", torch.tensor(RGB_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(RGB_STD).view(1, 3, 1, 1))

    def forward(self, rgb: torch.Tensor) -> list[torch.Tensor]:
        x = (rgb - self.mean) / self.std
        out = []
        for i, conv in enumerate(self.convs):
            if i:
                x = F.avg_pool2d(x, 2) if self.pool == "avg" else F.max_pool2d(x, 2)
            x = F.relu(conv(x))
            out.append(x)
        return out


class ClipFeatures(nn.Module):
    """CLIP's vision tower (transformers, weights found offline): patch tokens of a few layers as feature maps."""

    def __init__(self, layers=(2, 4, 6)):
        super().__init__()
        from xmedia.adapters import weights

        try:
            from transformers import CLIPVisionModel
        except ImportError as exc:
            raise WeightsError(f"features='clip' needs transformers ({exc})") from None
        folder = weights.locate("clip")
        with weights.offline():
            self.model = CLIPVisionModel.from_pretrained(str(folder)).eval().requires_grad_(False)
        self.layers = tuple(layers)
        self.register_buffer("mean", torch.tensor((0.4815, 0.4578, 0.4082)).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor((0.2686, 0.2613, 0.2758)).view(1, 3, 1, 1))

    def forward(self, rgb: torch.Tensor) -> list[torch.Tensor]:
        x = F.interpolate(rgb, size=(224, 224), mode="bilinear", align_corners=False)
        hidden = self.model(pixel_values=(x - self.mean) / self.std, output_hidden_states=True).hidden_states
        out = []
        for i in self.layers:
            tokens = hidden[i][:, 1:]  # drop the class token; the rest is a 7x7 (or 14x14...) grid
            side = int(round(tokens.shape[1] ** 0.5))
            out.append(tokens.transpose(1, 2).reshape(tokens.shape[0], -1, side, side))
        return out


def feature_network(name: str = "random", seed: int = 0) -> nn.Module:
    """The loss network: ``"random"`` (offline, default) or ``"clip"`` (when its weights are on disk)."""
    if name == "random":
        return RandomFeatures(seed=seed).eval()
    if name == "clip":
        return ClipFeatures().eval()
    raise ConfigError(f"unknown feature network {name!r}; use 'random' or 'clip'")


def gram(f: torch.Tensor) -> torch.Tensor:
    """Channel co-activation (Gram) matrices, normalised by the number of positions: (B, C, C)."""
    b, c, h, w = f.shape
    flat = f.reshape(b, c, h * w)
    return flat @ flat.transpose(1, 2) / (h * w)


def style_targets(net: nn.Module, style_rgb: torch.Tensor) -> list[torch.Tensor]:
    """Mean Gram matrices of one or more style images ``(N, 3, H, W)``: ``[(1, C, C)]`` per stage."""
    with torch.no_grad():
        return [gram(f).mean(0, keepdim=True) for f in net(style_rgb)]


def style_loss(feats: list[torch.Tensor], targets: list[torch.Tensor]) -> torch.Tensor:
    """Sum over stages of the squared Gram difference, each stage scaled by its target's size (stage-balanced)."""
    total = 0.0
    for f, t in zip(feats, targets):
        g = gram(f)
        total = total + ((g - t) ** 2).sum(dim=(1, 2)).mean() / (t ** 2).sum().clamp_min(1e-8)
    return total


def content_loss(feats: list[torch.Tensor], content_feats: list[torch.Tensor], stages=(1,)) -> torch.Tensor:
    """Mean squared feature difference at ``stages``, relative to the content features' energy."""
    total = 0.0
    for i in stages:
        total = total + F.mse_loss(feats[i], content_feats[i]) / content_feats[i].pow(2).mean().clamp_min(1e-8)
    return total


def tv_loss(x: torch.Tensor) -> torch.Tensor:
    """Total variation: mean absolute difference of neighbouring pixels."""
    return (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean()
