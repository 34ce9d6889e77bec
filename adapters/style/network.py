"""The fast style network: a small feed-forward image -> image model designed for a CPU (Johnson et al. 2016 form).

Where pytorch/examples' TransformerNet runs every layer at full or half resolution with 128 channels, this one
spends its work at 1/8 resolution: a stride-2 5x5 stem, two more stride-2 convs, depthwise-separable residual
blocks, nearest-neighbour upsampling with depthwise-separable convs and U-Net skips back to 1/2 resolution, where
it predicts the stylised picture. A full-resolution refinement (one 3x3 conv over the upsampled result beside
the input photo, then a 1x1) restores edges the low-resolution path cannot draw (a learned, edge-aware upsampler).
Instance normalisation (Ulyanov et al. 2016) throughout, as in fast style transfer.
"""
from __future__ import annotations

import copy
import warnings

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from xmedia.errors import ConfigError, MediaError
from xmedia.media import Image, downscale
from xmedia.process import Process

MULTIPLE = 8  # three stride-2 stages: inputs are padded to a multiple of 8
MIN_SIDE_PX = 32  # smaller inputs are padded (replicated edges) so the 1/8 stage keeps a few pixels
MAX_SIDE_PX = 2048  # larger content is downscaled first (a 10000 px photo would need gigabytes of activations)


def _norm(c: int) -> nn.Module:
    return nn.InstanceNorm2d(c, affine=True)


