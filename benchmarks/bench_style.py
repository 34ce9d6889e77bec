"""Style transfer benchmarks: style match, content kept, temporal stability, speed (issue 14).

    python benchmarks/bench_style.py [--quick] [--grid style_grid.png] [--skip-video]

Every number is printed beside its same-run reference:

- style match: relative Gram distance to the painting in an INDEPENDENT feature set (another random network:
  other seed, filter sizes, widths, max pooling; plus RGB + Gabor-energy statistics) on the held-out photos
  (building, fruits: never seen in training), for the unstyled photo (baseline), Reinhard colour transfer and
  histogram matching (classical baselines), the OTHER style's model (a control: styled, but not in this style),
  the fast model and Gatys optimisation; content kept: SSIM and edge F1 against the photo.
- temporal stability: warping error between consecutive styled frames (flow from the input frames, Farneback,
  occlusion-masked: not the DIS flow the method uses) for per-frame vs flow-guided styling on held-out clips,
  beside the input frames' own warping error.
- speed: the fast model on a 512x512 frame beside pytorch/examples' TransformerNet (untrained, same run, same
  threads); a 10 s 360p clip (waterfall.mp4) styled and written with its audio.
The machine may be shared: compare ratios, not absolute times.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

import xmedia
from xmedia.adapters.style.data import read_picture, style_images
from xmedia.adapters.style.measure import (
    edge_f_score,
    histogram_match,
    reinhard,
    ssim,
    style_distance,
    texture_distance,
    warping_error,
)
from xmedia.adapters.style.network import StyleNet, apply_network
from xmedia.adapters.style.optimise import optimise
from xmedia.adapters.style.report import style_grid
from xmedia.adapters.style.stylise import load_style, mix_styles
from xmedia.adapters.style.video import TemporalStyler
from xmedia.io import write_video_with_audio

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
STYLES = {"starry": "jcjohnson_starry_night.jpg", "wave": "lengstrom_wave.jpg"}
HELD_OUT_PHOTOS = ("building.jpg", "fruits.jpg")
HELD_OUT_CLIPS = (("media/video/pedestrians.avi", 40), ("media/video/tree.avi", 40),
                  ("corpora/av/bmt_women_long_jump.mp4", 60))
SPEED_CLIP = "corpora/nature/waterfall.mp4"


# pytorch/examples fast_neural_style TransformerNet (reference architecture, untrained)
class _ConvLayer(nn.Sequential):
    def __init__(self, cin, cout, k, stride):
        super().__init__(nn.ReflectionPad2d(k // 2), nn.Conv2d(cin, cout, k, stride))


class _Res(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.body = nn.Sequential(_ConvLayer(c, c, 3, 1), nn.InstanceNorm2d(c, affine=True), nn.ReLU(),
                                  _ConvLayer(c, c, 3, 1), nn.InstanceNorm2d(c, affine=True))

    def forward(self, x):
        return x + self.body(x)


class _Up(nn.Module):
    def __init__(self, cin, cout, k):
        super().__init__()
        self.conv = _ConvLayer(cin, cout, k, 1)

    def forward(self, x):
        return self.conv(nn.functional.interpolate(x, scale_factor=2, mode="nearest"))


def transformer_net():
    return nn.Sequential(
        _ConvLayer(3, 32, 9, 1), nn.InstanceNorm2d(32, affine=True), nn.ReLU(),
        _ConvLayer(32, 64, 3, 2), nn.InstanceNorm2d(64, affine=True), nn.ReLU(),
        _ConvLayer(64, 128, 3, 2), nn.InstanceNorm2d(128, affine=True), nn.ReLU(),
        *[_Res(128) for _ in range(5)],
        _Up(128, 64, 3), nn.InstanceNorm2d(64, affine=True), nn.ReLU(),
        _Up(64, 32, 3), nn.InstanceNorm2d(32, affine=True), nn.ReLU(),
        _ConvLayer(32, 3, 9, 1)).eval()


def best_time(fn, repeats=5) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def bench_speed(models) -> None:
    x = torch.rand(1, 3, 512, 512)
    ours = models["starry"]
    with torch.no_grad():
        t_ours = best_time(lambda: ours(x))
        t_ref = best_time(lambda: transformer_net()(x), repeats=2)
    print("\n## speed, one 512x512 frame (best of repeats; threads: %d)" % torch.get_num_threads())
    print(f"  StyleNet ({ours.num_parameters()} params)   {t_ours:7.3f} s   target <= 0.25 s")
    print(f"  TransformerNet (pytorch/examples, 1.68M params, same run) {t_ref:7.3f} s   ratio {t_ref / t_ours:5.1f}x")


def bench_clip_speed() -> None:
    path = SHARED / SPEED_CLIP
    if not path.exists():
        print(f"  (skipped: {path} missing)")
        return
    clip = xmedia.load(path)
    t = time.perf_counter()
    decode = sum(1 for _ in clip.iter_frames())
    t_decode = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "styled.mp4"
        t = time.perf_counter()
        styled = xmedia.translate(clip, to="video", style="starry")
        how = write_video_with_audio(styled, clip.audio, out)
        t_all = time.perf_counter() - t
        back = xmedia.load(out)
    print(f"\n## a {float(clip.duration_s):.1f} s {clip.width}x{clip.height} clip ({decode} frames), styled (temporal) "
          f"and written with its audio")
    print(f"  total {t_all:6.1f} s  (target < 60 s; decoding alone {t_decode:.1f} s, same run); "
          f"output {back.num_frames} frames, audio {'kept' if back.audio is not None else 'LOST'} ({how})")


def bench_style_match(models, quick: bool, grid: str | None) -> None:
    print("\n## style match on held-out photos: independent Gram distance to the painting (lower = closer; "
          "0 = the painting's statistics) and content kept vs the photo")
    print("  (style dist: independent random net + RGB/Gabor statistics; texture: Gabor energies of standardised "
          "luminance only, blind to colour)")
    print(f"  {'photo':12} {'style':7} {'method':22} {'style dist':>10} {'texture':>7} {'SSIM':>6} {'edge F1':>7}")
    rows, sums = [], {}
    for photo_name in HELD_OUT_PHOTOS:
        photo = read_picture(SHARED / "media" / "image" / photo_name, 384, "photo")
        for name, painting in STYLES.items():
            style = style_images(SHARED / "corpora" / "style" / painting)[0]
            other = [n for n in STYLES if n != name][0]
            outs = {"unstyled photo": photo, "Reinhard colour": reinhard(photo, style),
                    "histogram match": histogram_match(photo, style),
                    f"other style ({other})": apply_network(models[other], photo),
                    "fast model": apply_network(models[name], photo)}
            if not quick:
                outs["Gatys (150 steps)"] = optimise(photo, [style], steps=150, size_px=256)
            for method, img in outs.items():
                d, tx = style_distance(img, style), texture_distance(img, style)
                s, e = ssim(img, photo), edge_f_score(img, photo)
                sums.setdefault(method, []).append((d, tx, s, e))
                print(f"  {photo_name:12} {name:7} {method:22} {d:10.3f} {tx:7.3f} {s:6.3f} {e:7.3f}")
            rows.append([photo, outs["Reinhard colour"], outs["fast model"]]
                        + ([outs["Gatys (150 steps)"]] if not quick else []) + [style])
    print("  mean over photos and styles:")
    for method, vals in sums.items():
        d, tx, s, e = np.mean(vals, axis=0)
        print(f"    {method:22} style dist {d:6.3f}   texture {tx:6.3f}   SSIM {s:5.3f}   edge F1 {e:5.3f}")
    if grid:
        titles = ["before", "Reinhard", "fast model"] + ([] if quick else ["Gatys"]) + ["style"]
        style_grid(rows, titles, grid, title="held-out photos: before / baselines / after / style")
        print(f"  wrote {grid}")


def bench_blend(models) -> None:
    print("\n## blends: starry -> wave (independent style distance to each painting, held-out photo building.jpg)")
    photo = read_picture(SHARED / "media" / "image" / "building.jpg", 384, "photo")
    styles = {n: style_images(SHARED / "corpora" / "style" / p)[0] for n, p in STYLES.items()}
    for mode in ("weights", "outputs"):
        for t in (0.0, 0.25, 0.5, 0.75, 1.0):
            net = mix_styles([models["starry"], models["wave"]], [1 - t, t], blend_mode=mode)
            out = apply_network(net, photo)
            print(f"  {mode:8} t={t:4.2f}  to starry {style_distance(out, styles['starry']):6.3f}   "
                  f"to wave {style_distance(out, styles['wave']):6.3f}")


def clip_frames(rel: str, count: int, max_side: int = 360) -> list[np.ndarray]:
    clip = xmedia.load(SHARED / rel)
    return [f.rgb.copy() for f in clip.iter_frames(max_side=max_side, stop=count)]


def bench_temporal(models) -> None:
    print("\n## temporal stability on held-out clips: warping error (mean |O_t - warp(O_t-1)|, RGB 0..1, visible "
          "pixels, Farneback flow of the input frames)")
    print(f"  {'clip':38} {'style':7} {'input':>7} {'per-frame':>9} {'temporal':>9} {'reduction':>9}")
    reductions = []
    for rel, count in HELD_OUT_CLIPS:
        if not (SHARED / rel).exists():
            print(f"  (skipped: {rel} missing)")
            continue
        frames = clip_frames(rel, count)
        base = warping_error(frames, frames)
        for name, net in models.items():
            per, tmp = TemporalStyler(net, temporal=False), TemporalStyler(net, temporal=True)
            a = [per.process(f) for f in frames]
            b = [tmp.process(f) for f in frames]
            ea, eb = warping_error(a, frames), warping_error(b, frames)
            reductions.append(1 - eb / ea)
            print(f"  {Path(rel).name:38} {name:7} {base:7.4f} {ea:9.4f} {eb:9.4f} {100 * (1 - eb / ea):8.1f}%")
    if reductions:
        print(f"  mean reduction {100 * np.mean(reductions):.1f}% (target >= 30%)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="skip Gatys optimisation")
    p.add_argument("--skip-video", action="store_true", help="skip the temporal and clip-speed sections")
    p.add_argument("--grid", default=None, help="write the before/after/style grid PNG here")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    if not (SHARED / "corpora" / "style").exists():
        print(f"shared corpora not found at {SHARED}", file=sys.stderr)
        return 1
    models = {n: load_style(n) for n in STYLES}
    assert all(isinstance(m, StyleNet) for m in models.values())
    bench_speed(models)
    bench_style_match(models, args.quick, args.grid)
    bench_blend(models)
    if not args.skip_video:
        bench_temporal(models)
        bench_clip_speed()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
