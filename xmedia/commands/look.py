"""CLI for colour looks: ``xmedia translate song.flac --to filter -o look.cube`` and ``xmedia apply``.

``translate ... --to filter`` writes a ``.cube`` (or Hald ``.png``; ``.json`` keeps a video's time-varying
look track), optionally a preview of the look on a photo (``--preview photo.jpg`` writes
``<output>_preview.jpg``) and a PNG report (``--report``): the look's palette, before/after on a photo and
the audio features that drove it. ``apply`` applies a ``.cube`` / Hald ``.png`` / look-track ``.json`` to an
image or a video (the video keeps its audio). The look itself comes from ``xmedia.translate``; this area turns
flags into route options and writes the result.
"""
from __future__ import annotations

import colorsys
import dataclasses
import sys
from pathlib import Path

import numpy as np

import xmedia
from xmedia.adapters.look import LOOK_PARAMS, Filter, FilterTrack
from xmedia.adapters.look.colour import CUBE_SIZES, DEFAULT_SIZE
from xmedia.atomic import check_destination
from xmedia.errors import ConfigError, MediaError
from xmedia.media import Image, Video, downscale
from xmedia.report import pyplot, save_figure

from . import Flag

ORDER = 20  # where this area's hooks run among the others' (xmedia.commands.areas)
LOOK_OUT = (".cube", ".png", ".json")
REPORTS = ("filter",)
TRANSLATE_GROUP = "colour look (--to filter)"
TRANSLATE_FLAGS = (
    Flag("preview", "also write the look applied to this photo as <output>_preview.jpg", metavar="PHOTO",
         writer_for=("filter",)),
    Flag("lut-size", f"points per axis of the written LUT (default {DEFAULT_SIZE})", type=int, choices=CUBE_SIZES),
)


def check_output(args, x, to) -> None:
    """A look is written as .cube, Hald CLUT .png or (time-varying) .json, its report as a PNG: refuse anything
    else before any work is done."""
    if to != "filter":
        return
    out = Path(args.output)
    if out.suffix.lower() not in LOOK_OUT:
        raise MediaError(f"{out}: a look is written as .cube, a Hald CLUT .png or (time-varying) .json")
    if args.report:
        _check_report(args.report)


def _check_report(path) -> None:
    if Path(path).suffix.lower() != ".png":
        raise ConfigError(f"--report writes a PNG, got {Path(path).suffix!r}")


