"""CLI for colour looks: ``xmedia translate song.flac --to filter -o look.cube`` and ``xmedia apply``.

``translate ... --to filter`` writes a ``.cube`` (or Hald ``.png``; ``.json`` keeps a video's time-varying
look track), optionally a preview of the look on a photo (``--preview photo.jpg`` writes
``<output>_preview.jpg``) and a PNG report (``--report``): the look's palette, before/after on a photo and
the audio features that drove it. ``apply`` applies a ``.cube`` / Hald ``.png`` / look-track ``.json`` to an
image or a video (the video keeps its audio).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from xmedia.errors import ConfigError, MediaError


def add_translate_arguments(parser) -> None:
    g = parser.add_argument_group("colour look (--to filter)")
    g.add_argument("--preview", dest="look_preview", metavar="PHOTO",
                   help="also write the look applied to this photo as <output>_preview.jpg")
    g.add_argument("--lut-size", dest="look_lut_size", type=int, choices=(17, 33, 65), default=None,
                   help="points per axis of the written LUT (default 33)")


def handle_translate(args, x, to) -> bool:
    if to != "filter":
        return False
    from xmedia import load, translate
    from xmedia.cli import translate_options
    from xmedia.media import Video

    options = translate_options(args)
    if args.look_lut_size:
        options["lut_size"] = args.look_lut_size
    result = translate(x, to="filter", via=args.via, bridge=args.bridge, **options)
    out = Path(args.output)
    if out.suffix.lower() not in (".cube", ".png", ".json"):
        raise MediaError(f"{out}: a look is written as .cube, a Hald CLUT .png or (time-varying) .json")
    result.save(out, **({"size": args.look_lut_size} if args.look_lut_size and out.suffix.lower() == ".cube" else {}))
    print(f"wrote {out}  ({result!r})")
    photo = load(args.look_preview, kind="image") if args.look_preview else None
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
    s.set_defaults(func=cmd_apply)


def load_look(path):
    """A ``Filter`` from .cube / Hald .png, or a ``FilterTrack`` from a look-track .json."""
    from xmedia.adapters.lut import Filter, FilterTrack, Look

    path = Path(path)
    if path.suffix.lower() != ".json":
        return Filter.load(path)
    import json
    from fractions import Fraction

    try:
        d = json.loads(path.read_text())
        look = Look(dict(d["params"]), track=np.asarray(d["track"], np.float32), rate_hz=Fraction(d["rate_hz"]),
                    start_s=Fraction(d.get("start_s", "0")), param_names=tuple(d["param_names"]))
        return FilterTrack(look, lut_size=int(d.get("lut_size", 17)), strength=float(d.get("strength", 1.0)))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise MediaError(f"{path}: not a look-track .json ({type(exc).__name__}: {exc}); write one with "
                         "`xmedia translate video.mp4 --to filter -o look.json`") from None


def cmd_apply(args) -> int:
    import dataclasses

    from xmedia import load
    from xmedia.io import save
    from xmedia.media import Image, Video

    look = load_look(args.look)
    if args.strength is not None:
        look = dataclasses.replace(look, strength=args.strength)
    x = load(args.input)
    if not isinstance(x, (Image, Video)):
        raise MediaError(f"{args.input}: a look applies to an image or a video, not {x.KIND}")
    y = look(x, interpolation=args.interpolation)
    if isinstance(y, Video):
        save(y, args.output, progress=True)
    else:
        save(y, args.output)
    print(f"wrote {args.output}")
    return 0


def _static(result):
    from xmedia.adapters.lut import FilterTrack

    return result.pooled() if isinstance(result, FilterTrack) else result


# ---------------------------------------------------------------------------------------------- report
def palette_chart(rows: int = 4, hues: int = 12, cell_px: int = 24) -> np.ndarray:
    """Reference colours: rows of hues at several lightnesses plus a grey ramp, as uint8 RGB."""
    import colorsys

    cells = []
    for r in range(rows):
        light = 0.25 + 0.5 * r / max(1, rows - 1)
        cells.append([colorsys.hls_to_rgb(h / hues, light, 0.7) for h in range(hues)])
    cells.append([(v, v, v) for v in np.linspace(0.03, 0.97, hues)])
    arr = (np.asarray(cells) * 255).round().astype(np.uint8)
    return np.repeat(np.repeat(arr, cell_px, axis=0), cell_px, axis=1)


def write_report(result, path, photo=None, title: str = "look") -> Path:
    """PNG: the look on a palette (before/after), on a photo, and the audio features that drove it."""
    from xmedia.report import pyplot, save_figure

    plt = pyplot()

    from xmedia.adapters.lut import Filter, FilterTrack
    from xmedia.media import Image

    static = _static(result)
    info = static.look or {}
    look = result.look if isinstance(result, FilterTrack) else None
    chart = Image(palette_chart())
    colour_only = Filter(static.table, strength=static.strength, domain_min=static.domain_min,
                         domain_max=static.domain_max)
    panels = [(chart, "palette before"), (colour_only(chart), "palette after (colour only)")]
    if photo is not None:
        if max(photo.width, photo.height) > 640:
            from xmedia.media import _downscale

            photo = Image(_downscale(photo.rgb_uint8(), 640))
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
            lo, hi, _ = _param_range(name)
            ax.plot(t, look.track[:, j] / max(abs(lo), abs(hi)), label=name)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("fraction of range")
        ax.legend(fontsize=7)
        ax.set_title("look over time (follows the music)")
    elif params:
        names = list(params)
        ax.barh(names, [params[n] / max(abs(_param_range(n)[0]), abs(_param_range(n)[1]), 1e-9) for n in names],
                color="tab:orange")
        ax.set_xlim(-1, 1)
        ax.set_title("look parameters (fraction of range)")
    fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ConfigError(f"--report writes a PNG, got {path.suffix!r}")
    return save_figure(fig, path, dpi=80)


def _param_range(name: str):
    from xmedia.adapters.lut import LOOK_PARAMS

    return LOOK_PARAMS[name]
