"""Measuring style transfer against truths independent of the training loss, and the classical baselines.

- ``style_distance(image, style)``: relative Gram-matrix distance to the style picture in features the models
  never trained against: a *different* random network (another seed, 7/5/3 filters, max pooling, other widths)
  and a hand-made bank (RGB + 8 Gabor energies). 0 = the style's statistics; the photo itself is the baseline.
- ``ssim`` (Wang et al. 2004, Gaussian 11x11, on luminance) and ``edge_f_score`` (Canny edges of the result vs
  the photo, 2 px tolerance): how much of the content is kept.
- ``reinhard`` (Reinhard et al. 2001, Lab mean/std transfer) and ``histogram_match`` (per-channel CDF): the
  classical colour-only baselines.
- ``warping_error(frames_out, frames_in)``: mean |O_t - warp(O_{t-1})| over pixels visible in both frames,
  the flow computed on the *input* frames with Farneback (not the DIS flow the temporal mode uses).
"""
from __future__ import annotations

import numpy as np

MEASURE_SIDE_PX = 256


def _resize_short(rgb: np.ndarray, side: int) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    s = side / min(h, w)
    return cv2.resize(rgb, (max(side, round(w * s)), max(side, round(h * s))), interpolation=cv2.INTER_AREA)


def _gabor_bank():
    import cv2

    return [cv2.getGaborKernel((15, 15), sigma, theta, lambd, 0.5, 0, ktype=cv2.CV_32F)
            for sigma, lambd in ((2.0, 5.0), (4.0, 10.0)) for theta in np.arange(4) * np.pi / 4]


def _filter_bank_features(rgb: np.ndarray) -> np.ndarray:
    import cv2

    x = rgb.astype(np.float32) / 255.0
    grey = cv2.cvtColor(x, cv2.COLOR_RGB2GRAY)
    maps = [x[..., c] - 0.5 for c in range(3)]
    maps += [np.abs(cv2.filter2D(grey, cv2.CV_32F, k)) for k in _gabor_bank()]
    return np.stack(maps).reshape(len(maps), -1)


def _gram_np(f: np.ndarray) -> np.ndarray:
    return f @ f.T / f.shape[1]


_NET = {}


def _independent_net():
    """A random network unrelated to the training one: other seed, filter sizes, widths and pooling."""
    if "net" not in _NET:
        from .features import RandomFeatures

        _NET["net"] = RandomFeatures(seed=20170418, channels=(48, 64, 128), kernels=(7, 5, 3), pool="max").eval()
    return _NET["net"]


def grams(rgb: np.ndarray) -> list[np.ndarray]:
    """The measuring Gram matrices of a picture (shorter side resized to 256 px)."""
    import torch

    from .features import gram

    small = _resize_short(rgb, MEASURE_SIDE_PX)
    with torch.no_grad():
        t = torch.from_numpy(np.ascontiguousarray(small)).permute(2, 0, 1).unsqueeze(0).float() / 255.0
        out = [gram(f)[0].numpy() for f in _independent_net()(t)]
    return out + [_gram_np(_filter_bank_features(small))]


def style_distance(rgb: np.ndarray, style_rgb: np.ndarray, parts: bool = False):
    """Mean over the measuring feature sets of ||G(x) - G(style)||_F / ||G(style)||_F (lower = closer)."""
    a, b = grams(rgb), grams(style_rgb)
    d = [float(np.linalg.norm(x - y) / max(np.linalg.norm(y), 1e-12)) for x, y in zip(a, b)]
    return (float(np.mean(d)), d) if parts else float(np.mean(d))


def texture_distance(rgb: np.ndarray, style_rgb: np.ndarray) -> float:
    """Texture only: the relative Gram distance of Gabor energies of the luminance standardised to zero mean and
    unit spread, so colour and global contrast (what colour-transfer baselines change) do not count."""
    import cv2

    def gabor_gram(x):
        grey = cv2.cvtColor(_resize_short(x, MEASURE_SIDE_PX), cv2.COLOR_RGB2GRAY).astype(np.float32)
        grey = (grey - grey.mean()) / max(float(grey.std()), 1e-3)
        maps = np.stack([np.abs(cv2.filter2D(grey, cv2.CV_32F, k)) for k in _gabor_bank()])
        return _gram_np(maps.reshape(len(maps), -1))

    a, b = gabor_gram(rgb), gabor_gram(style_rgb)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-12))


