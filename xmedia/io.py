"""Reading and writing media: ``load(path | bytes | ndarray)`` and ``save(media, path)``.

Video goes through PyAV (rotation side data applied, real timestamps kept, audio track decoded alongside,
frames decoded lazily); audio through soundfile with PyAV as the fallback (mp3, m4a/aac); images through
OpenCV; Motion as CSV, NPZ or JSON. Every write is atomic. Errors are ``MediaError`` naming file and problem.
"""
from __future__ import annotations

import io as _io
import json
import warnings
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .atomic import atomic_path
from .errors import MediaError
from .media import Audio, Frame, Image, Motion, Text, Video, as_fraction

VIDEO_EXT = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".gif"}
AUDIO_EXT = {".wav", ".flac", ".ogg", ".oga", ".mp3", ".m4a", ".aac", ".opus"}
IMAGE_EXT = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
MOTION_EXT = {".csv", ".npz", ".json"}
TEXT_EXT = {".txt"}


class DecodeWarning(UserWarning):
    """Part of a file could not be decoded; what could be decoded is used."""


# ---------------------------------------------------------------------------------------------- loading
def load(src, kind: str | None = None, **options):
    """Load a file path, ``bytes`` or ndarray as Video, Audio, Image, Motion or Text.

    For arrays pass what cannot be guessed: ``sample_rate_hz=`` (audio), ``fps=`` (video), ``rate_hz=`` (motion).
    """
    if isinstance(src, (Video, Audio, Image, Motion, Text)):
        return src
    if isinstance(src, np.ndarray):
        return _from_array(src, kind, **options)
    if isinstance(src, (bytes, bytearray, memoryview)):
        return _from_bytes(bytes(src), kind, **options)
    if not isinstance(src, (str, Path)):
        raise MediaError(f"load() takes a path, bytes or ndarray, got {type(src).__name__}")
    path = Path(src)
    if not path.exists():
        raise MediaError(f"{path}: no such file")
    if path.is_dir():
        raise MediaError(f"{path} is a directory; give a media file")
    if path.stat().st_size == 0:
        raise MediaError(f"{path} is empty (0 bytes)")
    ext = path.suffix.lower()
    kind = kind or _kind_from_ext(ext, path)
    if kind == "image":
        return _load_image(path.read_bytes(), str(path))
    if kind == "audio":
        return _load_audio(path, str(path))
    if kind == "motion":
        return _load_motion(path)
    if kind == "text":
        return Text(path.read_text())
    return _load_av(lambda: str(path), str(path), want=kind)


def _kind_from_ext(ext: str, path: Path) -> str:
    for kind, exts in (("video", VIDEO_EXT), ("audio", AUDIO_EXT), ("image", IMAGE_EXT), ("motion", MOTION_EXT),
                       ("text", TEXT_EXT)):
        if ext in exts:
            return kind
    raise MediaError(
        f"{path}: unknown extension {ext!r}. Known: video {sorted(VIDEO_EXT)}, audio {sorted(AUDIO_EXT)}, "
        f"image {sorted(IMAGE_EXT)}, motion {sorted(MOTION_EXT)}; or pass kind='video'|'audio'|..."
    )


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
    return _load_av(lambda: _io.BytesIO(data), "<bytes>", want=kind)


def _load_image(data: bytes, name: str) -> Image:
    import cv2

    arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise MediaError(f"{name}: not a readable image (corrupt, truncated or unsupported format)")
    if arr.ndim == 2:
        arr = cv2.cvtColor(arr, cv2.COLOR_GRAY2RGB)
    elif arr.shape[2] == 4:
        arr = cv2.cvtColor(arr, cv2.COLOR_BGRA2RGBA)
    else:
        arr = cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)
    return Image(arr)


