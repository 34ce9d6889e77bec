"""Reading and writing media: ``load(path | bytes | ndarray)`` and ``save(obj, path)``.

Files go through the format registry (``xmedia.formats``): this module registers the media formats. Video
goes through PyAV (``xmedia.avio``: rotation applied, real timestamps kept, audio decoded alongside, frames
decoded lazily); audio through soundfile with PyAV as the fallback (mp3, m4a/aac); images through OpenCV;
Motion as CSV, NPZ or JSON; a saved process is a folder. Every write is atomic. Errors are ``MediaError``
naming the file and the problem.
"""
from __future__ import annotations

import errno
import io as _io
import json
import os
import stat
import warnings
import zipfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from . import audio_files, formats, limits
from .avio import DecodeWarning, decode_audio, load_av, open_container, write_audio, write_video, write_video_with_audio
from .errors import MediaError
from .formats import Format, is_json_kind, json_kind, tagged
from .media import Audio, Image, Motion, Text, Video, downscale

__all__ = ["load", "save", "info", "write_video_with_audio", "decode_audio", "DecodeWarning", "VIDEO_EXT",
           "AUDIO_EXT", "IMAGE_EXT", "MOTION_EXT", "TEXT_EXT"]

VIDEO_EXT = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".gif")
AUDIO_EXT = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".m4a", ".aac", ".opus")
IMAGE_EXT = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
MOTION_EXT = (".csv", ".npz", ".json")
TEXT_EXT = (".txt",)
MEDIA_TYPES = (Video, Audio, Image, Motion, Text)


# ---------------------------------------------------------------------------------------------- loading
def load(src, kind: str | None = None, **options):
    """Load a file path, ``bytes`` or ndarray: media, or any object ``save`` wrote (a look, a trajectory,
    an embedding, a saved process folder...).

    For arrays pass what cannot be guessed: ``sample_rate_hz=`` (audio), ``fps=`` (video), ``rate_hz=`` (motion).
    """
    if isinstance(src, MEDIA_TYPES):
        return src
    if isinstance(src, np.ndarray):
        return _from_array(src, kind, **options)
    if isinstance(src, (bytes, bytearray, memoryview)):
        return _from_bytes(bytes(src), kind, **options)
    if not isinstance(src, (str, Path)):
        raise MediaError(f"load() takes a path, bytes or ndarray, got {type(src).__name__}")
    path = Path(src)
    check_readable(path)
    return formats.load(path, kind, **options)


