"""Pictures for style training and validation of style images: content photos/frames and the style source.

``content_images(paths)`` reads photos and evenly spaced frames of videos (a folder is searched for both, a
``.jsonl`` manifest lists them); ``style_images(source)`` reads a painting, or a film clip's frames as the style
source. Each picture is checked (``check_style_picture``): a flat, tiny, huge, grayscale or alpha image gets a clear
error or a correct result.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from xmedia.errors import ConfigError, MediaError
from xmedia.io import load
from xmedia.manifest import is_manifest, manifest_files
from xmedia.media import Image, Video, downscale

IMAGE_EXT = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
VIDEO_EXT = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")
MIN_STYLE_SIDE_PX = 32
MAX_DECODE_PIXELS = 120_000_000  # above this a file is refused before decoding (it would need > 360 MB)
HUGE_SIDE_PX = 6000
FLAT_STD = 2.0 / 255.0  # a picture whose pixels vary less than this is one colour


def read_picture(source, max_side: int = 1024, what: str = "style image") -> np.ndarray:
    """An image file / ``Image`` / array as RGB uint8 with its longer side at most ``max_side``.

    A big JPEG is decoded at a reduced size (Pillow's draft mode: a 10000x10000 photo never takes gigabytes);
    alpha is composited over white; grayscale becomes RGB."""
    if isinstance(source, np.ndarray):
        source = Image(source)
    if isinstance(source, Image):
        rgb = _over_white(source.to_float()) if source.has_alpha else source.rgb_uint8()
    else:
        rgb = _decode_file(Path(source), max_side, what)
    if max(rgb.shape[:2]) > max_side:
        rgb = downscale(rgb, max_side)
    return np.ascontiguousarray(rgb)


def _over_white(rgba: np.ndarray) -> np.ndarray:
    a = rgba[..., 3:4]
    return np.clip(np.round((rgba[..., :3] * a + (1 - a)) * 255), 0, 255).astype(np.uint8)


def _decode_file(path: Path, max_side: int, what: str) -> np.ndarray:
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    if not path.is_file():
        raise MediaError(f"{what} {path}: no such file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)  # the size is checked below
            im = PILImage.open(path)
        with im:
            w, h = im.size
            if im.format == "JPEG" and max(w, h) > 2 * max_side:
                im.draft("RGB", (max(1, w * max_side // max(w, h)), max(1, h * max_side // max(w, h))))
            elif w * h > MAX_DECODE_PIXELS:
                raise MediaError(f"{what} {path} is {w}x{h} ({w * h / 1e6:.0f} megapixels): too large to decode "
                                 f"here; downscale it (longer side <= {max_side * 4} px) or save it as JPEG")
            if max(w, h) > HUGE_SIDE_PX:  # ordinary pictures are resized silently; say so for huge files
                warnings.warn(f"{what} {path.name} is {w}x{h}: using it at {max_side} px on its longer side",
                              stacklevel=3)
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                rgba = np.asarray(im.convert("RGBA"), dtype=np.float32) / 255.0
                return _over_white(rgba) if max(rgba.shape[:2]) <= max_side else downscale(_over_white(rgba), max_side)
            rgb = np.asarray(im.convert("RGB"))
    except PILImage.DecompressionBombError as exc:
        raise MediaError(f"{what} {path} is too large to decode here ({exc}); downscale it first") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise MediaError(f"{what} {path}: not a readable image ({exc})") from None
    return rgb


def check_style_picture(rgb: np.ndarray, name: str = "style image") -> np.ndarray:
    """Refuse a style source with nothing to learn: one colour, or smaller than 32 px on a side."""
    h, w = rgb.shape[:2]
    if min(h, w) < MIN_STYLE_SIDE_PX:
        raise MediaError(f"{name} is {w}x{h}: a style needs at least {MIN_STYLE_SIDE_PX} px on each side to show "
                         "brush strokes; use a bigger picture")
    if float((rgb.astype(np.float32) / 255.0).std(axis=(0, 1)).max()) < FLAT_STD:
        colour = tuple(int(v) for v in rgb.reshape(-1, 3).mean(0).round())
        raise MediaError(f"{name} is one flat colour {colour}: it has no texture or palette to transfer; for a "
                         "colour tint use a look (xmedia apply look.cube ...)")
    return rgb


def style_images(source, max_side: int = 512, max_frames: int = 8) -> list[np.ndarray]:
    """The style source as pictures: one painting, or ``max_frames`` frames evenly spread over a film clip."""
    if isinstance(source, (list, tuple)):
        return [check_style_picture(read_picture(s, max_side), f"style picture {i}") for i, s in enumerate(source)]
    if isinstance(source, Video) or Path(str(source)).suffix.lower() in VIDEO_EXT:
        frames = video_frames(source, max_frames, max_side)
        kept = [f for f in frames if float(f.std() / 255.0) >= FLAT_STD]
        if not kept:
            raise MediaError(f"style clip {source}: every sampled frame is one flat colour")
        return [check_style_picture(f, f"style clip {source}") for f in kept]
    return [check_style_picture(read_picture(source, max_side), f"style image {source}")]


def video_frames(source, count: int, max_side: int) -> list[np.ndarray]:
    """``count`` frames evenly spread over a video (file or ``Video``), longer side at most ``max_side``."""
    video = source if isinstance(source, Video) else load(source, kind="video")
    if not isinstance(video, Video):  # a container with sound and no pictures
        raise MediaError(f"{source} holds no video stream ({type(video).__name__} only): give a clip with pictures")
    wanted = set(np.linspace(0, video.num_frames - 1, min(count, video.num_frames)).round().astype(int).tolist())
    return [f.rgb.copy() for f in video.iter_frames(max_side=max_side) if f.index in wanted]


def content_files(sources) -> list[Path]:
    """The photo and video files of ``sources``: files, folders (searched recursively) and JSON-lines
    manifests (``xmedia.manifest``, their inputs in order); pictures given as arrays are left out."""
    files: list[Path] = []
    for src in [sources] if isinstance(sources, (str, Path)) else list(sources):
        if isinstance(src, np.ndarray):
            continue
        p = Path(src)
        if is_manifest(p):
            files += manifest_files(p, IMAGE_EXT + VIDEO_EXT)
        elif p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_EXT + VIDEO_EXT)
        elif p.is_file():
            files.append(p)
        else:
            raise ConfigError(f"training data {p}: no such file or folder")
    return files


def content_images(sources, max_side: int = 320, frames_per_video: int = 12) -> list[np.ndarray]:
    """Training pictures: photos and video frames from files, folders (searched recursively) or manifests."""
    files = content_files(sources)
    pictures = [np.asarray(s) for s in ([] if isinstance(sources, (str, Path)) else sources)
                if isinstance(s, np.ndarray)]
    for f in files:
        if f.suffix.lower() in VIDEO_EXT:
            pictures += video_frames(f, frames_per_video, max_side)
        else:
            pictures.append(read_picture(f, max_side, "training photo"))
    if not pictures:
        raise ConfigError(f"no photos or videos found in {sources} ({', '.join(IMAGE_EXT + VIDEO_EXT)})")
    return pictures