def _load_audio(src, name: str) -> Audio:
    import soundfile as sf

    try:
        data, rate = sf.read(_io.BytesIO(src) if isinstance(src, bytes) else str(src), dtype="float32", always_2d=True)
    except Exception:  # libsndfile cannot read it (m4a, some mp3): PyAV can
        opener = (lambda: _io.BytesIO(src)) if isinstance(src, bytes) else (lambda: str(src))
        return _load_av(opener, name, want="audio")
    if data.shape[0] == 0:
        raise MediaError(f"{name}: the audio has no samples (zero length)")
    if not np.isfinite(data).all():
        raise MediaError(f"{name}: the audio contains NaN/inf samples; the file is corrupt")
    return Audio(data, rate)


def _open(opener: Callable[[], Any], name: str):
    import av

    try:
        return av.open(opener(), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise MediaError(f"{name}: cannot be opened as media ({exc}). Is the file complete and of a known format?") from None


def _video_stream(container):
    import av

    pic = av.stream.Disposition.attached_pic
    streams = [s for s in container.streams.video if pic not in s.disposition]
    return streams[0] if streams else None


def _load_av(opener: Callable[[], Any], name: str, want: str | None = None):
    import av

    with _open(opener, name) as c:
        vs = _video_stream(c)
        has_audio = bool(c.streams.audio)
        if want == "audio" or (vs is None and want != "video"):
            if not has_audio:
                raise MediaError(f"{name}: has no audio stream")
            return decode_audio(opener, name)
        if vs is None:
            raise MediaError(f"{name}: has no video stream" + (" (it is audio: load it as audio)" if has_audio else ""))
        index, time_base = vs.index, vs.time_base
        fps = vs.average_rate or vs.guessed_rate or vs.base_rate
        pts = _scan_pts(c, vs, name)
    with _open(opener, name) as c:
        vs = c.streams[index]
        vs.thread_type = "AUTO"
        try:
            first = next(c.decode(vs))
        except (StopIteration, av.error.FFmpegError) as exc:
            raise MediaError(f"{name}: the video stream has no decodable frames ({exc or 'empty'})") from None
        rotation = int(round(getattr(first, "rotation", 0) or 0)) % 360
        w, h = first.width, first.height
    if rotation in (90, 270):
        w, h = h, w
    if not fps:
        fps = Fraction(len(pts) - 1, 1) / ((int(pts[-1]) - int(pts[0])) * time_base) if len(pts) > 1 else Fraction(25)
    audio = decode_audio(opener, name, quiet=True) if has_audio else None
    reader = _FrameReader(opener, name, index, rotation, pts, time_base)
    return Video(frames=None, fps=Fraction(fps), pts=pts, time_base=Fraction(time_base), audio=audio,
                 rotation_deg=rotation, width=w, height=h, reader=reader, source=name)


def _scan_pts(container, vs, name) -> np.ndarray:
    """Presentation timestamps of every video packet, read by demuxing only (no decoding)."""
    import av

    pts = []
    try:
        for pkt in container.demux(vs):
            if pkt.size == 0:
                continue
            t = pkt.pts if pkt.pts is not None else pkt.dts
            if t is not None:
                pts.append(t)
    except av.error.FFmpegError as exc:
        warnings.warn(f"{name}: stopped reading at a damaged packet ({exc}); using what came before", DecodeWarning)
    if not pts:
        raise MediaError(f"{name}: the video stream has no frames")
    return np.unique(np.asarray(pts, dtype=np.int64))


class _FrameReader:
    """Decodes frames on demand (a fresh container per pass), rotated to display orientation."""

    def __init__(self, opener, name, index, rotation, pts, time_base):
        self.opener, self.name, self.index, self.rotation = opener, name, index, rotation
        self.pts, self.time_base = pts, Fraction(time_base)

    def __call__(self, max_side=None, start=0, stop=None):
        import av

        stop = len(self.pts) if stop is None else min(stop, len(self.pts))
        with _open(self.opener, self.name) as c:
            vs = c.streams[self.index]
            vs.thread_type = "AUTO"
            i = 0
            try:
                for frame in c.decode(vs):
                    if i >= stop:
                        break
                    if i >= start:
                        yield Frame(i, (int(self.pts[i]) - int(self.pts[0])) * self.time_base, self._rgb(frame, max_side))
                    i += 1
            except av.error.FFmpegError as exc:
                warnings.warn(f"{self.name}: decoding stopped at frame {i} ({exc}); the rest is skipped", DecodeWarning)
            if i < min(stop, len(self.pts)) - 1 and i < stop:
                warnings.warn(f"{self.name}: only {i} of {len(self.pts)} frames could be decoded", DecodeWarning)

    def _rgb(self, frame, max_side):
        w, h = frame.width, frame.height
        if max_side and max(w, h) > max_side:
            s = max_side / max(w, h)
            w, h = max(2, round(w * s)) // 2 * 2, max(2, round(h * s)) // 2 * 2
            if frame.format.name == "yuv420p":
                arr = _small_rgb_from_yuv420p(frame, w, h)
            else:
                arr = frame.to_ndarray(format="rgb24", width=w, height=h, interpolation="AREA")
        else:
            arr = frame.to_ndarray(format="rgb24")
        if self.rotation:
            arr = np.ascontiguousarray(np.rot90(arr, k=self.rotation // 90))
        return arr


def _small_rgb_from_yuv420p(frame, w: int, h: int) -> np.ndarray:
    """Downscale the Y, U and V planes first, then convert the small picture to RGB.

    Analysis wants small frames; converting the full-size frame to RGB before shrinking it (what swscale does)
    costs more than decoding it. Area-averaging each plane and converting afterwards gives the same picture.
    """
    import cv2

    def plane(i, pw, ph, out_w, out_h):
        p = frame.planes[i]
        arr = np.frombuffer(p, np.uint8).reshape(-1, p.line_size)[:ph, :pw]
        return cv2.resize(arr, (out_w, out_h), interpolation=cv2.INTER_AREA)

    y = plane(0, frame.width, frame.height, w, h)
    u = plane(1, (frame.width + 1) // 2, (frame.height + 1) // 2, w // 2, h // 2)
    v = plane(2, (frame.width + 1) // 2, (frame.height + 1) // 2, w // 2, h // 2)
    i420 = np.concatenate([y.ravel(), u.ravel(), v.ravel()]).reshape(h * 3 // 2, w)
    return cv2.cvtColor(i420, cv2.COLOR_YUV2RGB_I420)


def decode_audio(opener, name: str, quiet: bool = False) -> Audio | None:
    """The first audio stream as float32; a damaged tail is dropped with a warning."""
    import av

    chunks, rate = [], None
    with _open(opener, name) as c:
        if not c.streams.audio:
            raise MediaError(f"{name}: has no audio stream")
        st = c.streams.audio[0]
        rate = st.rate or st.codec_context.sample_rate
        layout = st.layout.name if st.layout else "stereo"
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        bad = 0
        try:
            for packet in c.demux(st):
                try:
                    frames = st.decode(packet)
                except av.error.FFmpegError:
                    bad += 1  # a damaged packet (e.g. an incomplete last AC-3 frame): skip it
                    continue
                for frame in frames:
                    for out in resampler.resample(frame):
                        chunks.append(out.to_ndarray())
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray())
        except (av.error.FFmpegError, ValueError) as exc:
            warnings.warn(f"{name}: audio reading stopped early ({exc}); using what was decoded", DecodeWarning)
        if bad:
            warnings.warn(f"{name}: skipped {bad} damaged audio packet(s)", DecodeWarning)
    if not chunks:
        if quiet:
            return None
        raise MediaError(f"{name}: the audio stream has no samples (zero length)")
    samples = np.concatenate(chunks, axis=1).T
    if not np.isfinite(samples).all():
        samples = np.nan_to_num(samples, nan=0.0, posinf=0.0, neginf=0.0)
    return Audio(np.clip(samples, -1, 1), rate)


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
    except (KeyError, ValueError, TypeError, OSError, json.JSONDecodeError) as exc:
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
def save(media, path, **options) -> Path:
    """Write ``media`` to ``path`` atomically; the format follows the extension."""
    path = Path(path)
    ext = path.suffix.lower()
    writers = {Audio: _save_audio, Image: _save_image, Video: _save_video, Motion: _save_motion, Text: _save_text}
    writer = writers.get(type(media))
    if writer is None:
        if hasattr(media, "save") and not isinstance(media, (Audio, Image, Video, Motion, Text)):
            return media.save(path, **options)
        raise MediaError(f"cannot save a {type(media).__name__}")
    allowed = {_save_audio: AUDIO_EXT | {".mp4"}, _save_image: IMAGE_EXT, _save_video: VIDEO_EXT,
               _save_motion: MOTION_EXT, _save_text: TEXT_EXT}[writer]
    if ext not in allowed:
        raise MediaError(f"{path}: cannot write a {type(media).__name__} as {ext!r}; use one of {sorted(allowed)}")
    with atomic_path(path) as tmp:
        writer(media, tmp, **options)
    return path


def _save_text(text: Text, tmp: Path):
    tmp.write_text(text.text)


def _save_image(img: Image, tmp: Path, quality: int = 95):
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


def _save_audio(audio: Audio, tmp: Path, bitrate: int = 192_000):
    ext = tmp.suffix.lower()
    if ext in (".wav", ".flac", ".ogg", ".oga"):
        import soundfile as sf

        subtype = {"wav": "PCM_16", "flac": "PCM_16"}.get(ext[1:], None)
        block = 1 << 20  # clipped block by block: a long soundtrack needs no second full-length copy
        with sf.SoundFile(str(tmp), "w", audio.sample_rate_hz, audio.channels, subtype=subtype) as f:
            for a in range(0, max(1, audio.num_samples), block):
                f.write(np.clip(audio.samples[a : a + block], -1, 1))
        return
    import av

    codec = {".mp3": "libmp3lame", ".opus": "libopus"}.get(ext, "aac")
    fmt = {".m4a": "mp4", ".aac": "adts", ".mp4": "mp4"}.get(ext)
    with av.open(str(tmp), "w", format=fmt) as c:
        _encode_audio(c, *_add_audio_stream(c, audio, codec, bitrate))


def _add_audio_stream(container, audio: Audio, codec: str, bitrate: int):
    """Add an audio stream (before any packet is muxed); returns the stream and the audio to encode."""
    if codec == "libopus" and audio.sample_rate_hz != 48000:
        audio = audio.resample(48000)
    st = container.add_stream(codec, rate=audio.sample_rate_hz)
    st.layout = "stereo" if audio.channels >= 2 else "mono"
    st.bit_rate = bitrate
    return st, audio


def _encode_audio(container, st, audio: Audio):
    import av

    samples = audio.samples[:, :2] if audio.channels >= 2 else audio.samples[:, :1]
    block = 1024 * 8
    for i in range(0, samples.shape[0], block):
        chunk = np.ascontiguousarray(samples[i : i + block].T.astype(np.float32))
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=st.layout.name)
        frame.sample_rate = audio.sample_rate_hz
        frame.pts = i
        for pkt in st.encode(frame):
            container.mux(pkt)
    for pkt in st.encode(None):
        container.mux(pkt)


def _save_video(video: Video, tmp: Path, crf: int = 20, audio: Audio | None = None, progress: bool = False):
    """H.264 + AAC (mp4/mov/mkv), VP9 + Opus (webm), MPEG-4 (avi) or GIF, via PyAV / Pillow."""
    ext = tmp.suffix.lower()
    audio = audio if audio is not None else video.audio
    if ext == ".gif":
        return _save_gif(video, tmp)
    import av

    vcodec, acodec = {".webm": ("libvpx-vp9", "libopus"), ".avi": ("mpeg4", "mp3")}.get(ext, ("libx264", "aac"))
    if acodec == "mp3":
        acodec = "libmp3lame"
    w, h = video.width - video.width % 2, video.height - video.height % 2
    # AVI has no per-frame timestamps worth the name: write it on the nominal frame grid (frame count units).
    tb = 1 / video.fps if ext == ".avi" else video.time_base
    with av.open(str(tmp), "w") as c:
        vs = c.add_stream(vcodec, rate=video.fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.time_base = tb
        vs.codec_context.time_base = tb
        if vcodec == "libx264":
            vs.options = {"crf": str(crf), "preset": "veryfast"}
        if audio is not None:
            ast, audio = _add_audio_stream(c, audio, acodec, 192_000)
        frames, last_pts = video.iter_frames(), -1
        if progress:
            from tqdm import tqdm

            frames = tqdm(frames, total=video.num_frames, desc="encode", unit="frame")
        for f in frames:
            rgb = np.ascontiguousarray(f.rgb[:h, :w])
            vf = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            vf.pts = last_pts = max(last_pts + 1, round(f.time_s / tb))  # strictly increasing on a coarse grid
            vf.time_base = tb
            for pkt in vs.encode(vf):
                c.mux(pkt)
        for pkt in vs.encode(None):
            c.mux(pkt)
        if audio is not None:
            _encode_audio(c, ast, audio)


def _save_gif(video: Video, tmp: Path, max_side: int = 480):
    from PIL import Image as PILImage

    frames = [PILImage.fromarray(f.rgb) for f in video.iter_frames(max_side=max_side)]
    times = video.times_s()
    durations = [max(20, int(round(1000 * d))) for d in np.diff(np.append(times, times[-1] + 1 / float(video.fps)))]
    frames[0].save(str(tmp), format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0)


def _save_motion(m: Motion, tmp: Path):
    ext = tmp.suffix.lower()
    if ext == ".npz":
        with open(tmp, "wb") as fh:
            np.savez(fh, values=m.values, rate_hz=str(m.rate_hz), channels=np.array(m.channels),
                     units=np.array(m.units), start_s=str(m.start_s))
    elif ext == ".json":
        tmp.write_text(json.dumps({"rate_hz": str(m.rate_hz), "start_s": str(m.start_s), "channels": list(m.channels),
                                   "units": list(m.units), "values": m.values.tolist()}))
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
        with _open(lambda: str(path), str(path)) as c:
            out["container"] = c.format.name
            out["streams"] = [_stream_info(s) for s in c.streams]
        a = media.audio
        out["audio"] = None if a is None else {"sample_rate_hz": a.sample_rate_hz, "channels": a.channels,
                                               "duration_s": round(float(a.duration_s), 3)}
    elif isinstance(media, Audio):
        out.update(sample_rate_hz=media.sample_rate_hz, channels=media.channels,
                   duration_s=round(float(media.duration_s), 3), peak=round(float(np.abs(media.samples).max()), 4))
    elif isinstance(media, Image):
        out.update(width=media.width, height=media.height, channels=media.pixels.shape[2], dtype=str(media.pixels.dtype))
    elif isinstance(media, Motion):
        out.update(rate_hz=str(media.rate_hz), frames=media.num_frames, channels=list(media.channels),
                   units=list(media.units), duration_s=round(float(media.duration_s), 3))
    return out


def _stream_info(s) -> dict:
    d = {"index": s.index, "type": s.type, "codec": s.codec_context.name if s.codec_context else None}
    if s.type == "video":
        d.update(stored_width=s.codec_context.width, stored_height=s.codec_context.height)
    elif s.type == "audio":
        d.update(sample_rate_hz=s.codec_context.sample_rate, channels=s.codec_context.channels)
    return d


def as_fps(value) -> Fraction:
    return as_fraction(value, "fps")
