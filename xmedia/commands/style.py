"""CLI for style transfer: ``xmedia translate photo.jpg --to image --style starry -o out.png`` and video.

``--style`` is shared with the soundtrack area (there it means music/foley for ``--to audio``); for ``--to image``
and ``--to video`` it names a style model: a zoo name (``starry``, ``wave``), a folder written by
``xmedia train style``, a blend ``"starry:0.6,wave:0.4"``, or ``soundtrack`` (``soundtrack:starry,wave``) to
let the clip's own music pick and blend styles along time. ``--style-image PAINTING`` optimises the photo
against a painting instead (Gatys et al. 2015; slow, no training). ``--strength`` mixes the photo (0) with the
full style (1). A styled video keeps its timestamps and its audio. ``--report`` writes a before/after/style PNG.
``xmedia train style --style-image PAINTING_OR_CLIP --data PHOTOS_OR_VIDEOS -o DIR`` trains a fast model.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from xmedia.errors import ConfigError
from xmedia.media import Image, Video

from . import Flag
from .training import ProcessTrainer, TrainFlag

ORDER = 40  # where this area's hooks run among the others' (xmedia.commands.areas)
VIDEO_OUT = (".mp4", ".mov", ".mkv", ".m4v", ".webm", ".avi", ".gif")
IMAGE_OUT = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
SOUNDTRACK = "soundtrack"
SOUNDTRACK_STEP = "soundtrack-style"


def style_options(spec: str) -> dict:
    """``--style``: ``soundtrack[:a,b]`` selects the soundtrack-style step (``styles``; none: its defaults); any
    other value is the ``style`` option (a style model for image/video, music/foley/sfx for audio)."""
    if spec.split(":", 1)[0] != SOUNDTRACK:
        return {"style": spec}
    names = spec.split(":", 1)[1] if ":" in spec else ""
    return {"styles": tuple(n.strip() for n in names.split(",") if n.strip()) or None}


STYLED = ("image", "video")  # the targets a style step writes
REPORTS = STYLED
TRANSLATE_GROUP = "style transfer (--to image | --to video)"
TRANSLATE_FLAGS = (  # --style is shared with the soundtrack and timbre areas: declared here, read by all three
    Flag("style", "--to image|video: a style model: zoo name (starry, wave), a folder from `xmedia train style`, a "
                  "blend 'starry:0.6,wave:0.4', or 'soundtrack' (the clip's own music picks; 'soundtrack:starry,"
                  "wave'); --to audio: music (default), foley (event-synced hits only) or sfx (sound effects from "
                  "motion)", to_options=style_options),
    Flag("style-image", "optimise the photo against this painting (Gatys; --to image only, slow)", metavar="PAINTING"),
    Flag("strength", "0 = the input unchanged, 1 = the full style (or look, --to filter; default 1)", type=float),
    Flag("no-temporal", "style each video frame on its own (default: flow-guided, without flicker)",
         action="store_false", default=True, dest="temporal"),
)


def check_output(args, x, to) -> None:
    """Refuse a wrong output type before any work."""
    if to not in STYLED or (args.style is None and not args.style_image):
        return
    out = Path(args.output).suffix.lower()
    allowed = VIDEO_OUT if to == "video" else IMAGE_OUT
    if out not in allowed:
        raise ConfigError(f"{args.output}: a styled {to} is written as {', '.join(allowed)}")
    if args.style and args.style.split(":", 1)[0] == SOUNDTRACK:
        if to != "video":
            raise ConfigError("--style soundtrack follows a video's own music: use it with --to video")
    if args.report and Path(args.report).suffix.lower() != ".png":
        raise ConfigError(f"--report writes a PNG, got {args.report}")


def write_result(args, x, trace) -> bool:
    """A styled video with the input's audio (re-encoded H.264 + AAC), or a styled picture; and the report."""
    y = trace.output
    if not trace.route.steps or trace.route.steps[-1].name not in ("style-image", "style-video", SOUNDTRACK_STEP):
        return False
    out = Path(args.output)
    if isinstance(y, Video):
        from xmedia.io import save, write_video_with_audio

        start = time.perf_counter()
        progress = sys.stderr.isatty()
        if x.audio is not None and out.suffix.lower() not in (".gif",):
            how = write_video_with_audio(y, x.audio, out, progress=progress)
            what = f"video {how}, audio kept"
        else:
            save(y, out, progress=progress)
            what = "no audio in the input" if x.audio is None else "GIF: no audio"
        print(f"wrote {out} ({y.num_frames} frames styled in {time.perf_counter() - start:.1f} s; {what})")
    elif isinstance(y, Image):
        y.save(out)
        print(f"wrote {out} ({y.width}x{y.height})")
    else:
        return False
    if args.report:
        write_report(args, x, y)
        print(f"wrote {args.report}")
    return True


def write_report(args, x, y) -> None:
    from xmedia.adapters.style.data import style_images
    from xmedia.adapters.style.report import style_grid, style_track_plot

    if isinstance(y, Video):
        picks = sorted({0, y.num_frames // 2, y.num_frames - 1})
        # one frame at a time (a preview: the temporal blend restarts at each, instead of restyling the clip)
        before = {i: next(iter(x.iter_frames(max_side=480, start=i, stop=i + 1))).rgb for i in picks}
        after = {}
        for i in picks:
            f = next(iter(y.iter_frames(max_side=480, start=i, stop=i + 1)))
            after[i] = (float(f.time_s), f.rgb)
        track = getattr(y, "style_track", None)
        if track is not None:
            style_track_plot(track, args.report, frames=[after[i] for i in picks], title=Path(args.input).name)
            return
        rows = [[before[i], after[i][1]] for i in picks]
    else:
        rows = [[x.rgb_uint8(), y.rgb_uint8()]]
    styles = style_images(args.style_image) if args.style_image else ()
    style_grid(rows, ["before", f"after ({args.style or 'style image'})"], args.report, style_pictures=styles,
               title=Path(args.input).name)


# ---------------------------------------------------------------------------------------------- training
def _stylenet(args, model_options):
    """A fresh network, its initial weights drawn from --seed (same seed, same model)."""
    import torch

    from xmedia.adapters.style.network import StyleNet

    torch.manual_seed(args.seed or 0)
    return StyleNet(**model_options)


def _card(args, result) -> dict:
    x = result.extra
    return {"title": f"style: {Path(args.output).name}",
            "description": f"fast style model trained on {Path(args.style_image).name}",
            "objective": x["objective"],
            "data": f"style: {args.style_image}; content: {', '.join(map(str, args.data))} "
                    f"({x['content_pictures']} pictures; held out: {', '.join(x['held_out']) or 'none'})"}


TRAINERS = (ProcessTrainer(
    "style", "train a fast style model on a painting or a film clip", "xmedia.adapters.style.network:StyleNet",
    "content photos / videos (files, folders or .jsonl manifests)",
    flags=(TrainFlag("style_image", str, "the style: a painting, or a film clip (its frames are the style source); "
                                         "required", option="style"),
           TrainFlag("size_px", int, "training crop size in px"),
           TrainFlag("style_weight", float, "style vs content"),
           TrainFlag("holdout", float, "fraction of the content files held out for the held-out loss"),
           TrainFlag("features", str, "loss network: offline random multi-scale filters or CLIP (weights on disk)",
                     choices=("random", "clip"))),
    build=_stylenet, card=_card).as_trainer(),)