def check_readable(path: Path) -> None:
    """A clear MediaError for what is not a readable file: missing, a symlink loop, a FIFO/device, empty."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise MediaError(f"{path}: no such file" + (" (a broken symbolic link)" if path.is_symlink() else "")) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise MediaError(f"{path}: a loop of symbolic links (it points back to itself); give the real file") from None
        raise MediaError(f"{path}: cannot be read ({exc.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        return  # a saved process folder; the format registry says what else it could be
    if not stat.S_ISREG(st.st_mode):
        what = "a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "a device or socket"
        raise MediaError(f"{path} is {what}, not a file: xmedia needs a file it can seek in; save the stream to a "
                         "file first (or use `xmedia stream` for live input)")
    if st.st_size == 0:
        raise MediaError(f"{path} is empty (0 bytes)")
    if not os.access(path, os.R_OK):
        raise MediaError(f"{path}: permission denied (not readable by this user)")


def save(obj, path, **options) -> Path:
    """Write ``obj`` to ``path`` atomically; the format follows its type and the extension."""
    return formats.save(obj, path, **options)


def _from_array(arr: np.ndarray, kind: str | None, **options):
    if kind is None:
        if "sample_rate_hz" in options:
            kind = "audio"
        elif "fps" in options or arr.ndim == 4:
            kind = "video"
        elif "rate_hz" in options:
            kind = "motion"
        elif arr.ndim == 3 and arr.shape[2] in (3, 4):
            kind = "image"
        else:
            raise MediaError(
                f"cannot tell what an array of shape {arr.shape} is: pass kind= and its rate "
                "(sample_rate_hz= for audio, fps= for video, rate_hz= for motion)"
            )
    if kind == "audio":
        if "sample_rate_hz" not in options:
            raise MediaError("audio from an array needs sample_rate_hz=")
        return Audio(arr, options["sample_rate_hz"])
    if kind == "video":
        return Video(frames=arr, fps=options.get("fps", 30), audio=options.get("audio"))
    if kind == "motion":
        return Motion(arr, options.get("rate_hz", 30), tuple(options.get("channels", ())), tuple(options.get("units", ())))
    if kind == "image":
        return Image(arr)
    raise MediaError(f"unknown kind {kind!r} for an array")


_MAGIC = [
    (b"\x89PNG", "image"), (b"\xff\xd8\xff", "image"), (b"BM", "image"), (b"II*\x00", "image"),
    (b"MM\x00*", "image"), (b"fLaC", "audio"), (b"OggS", "audio"), (b"ID3", "audio"),
]


def _from_bytes(data: bytes, kind: str | None, **options):
    if not data:
        raise MediaError("the buffer is empty (0 bytes)")
    if kind is None:
        for magic, k in _MAGIC:
            if data.startswith(magic):
                kind = k
        if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
            kind = "audio"
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            kind = "image"
    if kind == "image":
        return _load_image(data, "<bytes>")
    if kind == "audio" and data[:4] != b"\x00\x00\x00\x1c":
        return _load_audio(data, "<bytes>")
    return load_av(lambda: _io.BytesIO(data), "<bytes>", want=kind)


def _load_image(data: bytes, name: str, max_side: int | None = None) -> Image:
    """Decode an image; ``max_side`` (for analysis) lets a JPEG too big for the pixel limit be decoded at 1/2,
    1/4 or 1/8 of its size by libjpeg itself, without ever holding the full picture."""
    import cv2

    size, flags = image_size(data), cv2.IMREAD_UNCHANGED
    if size is not None:
        try:
            limits.check_image(*size, what=name)
        except limits.LimitError as exc:
            if data[:3] != b"\xff\xd8\xff":
                raise
            if not max_side:
                raise limits.LimitError(f"{exc}; for analysis a JPEG can be read at reduced size: "
                                        "xmedia.load(path, max_side=4096)") from None
            factor = next((f for f in (2, 4, 8) if max(size) / f <= max_side), 8)
            limits.check_image(size[0] // factor, size[1] // factor, what=f"{name} at 1/{factor} size")
            flags = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}[factor]
            warnings.warn(f"{name}: {size[0]}x{size[1]} pixels is above the pixel limit; read at 1/{factor} size "
                          "for analysis", DecodeWarning)
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if arr is not None and max_side and max(arr.shape[:2]) > max_side:
        arr = downscale(arr, max_side)
    if arr is None:
        raise MediaError(f"{name}: not a readable image (corrupt, truncated or unsupported format)")
    if arr.ndim == 2:
        arr = cv2.cvtColor(arr, cv2.COLOR_GRAY2RGB)
    elif arr.shape[2] == 4:
        arr = cv2.cvtColor(arr, cv2.COLOR_BGRA2RGBA)
    else:
        arr = cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)
    return Image(arr)


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from an image's header, without decoding it (None when the header does not say)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    from PIL import Image as PILImage

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with PILImage.open(_io.BytesIO(data)) as im:
                return im.size
    except PILImage.DecompressionBombError as exc:
        raise limits.LimitError(f"image header: {exc}") from None
    except Exception:  # not an image PIL knows: OpenCV decides
        return None


def _load_audio(src, name: str) -> Audio:
    import soundfile as sf

    if not isinstance(src, bytes):
        long = audio_files.open_long_audio(Path(src), name)  # a long file is streamed, not read into memory
        if long is not None:
            return long
    try:
        data, rate = sf.read(_io.BytesIO(src) if isinstance(src, bytes) else str(src), dtype="float32", always_2d=True)
    except Exception:  # libsndfile cannot read it (m4a, some mp3): PyAV can
        opener = (lambda: _io.BytesIO(src)) if isinstance(src, bytes) else (lambda: str(src))
        return load_av(opener, name, want="audio")
    if data.shape[0] == 0:
        raise MediaError(f"{name}: the audio has no samples (zero length)")
    if not np.isfinite(data).all():
        raise MediaError(f"{name}: the audio contains NaN/inf samples; the file is corrupt")
    return Audio(data, rate)


def _read_video(path: Path) -> Video | Audio:
    """A video file; one with only sound (an audio-only .mp4) is read as Audio: the streams decide."""
    return load_av(lambda: str(path), str(path))


def _read_audio(path: Path) -> Audio:
    return _load_audio(path, str(path))


def _read_image(path: Path, max_side: int | None = None) -> Image:
    return _load_image(path.read_bytes(), str(path), max_side=max_side)


def _read_text(path: Path) -> Text:
    """UTF-8 only (a byte-order mark is dropped): guessing another encoding would silently garble the text."""
    raw = path.read_bytes()
    try:
        return Text(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise MediaError(f"{path}: the text is not UTF-8 (byte 0x{raw[exc.start]:02x} at byte offset {exc.start}); "
                         f"xmedia reads text files as UTF-8: convert it, e.g. iconv -f latin1 -t utf-8 {path.name} "
                         f"> {path.stem}.utf8.txt") from None


def _read_process(path: Path):
    from .process import Process  # torch: loaded only when a saved process is read

    return Process.from_pretrained(path)


def _write_process(process, tmp: Path, card: dict | None = None) -> None:
    process.write_pretrained(tmp, card=card)


def _load_motion(path: Path) -> Motion:
    ext = path.suffix.lower()
    try:
        if ext == ".npz":
            with np.load(path, allow_pickle=False) as z:
                return Motion(z["values"], Fraction(str(z["rate_hz"])), tuple(map(str, z["channels"])),
                              tuple(map(str, z["units"])), start_s=Fraction(str(z["start_s"])) if "start_s" in z else 0)
        if ext == ".json":
            d = json.loads(path.read_text())
            return Motion(np.asarray(d["values"], dtype=float), Fraction(str(d["rate_hz"])), tuple(d.get("channels", ())),
                          tuple(d.get("units", ())), start_s=Fraction(str(d.get("start_s", 0))))
        return _load_motion_csv(path)
    except MediaError:
        raise
    except (KeyError, ValueError, TypeError, OSError, EOFError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise MediaError(f"{path}: not a valid Motion {ext} file ({type(exc).__name__}: {exc}); "
                         "see xmedia.io.save for the layout") from None


def _load_motion_csv(path: Path) -> Motion:
    lines = path.read_text().splitlines()
    rate = None
    while lines and lines[0].startswith("#"):
        meta = lines.pop(0)[1:].strip()
        if meta.startswith("rate_hz="):
            rate = Fraction(meta.split("=", 1)[1])
    if len(lines) < 2:
        raise MediaError(f"{path}: a Motion CSV needs a header row and at least one data row")
    header = [h.strip() for h in lines[0].split(",")]
    rows = [[float(v) for v in ln.split(",")] for ln in lines[1:] if ln.strip()]
    data = np.asarray(rows)
    if data.ndim != 2 or data.shape[1] != len(header):
        raise MediaError(f"{path}: every row must have {len(header)} values like the header")
    has_time = header[0] in ("time_s", "t", "time")
    if has_time:
        t, data, header = data[:, 0], data[:, 1:], header[1:]
        if rate is None:
            if len(t) < 2 or np.ptp(np.diff(t)) > 1e-6 * max(1.0, float(np.abs(t).max())):
                raise MediaError(f"{path}: time_s must be evenly spaced (or give '# rate_hz=...' on the first line)")
            rate = Fraction(1 / float(np.mean(np.diff(t)))).limit_denominator(1000)
    if rate is None:
        raise MediaError(f"{path}: no time_s column and no '# rate_hz=...' line: the rate is unknown")
    names, units = zip(*[_split_unit(h) for h in header])
    return Motion(data, rate, names, units, start_s=Fraction(t[0]).limit_denominator(100000) if has_time else 0)


def _split_unit(h: str) -> tuple[str, str]:
    if h.endswith("]") and "[" in h:
        name, unit = h[:-1].split("[", 1)
        return name.strip(), unit.strip()
    return h, ""


# ---------------------------------------------------------------------------------------------- saving
def _write_text(text: Text, tmp: Path):
    tmp.write_text(text.text)


def _write_image(img: Image, tmp: Path, quality: int = 95):
    import cv2

    p = img.pixels
    if p.dtype == np.float32:
        p = np.clip(np.round(p * 65535 if tmp.suffix.lower() in (".png", ".tif", ".tiff") else p * 255), 0, None)
        p = p.astype(np.uint16 if tmp.suffix.lower() in (".png", ".tif", ".tiff") else np.uint8)
    if tmp.suffix.lower() in (".jpg", ".jpeg", ".bmp") and p.dtype == np.uint16:
        p = (p // 257).astype(np.uint8)
    code = cv2.COLOR_RGBA2BGRA if p.shape[2] == 4 else cv2.COLOR_RGB2BGR
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if tmp.suffix.lower() in (".jpg", ".jpeg") else []
    if not cv2.imwrite(str(tmp), cv2.cvtColor(np.ascontiguousarray(p), code), params):
        raise MediaError(f"OpenCV could not write {tmp.suffix} images")


def _write_audio(audio: Audio, tmp: Path, bitrate: int = 192_000):
    ext = tmp.suffix.lower()
    if ext in (".wav", ".flac", ".ogg", ".oga"):
        import soundfile as sf

        subtype = {"wav": "PCM_16", "flac": "PCM_16"}.get(ext[1:], None)
        block = 1 << 20  # clipped block by block: a long soundtrack needs no second full-length copy
        with sf.SoundFile(str(tmp), "w", audio.sample_rate_hz, audio.channels, subtype=subtype) as f:
            for a in range(0, max(1, audio.num_samples), block):
                f.write(np.clip(audio.samples[a : a + block], -1, 1))
        return
    write_audio(audio, tmp, bitrate)


def _write_motion(m: Motion, tmp: Path):
    ext = tmp.suffix.lower()
    if ext == ".npz":
        with open(tmp, "wb") as fh:
            np.savez(fh, values=m.values, rate_hz=str(m.rate_hz), channels=np.array(m.channels),
                     units=np.array(m.units), start_s=str(m.start_s))
    elif ext == ".json":
        tmp.write_text(json.dumps(tagged("motion", {"rate_hz": str(m.rate_hz), "start_s": str(m.start_s),
                                                     "channels": list(m.channels), "units": list(m.units),
                                                     "values": m.values.tolist()})))
    else:
        header = ",".join(["time_s"] + [f"{c}[{u}]" if u else c for c, u in zip(m.channels, m.units)])
        t = m.times_s()[:, None]
        body = "\n".join(",".join(repr(float(v)) for v in row) for row in np.hstack([t, m.values]))
        tmp.write_text(f"# rate_hz={m.rate_hz}\n{header}\n{body}\n")


# ---------------------------------------------------------------------------------------------- info
def info(path) -> dict:
    """What a file is: kind, streams, duration, size as displayed, fps, rotation, audio."""
    path = Path(path)
    media = load(path)
    out: dict[str, Any] = {"path": str(path), "kind": media.KIND, "bytes": path.stat().st_size}
    if isinstance(media, Video):
        out.update(width=media.width, height=media.height, rotation_deg=media.rotation_deg, fps=str(media.fps),
                   fps_float=round(float(media.fps), 3), frames=media.num_frames,
                   duration_s=round(float(media.duration_s), 3), variable_frame_rate=media.is_variable_frame_rate)
        with open_container(lambda: str(path), str(path)) as c:
            out["container"] = c.format.name
            out["streams"] = [_stream_info(s) for s in c.streams]
        a = media.audio
        out["audio"] = None if a is None else {"sample_rate_hz": a.sample_rate_hz, "channels": a.channels,
                                               "duration_s": round(float(a.duration_s), 3)}
    elif isinstance(media, Audio):
        peak = max((float(np.abs(b).max()) for b in media.iter_blocks(1 << 18) if b.size), default=0.0)
        out.update(sample_rate_hz=media.sample_rate_hz, channels=media.channels,
                   duration_s=round(float(media.duration_s), 3), peak=round(peak, 4))
    elif isinstance(media, Image):
        out.update(width=media.width, height=media.height, channels=media.pixels.shape[2], dtype=str(media.pixels.dtype))
    elif isinstance(media, Motion):
        out.update(rate_hz=str(media.rate_hz), frames=media.num_frames, channels=list(media.channels),
                   units=list(media.units), duration_s=round(float(media.duration_s), 3))
    elif callable(getattr(media, "info_fields", None)):  # any other medium describes itself (a Score)
        out.update(media.info_fields())
    return out


def _stream_info(s) -> dict:
    d = {"index": s.index, "type": s.type, "codec": s.codec_context.name if s.codec_context else None}
    if s.type == "video":
        d.update(stored_width=s.codec_context.width, stored_height=s.codec_context.height)
    elif s.type == "audio":
        d.update(sample_rate_hz=s.codec_context.sample_rate, channels=s.codec_context.channels)
    return d


FORMATS = (
    Format("video", VIDEO_EXT, _read_video, write_video, types=(Video,), description="PyAV video (+ audio)"),
    Format("audio", AUDIO_EXT + (".mp4",), _read_audio, _write_audio, types=(Audio,),
           description="soundfile (wav, flac, ogg) or PyAV (mp3, m4a, aac, opus)"),
    Format("image", IMAGE_EXT, _read_image, _write_image, types=(Image,), description="OpenCV, 8/16-bit, alpha"),
    Format("motion", (".csv", ".npz"), _load_motion, _write_motion, types=(Motion,)),
    Format("motion", (".json",), _load_motion, _write_motion, types=(Motion,),
           sniff=is_json_kind("motion", untagged=True)),
    Format("text", TEXT_EXT, _read_text, _write_text, types=(Text,)),
    Format("process", (), _read_process, _write_process, types=("xmedia.process.Process",), directory=True,
           sniff=lambda p: json_kind(p / "config.json") == "process",
           description="a saved Process folder: config.json + model.safetensors + README.md"),
)
