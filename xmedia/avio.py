"""PyAV: reading and writing video and audio streams, and muxing a soundtrack into a video.

Reading applies the rotation side data, keeps real timestamps (variable frame rate survives), decodes the audio
track alongside and decodes frames lazily; writing encodes H.264 + AAC (mp4/mov/mkv), VP9 + Opus (webm),
MPEG-4 + MP3 (avi) or GIF. ``write_video_with_audio`` copies a file's video packets unchanged next to a new
sound track when the container allows it.
"""
from __future__ import annotations

import warnings
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .atomic import atomic_path
from .errors import DecodeWarning, MediaError
from .media import Audio, Frame, Video


def open_container(opener: Callable[[], Any], name: str):
    import av

    try:
        return av.open(opener(), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise MediaError(f"{name}: cannot be opened as media ({exc}). Is the file complete and of a known format?") from None


def video_stream(container):
    import av

    pic = av.stream.Disposition.attached_pic
    streams = [s for s in container.streams.video if pic not in s.disposition]
    return streams[0] if streams else None


def load_av(opener: Callable[[], Any], name: str, want: str | None = None):
    import av

    with open_container(opener, name) as c:
        vs = video_stream(c)
        has_audio = bool(c.streams.audio)
        if vs is None and not has_audio:
            raise MediaError(f"{name}: the container has no video or audio stream (nothing to decode: an empty or "
                             "unfinished recording?)")
        if want == "audio" or (vs is None and want != "video"):
            if not has_audio:
                raise MediaError(f"{name}: has no audio stream")
            return decode_audio(opener, name)
        if vs is None:
            raise MediaError(f"{name}: has no video stream" + (" (it is audio: load it as audio)" if has_audio else ""))
        index, time_base = vs.index, vs.time_base
        fps = vs.average_rate or vs.guessed_rate or vs.base_rate
        pts = _scan_pts(c, vs, name)
    with open_container(opener, name) as c:
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
    reader = FrameReader(opener, name, index, rotation, pts, time_base)
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


class FrameReader:
    """Decodes frames on demand (a fresh container per pass), rotated to display orientation."""

    def __init__(self, opener, name, index, rotation, pts, time_base):
        self.opener, self.name, self.index, self.rotation = opener, name, index, rotation
        self.pts, self.time_base = pts, Fraction(time_base)

    def __call__(self, max_side=None, start=0, stop=None):
        import av

        stop = len(self.pts) if stop is None else min(stop, len(self.pts))
        with open_container(self.opener, self.name) as c:
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
    (A whole-factor pre-shrink is faster for fractional ratios but changes the pixels slightly, and the learned
    visual-onset model was trained on these exact ones.)
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
    with open_container(opener, name) as c:
        if not c.streams.audio:
            raise MediaError(f"{name}: has no audio stream")
        st = c.streams.audio[0]
        try:
            rate = st.rate or st.codec_context.sample_rate
            layout = st.layout.name if st.layout else "stereo"
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        except (ValueError, av.error.FFmpegError) as exc:  # e.g. "Invalid layout: 0 channels" in random bytes
            raise MediaError(f"{name}: the audio stream cannot be decoded ({exc}); is the file damaged?") from None
        if not rate:
            raise MediaError(f"{name}: the audio stream has no sample rate; is the file damaged?")
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



def add_audio_stream(container, audio: Audio, codec: str, bitrate: int):
    """Add an audio stream (before any packet is muxed); returns the stream and the audio to encode."""
    if codec == "libopus" and audio.sample_rate_hz != 48000:
        audio = audio.resample(48000)
    st = container.add_stream(codec, rate=audio.sample_rate_hz)
    st.layout = "stereo" if audio.channels >= 2 else "mono"
    st.bit_rate = bitrate
    return st, audio


def audio_packets(st, audio: Audio, offset: int = 0):
    """Encode ``audio`` (its first two channels) on stream ``st``; yields packets, the encoder's tail last."""
    import av

    samples = audio.samples[:, :2] if audio.channels >= 2 else audio.samples[:, :1]
    block = 1024 * 8
    for i in range(0, samples.shape[0], block):
        chunk = np.ascontiguousarray(samples[i : i + block].T.astype(np.float32))
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=st.layout.name)
        frame.sample_rate = audio.sample_rate_hz
        frame.pts = offset + i
        yield from st.encode(frame)
    yield from st.encode(None)


def write_audio(audio: Audio, tmp: Path, bitrate: int = 192_000) -> None:
    """mp3, opus, m4a/aac/mp4 through PyAV's encoders."""
    import av

    ext = tmp.suffix.lower()
    codec = {".mp3": "libmp3lame", ".opus": "libopus"}.get(ext, "aac")
    fmt = {".m4a": "mp4", ".aac": "adts", ".mp4": "mp4"}.get(ext)
    with av.open(str(tmp), "w", format=fmt) as c:
        st, audio = add_audio_stream(c, audio, codec, bitrate)
        for pkt in audio_packets(st, audio):
            c.mux(pkt)


