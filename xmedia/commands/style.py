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

from . import Trainer

VIDEO_OUT = (".mp4", ".mov", ".mkv", ".m4v", ".webm", ".avi", ".gif")
IMAGE_OUT = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
TARGETS = ("image", "video")
SOUNDTRACK = "soundtrack"
SOUNDTRACK_STEP = "soundtrack-style"


def add_translate_arguments(parser) -> None:
    have = parser._option_string_actions  # --style is shared with the soundtrack area: define it only once
    group = parser.add_argument_group(
        "style transfer (--to image | --to video)",
        "--style also names the style here: a zoo name (starry, wave), a folder from `xmedia train style`, a blend "
        "'starry:0.6,wave:0.4', or 'soundtrack' (the clip's own music picks; 'soundtrack:starry,wave')")
    if "--style" not in have:
        group.add_argument("--style", help="style model: zoo name, folder, 'a:0.6,b:0.4' blend or 'soundtrack'")
    group.add_argument("--style-image", dest="style_image", metavar="PAINTING",
                       help="optimise the photo against this painting (Gatys; --to image only, slow)")
    group.add_argument("--strength", dest="style_strength", type=float, default=None,
                       help="0 = the input unchanged, 1 = the full style (default 1)")
    group.add_argument("--no-temporal", dest="style_temporal", action="store_false", default=True,
                       help="style each video frame on its own (default: flow-guided, without flicker)")


def _wants_style(args, to) -> bool:
    return to in TARGETS and (getattr(args, "style", None) is not None or getattr(args, "style_image", None))


def _soundtrack_styles(spec: str):
    names = spec.split(":", 1)[1] if ":" in spec else ""
    return tuple(n.strip() for n in names.split(",") if n.strip()) or None


def translate_options(args, to) -> dict:
    """``--style``, ``--style-image``, ``--strength`` and ``--no-temporal`` as the style step's options."""
    if not _wants_style(args, to):
        return {}
    opts = {}
    style = args.style
    if style is not None and style.split(":", 1)[0] == SOUNDTRACK:
        opts["styles"] = _soundtrack_styles(style)  # the option selects the soundtrack-style step (None: defaults)
    elif style is not None:
        opts["style"] = style
    if args.style_image:
        opts["style_image"] = args.style_image
    if args.style_strength is not None:
        opts["strength"] = args.style_strength
    if to == "video" and not args.style_temporal:
        opts["temporal"] = False
    return opts


def check_output(args, x, to) -> None:
    """Refuse a wrong output type before any work."""
    if not _wants_style(args, to):
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
def add_train_arguments(p) -> None:
    p.add_argument("--style-image", dest="style_image", required=True, metavar="PAINTING_OR_CLIP",
                   help="the style: a painting, or a film clip (its frames are the style source)")
    p.add_argument("--data", required=True, nargs="+",
                   help="content photos / videos (files, folders or .jsonl manifests)")
    p.add_argument("-o", "--output", required=True, help="folder to save the style model in")
    p.add_argument("--steps", type=int, default=800, help="training steps (default 800)")
    p.add_argument("--size", type=int, default=256, help="training crop size in px (default 256)")
    p.add_argument("--batch", type=int, default=2, help="crops per step (default 2)")
    p.add_argument("--style-weight", type=float, default=10.0, help="style vs content (default 10)")
    p.add_argument("--max-minutes", type=float, default=30.0, help="stop after this long (default 30)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--features", choices=("random", "clip"), default="random",
                   help="loss network: offline random multi-scale filters (default) or CLIP (weights on disk)")
    p.add_argument("--report", help="loss-curve PNG (default OUTPUT/loss.png)")


def run_train(args) -> int:
    import torch

    from xmedia.adapters.style.network import StyleNet
    from xmedia.adapters.style.train import write_loss_report
    from xmedia.scale import is_main_process

    torch.manual_seed(args.seed)
    model = StyleNet()
    result = model.fit(args.data, style=args.style_image, steps=args.steps, size_px=args.size, batch=args.batch,
                       style_weight=args.style_weight, max_minutes=args.max_minutes, seed=args.seed,
                       features=args.features,
                       progress=sys.stderr.isatty())
    if not is_main_process():  # torchrun: the other ranks trained in step; rank 0 writes
        return 0
    model.card = {"title": f"style: {Path(args.output).name}",
                  "description": f"fast style model trained on {Path(args.style_image).name}",
                  "data": f"style: {args.style_image}; content: {', '.join(map(str, args.data))} "
                          f"({result['content_pictures']} pictures)",
                  "training": {k: v for k, v in result["options"].items()}}
    model.save_pretrained(args.output)
    report = args.report or str(Path(args.output) / "loss.png")  # after saving: the save replaces the folder
    write_loss_report(result, report)
    print(f"trained {len(result['step']) and result['step'][-1] + 1} steps in {result['seconds'] / 60:.1f} min, "
          f"final loss {result['loss'][-1]:.3f}; wrote {args.output} (loss curve: {report})")
    return 0


TRAINERS = (Trainer("style", "train a fast style model on a painting or a film clip", add_train_arguments,
                    run_train),)