class SeparableConv(nn.Sequential):
    """Depthwise 3x3 then pointwise 1x1 (MobileNet): about 9x fewer multiply-adds than a dense 3x3."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__(nn.Conv2d(c_in, c_in, 3, padding=1, groups=c_in, padding_mode="reflect"),
                         nn.Conv2d(c_in, c_out, 1))


class Residual(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.body = nn.Sequential(SeparableConv(c, c), _norm(c), nn.ReLU(inplace=True), SeparableConv(c, c), _norm(c))

    def forward(self, x):
        return x + self.body(x)


class StyleNet(Process):
    """Photo -> the same photo painted in one learned style. ``forward(rgb01 (B,3,H,W)) -> rgb01``.

    ``run(image_or_frame_array, strength=1.0)`` is the media-level call (``xmedia.adapters.style.stylise`` is the
    route step that adds validation, blending and video)."""

    src, dst = "image", "image"
    # training defaults for the API and the CLI (``train.py``: the trainer's StyleTask):
    recipe = "recipe.json"

    def __init__(self, channels=[16, 32, 48], blocks: int = 4, refine_channels: int = 8):  # list: as JSON reads back
        super().__init__()
        c1, c2, c3 = (int(c) for c in channels)
        if min(c1, c2, c3, blocks, refine_channels) < 1:
            raise ConfigError(f"StyleNet needs positive channels/blocks, got {channels}, {blocks}, {refine_channels}")
        act = nn.ReLU(inplace=True)
        self.down1 = nn.Sequential(nn.Conv2d(3, c1, 5, stride=2, padding=2, padding_mode="reflect"), _norm(c1), act)
        self.down2 = nn.Sequential(nn.Conv2d(c1, c2, 3, stride=2, padding=1, padding_mode="reflect"), _norm(c2), act)
        self.down3 = nn.Sequential(nn.Conv2d(c2, c3, 3, stride=2, padding=1, padding_mode="reflect"), _norm(c3), act)
        self.blocks = nn.Sequential(*[Residual(c3) for _ in range(blocks)])
        self.up2 = nn.Sequential(SeparableConv(c3, c2), _norm(c2), nn.ReLU(inplace=True))
        self.up1 = nn.Sequential(SeparableConv(c2, c1), _norm(c1), nn.ReLU(inplace=True))
        self.to_rgb = nn.Conv2d(c1, 3, 3, padding=1, padding_mode="reflect")
        self.refine = nn.Sequential(nn.Conv2d(6, refine_channels, 3, padding=1, padding_mode="reflect"),
                                    nn.ReLU(inplace=True), nn.Conv2d(refine_channels, 3, 1))

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        h, w = rgb.shape[-2:]
        ph, pw = max(MIN_SIDE_PX - h, (-h) % MULTIPLE), max(MIN_SIDE_PX - w, (-w) % MULTIPLE)
        x = F.pad(rgb, (0, pw, 0, ph), mode="replicate") if ph or pw else rgb
        d1 = self.down1(x)
        d2 = self.down2(d1)
        y = self.blocks(self.down3(d2))
        y = self.up2(F.interpolate(y, scale_factor=2.0, mode="nearest")) + d2
        y = self.up1(F.interpolate(y, scale_factor=2.0, mode="nearest")) + d1
        half = torch.sigmoid(self.to_rgb(y))
        up = F.interpolate(half, size=x.shape[-2:], mode="bilinear", align_corners=False)
        out = up + self.refine(torch.cat([up, x], dim=1))
        out = out[..., :h, :w]
        return out if self.training else out.clamp(0.0, 1.0)

    def run(self, x, strength: float = 1.0):
        """An ``Image`` (or ``(H, W, 3)`` uint8 array) -> the stylised ``Image`` (array), ``strength`` mixing
        the input (0) with the full style (1)."""
        strength = check_strength(strength)
        rgb, alpha = content_rgb(x)
        out = apply_network(self, rgb, strength)
        if isinstance(x, np.ndarray):
            return out
        return Image(out if alpha is None else np.dstack([out, alpha]))

    @classmethod
    def check_family_options(cls, options: dict) -> dict:
        from .train import check_options

        return check_options(options)

    def training_task(self, data, style, **options):
        """``fit(data, style=...)``: content ``data`` (folder / files / manifests / arrays) towards ``style`` (a
        painting, a film clip or a list of pictures), through the one trainer (``xmedia.trainer``)."""
        from .train import StyleTask

        return StyleTask(self, data, style, **options)

    @classmethod
    def blend_outputs(cls, a, b, t: float) -> "StyleMix":
        """Two style networks that cannot be interpolated: a ``StyleMix`` of their pictures (a copy of ``a`` at
        ``t = 0``, of ``b`` at ``t = 1``)."""
        return StyleMix.between(a, b, t)


class StyleMix(Process):
    """Several style networks' outputs mixed with fixed weights (when their weights cannot be interpolated).

    A process like the networks it mixes: its config records each member (``xmedia.blend.process_spec``) and the
    weights, its state holds the members' weights, so ``save_pretrained``/``from_pretrained`` round-trip it.
    ``StyleMix.of(nets, weights)`` builds one from loaded networks."""

    src, dst = "image", "image"

    def __init__(self, members: list, weights: list):
        from xmedia.blend import build_process, check_weights

        super().__init__()
        if len(members) != len(weights) or not members:
            raise ConfigError(f"StyleMix needs one weight per member, got {len(members)} and {len(weights)}")
        self.nets = nn.ModuleList(build_process(m, (StyleNet, StyleMix)) for m in members)
        self.register_buffer("weights", torch.tensor(check_weights(weights, "style"), dtype=torch.float32))

    @classmethod
    def of(cls, nets, weights) -> "StyleMix":
        """The mix of loaded networks (``StyleNet``s or mixes, whose members are taken in): their weights are
        copied in."""
        from xmedia.blend import check_weights, process_spec

        flat = []
        for net, w in zip(nets, check_weights(weights, "style")):
            if isinstance(net, StyleMix):
                flat += [(n, w * float(v)) for n, v in zip(net.nets, net.weights)]
            elif isinstance(net, Process):
                flat.append((net, w))
            else:
                raise ConfigError(f"a style mix takes StyleNet processes, not a {type(net).__name__}")
        mix = cls([process_spec(n) for n, _ in flat], [w for _, w in flat])
        for mine, (net, _) in zip(mix.nets, flat):
            mine.load_state_dict(net.state_dict())
        return mix.eval()

    @classmethod
    def between(cls, a, b, t: float):
        return copy.deepcopy(a if t == 0.0 else b) if t in (0.0, 1.0) else cls.of([a, b], [1.0 - t, t])

    blend_outputs = between

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        return sum(w * net(rgb) for w, net in zip(self.weights, self.nets))

    run = StyleNet.run


def to_tensor(rgb_uint8) -> torch.Tensor:
    """(H, W, 3) uint8 -> (1, 3, H, W) float in [0, 1]."""
    return torch.from_numpy(np.array(rgb_uint8, dtype=np.uint8)).permute(2, 0, 1).unsqueeze(0).float().div_(255.0)


def to_uint8(t: torch.Tensor):
    """(1, 3, H, W) float in [0, 1] -> (H, W, 3) uint8."""
    return t[0].clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).contiguous().numpy()


def content_rgb(x, max_side_px: int = MAX_SIDE_PX) -> tuple[np.ndarray, np.ndarray | None]:
    """An ``Image`` / array as RGB uint8 (grayscale expanded) and its alpha (kept aside, ``None`` if opaque)."""
    if isinstance(x, np.ndarray):
        x = Image(x)
    if not isinstance(x, Image):
        raise MediaError(f"style transfer takes an Image (or video frames), got {type(x).__name__}")
    rgb = x.rgb_uint8()
    alpha = np.round(x.to_float()[..., 3] * 255).astype(np.uint8) if x.has_alpha else None
    if max(rgb.shape[:2]) > max_side_px:
        warnings.warn(f"the photo is {x.width}x{x.height}: styling it at {max_side_px} px on its longer side "
                      f"(pass max_side_px= to change)", stacklevel=3)
        rgb = downscale(rgb, max_side_px)
        if alpha is not None:
            alpha = downscale(np.repeat(alpha[..., None], 3, axis=2), max_side_px)[..., 0]
    return np.ascontiguousarray(rgb), alpha


def apply_network(net: nn.Module, rgb: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """One RGB uint8 picture through a style network, mixed with the picture by ``strength``."""
    if net.training:
        net.eval()  # instance norm uses the picture's own statistics either way; eval also clamps the output
    with torch.no_grad():
        x = to_tensor(rgb)
        y = net(x)
        if strength != 1.0:
            y = x + float(strength) * (y - x)
        return to_uint8(y)


def check_strength(strength) -> float:
    s = float(strength)
    if not np.isfinite(s) or not 0.0 <= s <= 2.0:
        raise ConfigError(f"strength must be between 0 (the photo) and 1 (the full style; up to 2 exaggerates), "
                          f"got {strength}")
    return s