def write_video(video: Video, tmp: Path, crf: int = 20, audio: Audio | None = None, progress: bool = False,
                preset: str = "veryfast"):
    """H.264 + AAC (mp4/mov/mkv), VP9 + Opus (webm), MPEG-4 (avi) or GIF, via PyAV / Pillow."""
    ext = tmp.suffix.lower()
    audio = audio if audio is not None else video.audio
    if ext == ".gif":
        return write_gif(video, tmp)
    import av

    vcodec, acodec = {".webm": ("libvpx-vp9", "libopus"), ".avi": ("mpeg4", "mp3")}.get(ext, ("libx264", "aac"))
    if acodec == "mp3":
        acodec = "libmp3lame"
    w, h = video.width - video.width % 2, video.height - video.height % 2
    # AVI has no per-frame timestamps worth the name: write it on the nominal frame grid (frame count units).
    # MPEG-4 part 2 needs a time base of at most 65535 units a second: round 1000000/66667 fps to 15.
    rate = video.fps.limit_denominator(1001) if ext == ".avi" else video.fps
    tb = 1 / rate if ext == ".avi" else video.time_base
    with av.open(str(tmp), "w") as c:
        vs = c.add_stream(vcodec, rate=rate)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.time_base = tb
        vs.codec_context.time_base = tb
        if vcodec == "libx264":
            vs.options = {"crf": str(crf), "preset": preset}
        if audio is not None:
            ast, audio = add_audio_stream(c, audio, acodec, 192_000)
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
            for pkt in audio_packets(ast, audio):
                c.mux(pkt)


def write_gif(video: Video, tmp: Path, max_side: int = 480):
    from PIL import Image as PILImage

    frames = [PILImage.fromarray(f.rgb) for f in video.iter_frames(max_side=max_side)]
    times = video.times_s()
    durations = [max(20, int(round(1000 * d))) for d in np.diff(np.append(times, times[-1] + 1 / float(video.fps)))]
    frames[0].save(str(tmp), format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0)


# A copy that cannot be made is re-encoded for speed: x264 "ultrafast" at CRF 20 is visually transparent for
# everyday footage and ~2x faster than "veryfast", at ~2.5x the file size (write .mkv to keep the original stream).
TRANSCODE_PRESET, TRANSCODE_CRF = "ultrafast", 20


def write_video_with_audio(video, audio, path, progress: bool = False) -> str:
    """Write ``video`` with ``audio`` as its only sound track, atomically. Returns ``"copied"`` when the video
    packets were copied unchanged (no quality loss, fast), ``"re-encoded"`` when they had to be encoded (H.264,
    ``TRANSCODE_PRESET`` at ``TRANSCODE_CRF``)."""
    import av

    with atomic_path(path) as tmp:
        source = video.source if video.source and Path(video.source).is_file() else None
        if source:
            try:
                _remux(source, audio, tmp)
                return "copied"
            except (av.error.FFmpegError, ValueError, TypeError):
                pass  # the container cannot hold this codec as is (e.g. MS-MPEG4 in mp4): re-encode
            if not video.rotation_deg and tmp.suffix.lower() in (".mp4", ".mov", ".mkv", ".m4v"):
                _transcode(source, audio, tmp, progress=progress)
                return "re-encoded"
        write_video(video, tmp, crf=TRANSCODE_CRF, audio=audio, progress=progress, preset=TRANSCODE_PRESET)
        return "re-encoded"


def _transcode(src: str, audio, tmp: Path, progress: bool = False) -> None:
    """Re-encode the video stream of ``src`` to H.264 straight from its decoded frames (no RGB round trip,
    the source's timestamps kept) with ``audio`` as AAC."""
    import av

    with av.open(src, metadata_errors="ignore") as inp, av.open(str(tmp), "w") as out:
        vin = video_stream(inp)
        vin.thread_type = "AUTO"
        ctx = vin.codec_context
        vs = out.add_stream("libx264", rate=vin.average_rate or vin.guessed_rate or 25)
        vs.width, vs.height, vs.pix_fmt = ctx.width - ctx.width % 2, ctx.height - ctx.height % 2, "yuv420p"
        vs.time_base = vin.time_base
        vs.options = {"crf": str(TRANSCODE_CRF), "preset": TRANSCODE_PRESET}
        ast, audio = add_audio_stream(out, audio, "aac", 192_000)
        frames = inp.decode(vin)
        if progress:
            from tqdm import tqdm

            frames = tqdm(frames, total=vin.frames or None, desc="encode", unit="frame")
        last, first = -1, None
        for frame in frames:
            if frame.format.name != "yuv420p" or frame.width != vs.width or frame.height != vs.height:
                frame = frame.reformat(width=vs.width, height=vs.height, format="yuv420p")
            t = frame.pts if frame.pts is not None else last + 1
            first = t if first is None else first
            frame.pts = last = max(last + 1, t - first)  # from zero, strictly increasing
            frame.time_base = vin.time_base
            frame.pict_type = av.video.frame.PictureType.NONE  # let x264 choose
            for pkt in vs.encode(frame):
                out.mux(pkt)
        for pkt in vs.encode(None):
            out.mux(pkt)
        for pkt in audio_packets(ast, audio):
            out.mux(pkt)


def _remux(src: str, audio, tmp: Path) -> None:
    """Copy the video packets of ``src`` and encode ``audio`` as AAC alongside, interleaved by time."""
    import av

    with av.open(src, metadata_errors="ignore") as inp, av.open(str(tmp), "w") as out:
        vin = video_stream(inp)
        if vin is None:
            raise MediaError(f"{src}: has no video stream to copy")
        vout = out.add_stream_from_template(vin)
        ast, audio = add_audio_stream(out, audio, "aac", 192_000)
        start_s = float((vin.start_time or 0) * vin.time_base)
        pending = audio_packets(ast, audio, offset=int(round(start_s * audio.sample_rate_hz)))
        nxt = next(pending, None)
        for pkt in inp.demux(vin):
            if pkt.dts is None:
                continue
            t = float(pkt.dts * pkt.time_base)
            while nxt is not None and float(nxt.pts * nxt.time_base) <= t:
                out.mux(nxt)
                nxt = next(pending, None)
            pkt.stream = vout
            out.mux(pkt)
        while nxt is not None:
            out.mux(nxt)
            nxt = next(pending, None)