def write_result(args, x, trace) -> bool:
    """The look (``--lut-size`` points per axis in a .cube), its ``--preview`` on a photo and its ``--report``."""
    result = trace.output
    if not isinstance(result, (Filter, FilterTrack)):
        return False
    out = Path(args.output)
    written = result
    if isinstance(result, FilterTrack) and out.suffix.lower() != ".json":  # a .cube/.png holds the pooled look
        written = result.pooled(args.lut_size or DEFAULT_SIZE)
    elif args.lut_size and out.suffix.lower() == ".cube" and args.lut_size != result.size:
        written = result.resized(args.lut_size)
    written.save(out)
    print(f"wrote {out}  ({written!r})")
    photo = xmedia.load(args.preview, kind="image") if args.preview else None
    if photo is not None:
        preview = out.with_name(out.stem + "_preview.jpg")
        _static(result)(photo).save(preview)
        print(f"wrote {preview}")
    if photo is None and isinstance(x, Video):
        photo = x.frame(x.num_frames // 2)  # the report shows the look on the video itself
    if args.report:
        write_report(result, args.report, photo=photo, title=f"{Path(args.input).name} -> look")
        print(f"wrote {args.report}")
    return True


def add_commands(subparsers) -> None:
    s = subparsers.add_parser("apply", help="apply a colour look (.cube, Hald .png, look .json) to an image or video")
    s.add_argument("look", help="the look: .cube, Hald CLUT .png, or a look track .json")
    s.add_argument("input", help="image or video to grade")
    s.add_argument("-o", "--output", required=True, help="output image or video (a video keeps its audio)")
    s.add_argument("--strength", type=float, default=None, help="0 = unchanged, 1 = the full look (default: as saved)")
    s.add_argument("--interpolation", choices=("tetrahedral", "trilinear"), default="tetrahedral")
    s.add_argument("--spatial", action="store_true",
                   help="also apply the spatial settings (clarity, sharpen, grain, vignette) xmedia keeps in a .cube "
                        "comment; without it a .cube is applied colour only, exactly as ffmpeg lut3d or Resolve do")
    s.set_defaults(func=cmd_apply)


def cmd_apply(args) -> int:
    check_destination(args.output)  # before the work: a read-only folder or full disk fails now
    # kind= also reads a Hald CLUT image from another tool (no xmedia tag), and names the problem otherwise.
    look = xmedia.load(args.look, kind="look-track" if Path(args.look).suffix.lower() == ".json" else "filter")
    if args.strength is not None:
        look = dataclasses.replace(look, strength=args.strength)
    if isinstance(look, Filter) and look.spatial():
        settings = ", ".join(f"{k}={v:.3g}" for k, v in look.spatial().items())
        if args.spatial:
            print(f"note: also applying xmedia's spatial settings ({settings}), which other tools (ffmpeg lut3d, "
                  "Resolve) do not apply", file=sys.stderr)
        else:
            look = colour_only(look)
            print(f"note: {Path(args.look).name} also carries xmedia spatial settings ({settings}); applied colour "
                  "only, as other tools do (add --spatial to apply them too)", file=sys.stderr)
    x = xmedia.load(args.input)
    if not isinstance(x, (Image, Video)):
        raise MediaError(f"{args.input}: a look applies to an image or a video, not {x.KIND}")
    y = look(x, interpolation=args.interpolation)
    if isinstance(y, Video):
        xmedia.save(y, args.output, progress=sys.stderr.isatty())
    else:
        xmedia.save(y, args.output)
    print(f"wrote {args.output}")
    return 0


def colour_only(look: Filter) -> Filter:
    """The colour table alone: what any .cube reader (ffmpeg lut3d, Resolve) applies."""
    return Filter(look.table, strength=look.strength, title=look.title, domain_min=look.domain_min,
                  domain_max=look.domain_max)


def _static(result) -> Filter:
    return result.pooled() if isinstance(result, FilterTrack) else result


# ---------------------------------------------------------------------------------------------- report
def palette_chart(rows: int = 4, hues: int = 12, cell_px: int = 24) -> np.ndarray:
    """Reference colours: rows of hues at several lightnesses plus a grey ramp, as uint8 RGB."""
    cells = []
    for r in range(rows):
        light = 0.25 + 0.5 * r / max(1, rows - 1)
        cells.append([colorsys.hls_to_rgb(h / hues, light, 0.7) for h in range(hues)])
    cells.append([(v, v, v) for v in np.linspace(0.03, 0.97, hues)])
    arr = (np.asarray(cells) * 255).round().astype(np.uint8)
    return np.repeat(np.repeat(arr, cell_px, axis=0), cell_px, axis=1)


def write_report(result, path, photo=None, title: str = "look") -> Path:
    """PNG: the look on a palette (before/after), on a photo, and the audio features that drove it."""
    _check_report(path)
    plt = pyplot()
    static = _static(result)
    info = static.look or {}
    look = result.look if isinstance(result, FilterTrack) else None
    chart = Image(palette_chart())
    panels = [(chart, "palette before"), (colour_only(static)(chart), "palette after (colour only)")]
    if photo is not None:
        if max(photo.width, photo.height) > 640:
            photo = Image(downscale(photo.rgb_uint8(), 640))
        panels += [(photo, "photo before"), (static(photo), "photo after")]
    fig = plt.figure(figsize=(13, 8.5 if photo is not None else 6))
    grid = fig.add_gridspec(3 if photo is not None else 2, 4, height_ratios=[1, 1.2, 1] if photo is not None else [1, 1])
    for i, (img, name) in enumerate(panels):
        ax = fig.add_subplot(grid[i // 2, (i % 2) * 2:(i % 2) * 2 + 2])
        ax.imshow(img.rgb_uint8())
        ax.set_title(name)
        ax.axis("off")
    last = 2 if photo is not None else 1
    feats = info.get("features") or {}
    ax = fig.add_subplot(grid[last, :2])
    if feats:
        ax.barh(list(feats), list(feats.values()), color="tab:blue")
        ax.set_xlim(0, 1)
        ax.set_title("perceptual features of the input (drove the look)")
    params = info.get("params") or {}
    ax = fig.add_subplot(grid[last, 2:])
    if look is not None and look.track is not None:
        t = look.times_s()
        for name in ("exposure_stops", "saturation_percent", "yellow_blue_lab", "red_green_lab"):
            j = look.param_names.index(name)
            lo, hi, _ = LOOK_PARAMS[name]
            ax.plot(t, look.track[:, j] / max(abs(lo), abs(hi)), label=name)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("fraction of range")
        ax.legend(fontsize=7)
        ax.set_title("look over time (follows the music)")
    elif params:
        names = list(params)
        ax.barh(names, [params[n] / max(abs(LOOK_PARAMS[n][0]), abs(LOOK_PARAMS[n][1]), 1e-9) for n in names],
                color="tab:orange")
        ax.set_xlim(-1, 1)
        ax.set_title("look parameters (fraction of range)")
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path, dpi=80)