def reinhard(content: np.ndarray, style: np.ndarray) -> np.ndarray:
    """Colour transfer in Lab: the photo's per-channel mean and spread moved to the style's."""
    import cv2

    c = cv2.cvtColor(content.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    s = cv2.cvtColor(style.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    cm, cs = c.reshape(-1, 3).mean(0), c.reshape(-1, 3).std(0) + 1e-6
    sm, ss = s.reshape(-1, 3).mean(0), s.reshape(-1, 3).std(0)
    out = cv2.cvtColor(((c - cm) / cs * ss + sm).astype(np.float32), cv2.COLOR_LAB2RGB)
    return np.clip(np.round(out * 255), 0, 255).astype(np.uint8)


def histogram_match(content: np.ndarray, style: np.ndarray) -> np.ndarray:
    """Each RGB channel's histogram matched to the style's (exact CDF mapping)."""
    out = np.empty_like(content)
    for ch in range(3):
        src_vals, src_idx, src_counts = np.unique(content[..., ch].ravel(), return_inverse=True, return_counts=True)
        ref_vals, ref_counts = np.unique(style[..., ch].ravel(), return_counts=True)
        src_cdf = np.cumsum(src_counts) / content[..., ch].size
        ref_cdf = np.cumsum(ref_counts) / style[..., ch].size
        out[..., ch] = np.interp(src_cdf, ref_cdf, ref_vals)[src_idx].reshape(content.shape[:2]).round()
    return out


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Structural similarity of the luminance of two same-size RGB uint8 pictures."""
    import cv2

    x = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(np.float64)
    y = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY).astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(z):
        return cv2.GaussianBlur(z, (11, 11), 1.5)

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    m = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(m[5:-5, 5:-5].mean()) if min(m.shape) > 10 else float(m.mean())


def edges(rgb: np.ndarray) -> np.ndarray:
    import cv2

    grey = cv2.GaussianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (5, 5), 1.2)
    return cv2.Canny(grey, 60, 150) > 0


def edge_f_score(result: np.ndarray, content: np.ndarray, tolerance_px: int = 2) -> float:
    """F1 of the result's edges against the photo's, an edge counting when one lies within ``tolerance_px``."""
    import cv2

    er, ec = edges(result), edges(content)
    if not ec.any() or not er.any():
        return float(ec.any() == er.any())
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * tolerance_px + 1,) * 2)
    near_c = cv2.dilate(ec.astype(np.uint8), k) > 0
    near_r = cv2.dilate(er.astype(np.uint8), k) > 0
    precision, recall = (er & near_c).sum() / er.sum(), (ec & near_r).sum() / ec.sum()
    return float(2 * precision * recall / max(precision + recall, 1e-12))


def farneback_flow(a_rgb: np.ndarray, b_rgb: np.ndarray) -> np.ndarray:
    """Dense flow from picture a to b (for each pixel of a, where it went in b), Farneback."""
    import cv2

    ga, gb = (cv2.cvtColor(x, cv2.COLOR_RGB2GRAY) for x in (a_rgb, b_rgb))
    return cv2.calcOpticalFlowFarneback(ga, gb, None, 0.5, 4, 21, 5, 5, 1.1, 0)


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Sample ``image`` at ``p + flow(p)`` (backward warping)."""
    import cv2

    h, w = flow.shape[:2]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(image, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def visible_mask(flow_bw: np.ndarray, flow_fw: np.ndarray) -> np.ndarray:
    """Pixels of frame t whose backward flow is undone by the forward flow (Sundaram et al. 2010): not occluded."""
    back = warp(flow_fw, flow_bw)
    err = ((flow_bw + back) ** 2).sum(-1)
    return err < 0.01 * ((flow_bw ** 2).sum(-1) + (back ** 2).sum(-1)) + 0.5


def warping_error(frames_out, frames_in) -> float:
    """Mean over consecutive pairs of mean |O_t - warp(O_{t-1})| (RGB in [0, 1]) on visible pixels, the flow
    from the input frames."""
    errs = []
    for t in range(1, len(frames_in)):
        bw = farneback_flow(frames_in[t], frames_in[t - 1])
        fw = farneback_flow(frames_in[t - 1], frames_in[t])
        mask = visible_mask(bw, fw)
        if not mask.any():
            continue
        diff = np.abs(frames_out[t].astype(np.float32) - warp(frames_out[t - 1], bw).astype(np.float32)) / 255.0
        errs.append(float(diff[mask].mean()))
    return float(np.mean(errs)) if errs else 0.0
