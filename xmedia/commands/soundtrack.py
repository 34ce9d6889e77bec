"""CLI: ``xmedia translate clip.mp4 --to audio -o out.wav|out.mp4`` — a soundtrack in sync with the picture.

``-o out.wav`` (or any audio extension) writes the soundtrack alone; ``-o out.mp4`` (.mov, .mkv, .m4v) writes
the clip with the soundtrack muxed as AAC, the video stream copied packet for packet when the container can
hold its codec, else re-encoded to H.264. ``--mix replace|under|over`` combines it with the clip's own audio.
``--report out.png`` plots the picture's motion energy and events over the soundtrack's waveform,
spectrogram and onsets on one time axis.
"""
from __future__ import annotations

import sys
from pathlib import Path

from xmedia.errors import ConfigError, MediaError, RouteError

VIDEO_OUT = {".mp4", ".mov", ".mkv", ".m4v"}
PIPELINE_OPTIONS = {"style", "seed", "tempo", "key", "bank", "sample_rate_hz", "max_side"}


def add_translate_arguments(parser) -> None:
    have = parser._option_string_actions  # another area may already define a flag: share it, never redefine
    group = parser.add_argument_group("soundtrack (video -> audio)")
    flags = [
        ("--mix", dict(choices=("replace", "under", "over"), help="against the clip's own audio (default replace)")),
        ("--style", dict(help="soundtrack style: music (default) or foley (event-synced hits only)")),
        ("--tempo", dict(type=float, help="fixed tempo in bpm (default: follows the picture's pace)")),
        ("--key", dict(help="key, e.g. A, F#m, 'Bb minor' (default: from the picture's brightness and valence)")),
        ("--bank", dict(metavar="DIR", help="compose from your own audio samples in DIR (remix mode)")),
    ]
    for flag, kw in flags:
        if flag not in have:
            group.add_argument(flag, **kw)


def handle_translate(args, x, to) -> bool:
    from xmedia.media import Video

    if to != "audio" or not isinstance(x, Video):
        return False
    from xmedia.adapters.composer import mix, soundtrack
    from xmedia.cli import translate_options
    from xmedia.io import AUDIO_EXT

    out = Path(args.output)
    ext = out.suffix.lower()
    if ext not in VIDEO_OUT | AUDIO_EXT:
        raise ConfigError(f"{out}: write the soundtrack as audio ({', '.join(sorted(AUDIO_EXT))}) or as the video "
                          f"with the soundtrack muxed ({', '.join(sorted(VIDEO_OUT))})")
    opts = translate_options(args)
    for name in ("style", "tempo", "key", "bank"):
        if getattr(args, name, None) is not None:
            opts[name] = getattr(args, name)
    progress = sys.stderr.isatty()
    emb = None
    if args.via or args.bridge:
        import xmedia

        audio = xmedia.translate(x, to="audio", via=args.via, bridge=args.bridge, **opts)
    else:
        unknown = set(opts) - PIPELINE_OPTIONS
        if unknown:
            raise RouteError(f"option(s) {sorted(unknown)} are not accepted by the soundtrack pipeline; "
                             f"accepted: {sorted(PIPELINE_OPTIONS)}")
        audio, emb, _ = soundtrack(x, progress=progress, return_parts=True, **opts)
    final = mix(audio, x.audio, getattr(args, "mix", None) or "replace")
    if ext in VIDEO_OUT:
        how = write_video_with_audio(x, final, out, progress=progress)
        print(f"wrote {out} (video {how}, soundtrack AAC, {float(final.duration_s):.3f} s)")
    else:
        final.save(out)
        print(f"wrote {out} ({float(final.duration_s):.3f} s, {final.sample_rate_hz} Hz)")
    if getattr(args, "report", None):
        if emb is None:
            from xmedia.adapters.perceptual import encode_video

            emb = encode_video(x)
        write_report(args.report, emb, audio, title=Path(args.input).name)
        print(f"wrote {args.report}")
    return True


# ---------------------------------------------------------------------------------------------- muxing
def write_video_with_audio(video, audio, path, progress: bool = False) -> str:
    """Write ``video`` with ``audio`` as its only sound track, atomically. Returns ``"copied"`` when the video
    packets were copied unchanged (no quality loss, fast), ``"re-encoded"`` when they had to be encoded (H.264)."""
    import av

    from xmedia.atomic import atomic_path
    from xmedia.io import _save_video

    with atomic_path(path) as tmp:
        if video.source and Path(video.source).is_file():
            try:
                _remux(video.source, audio, tmp)
                return "copied"
            except (av.error.FFmpegError, ValueError, TypeError):
                pass  # the container cannot hold this codec as is (e.g. MS-MPEG4 in mp4): re-encode
        _save_video(video, tmp, audio=audio, progress=progress)
        return "re-encoded"


def _remux(src: str, audio, tmp: Path) -> None:
    """Copy the video packets of ``src`` and encode ``audio`` as AAC alongside, interleaved by time."""
    import av

    from xmedia.io import _add_audio_stream, _video_stream

    with av.open(src, metadata_errors="ignore") as inp, av.open(str(tmp), "w") as out:
        vin = _video_stream(inp)
        if vin is None:
            raise MediaError(f"{src}: has no video stream to copy")
        vout = out.add_stream_from_template(vin)
        ast, audio = _add_audio_stream(out, audio, "aac", 192_000)
        start_s = float((vin.start_time or 0) * vin.time_base)
        pending = _audio_packets(ast, audio, offset=int(round(start_s * audio.sample_rate_hz)))
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


def _audio_packets(st, audio, offset: int = 0):
    import av
    import numpy as np

    samples = audio.samples[:, :2] if audio.channels >= 2 else audio.samples[:, :1]
    block = 1024 * 8
    for i in range(0, samples.shape[0], block):
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[i : i + block].T), format="fltp",
                                           layout=st.layout.name)
        frame.sample_rate = audio.sample_rate_hz
        frame.pts = offset + i
        yield from st.encode(frame)
    yield from st.encode(None)


# ---------------------------------------------------------------------------------------------- report
def write_report(path, embedding, audio, title: str = "") -> Path:
    """PNG: motion energy with visual events above the soundtrack's waveform, spectrogram and onsets."""
    from xmedia.report import pyplot, save_figure

    plt = pyplot()
    import numpy as np

    from xmedia.adapters.composer import detect_onsets

    events = np.array([float(e) for e in embedding.events_s])
    onsets = detect_onsets(audio)
    fps = float(embedding.rate_hz)
    hit = [bool(len(onsets)) and np.abs(onsets - e).min() <= 1 / fps for e in events]
    dur = float(audio.duration_s)
    fig, ax = plt.subplots(3, 1, figsize=(12, 7.5), sharex=True, gridspec_kw={"height_ratios": [1, 1, 1.4]})
    t = embedding.times_s()
    ax[0].plot(t, embedding.axis("energy"), color="tab:blue", label="motion energy")
    ax[0].plot(t, embedding.axis("onset"), color="tab:orange", alpha=0.6, lw=0.8, label="visual onset")
    for e in events:
        ax[0].axvline(e, color="tab:red", lw=1.2, alpha=0.8)
    ax[0].set_ylim(0, 1.05)
    ax[0].set_ylabel("picture")
    ax[0].legend(loc="upper right", fontsize=8)
    ax[0].set_title(f"{title}  —  {len(events)} visual events, {sum(hit)} marked by a soundtrack onset within "
                    f"one frame ({1000 / fps:.0f} ms)")
    mono = audio.mono()
    step = max(1, len(mono) // 4000)
    n = len(mono) // step * step
    blocks = mono[:n].reshape(-1, step)
    tb = np.arange(blocks.shape[0]) * step / audio.sample_rate_hz
    ax[1].fill_between(tb, blocks.min(axis=1), blocks.max(axis=1), color="0.3", lw=0)
    for o in onsets:
        ax[1].axvline(o, color="tab:green", lw=0.6, alpha=0.5)
    for e in events:
        ax[1].axvline(e, color="tab:red", lw=1.2, alpha=0.8, ls="--")
    ax[1].set_ylabel("soundtrack")
    ax[1].set_ylim(-1, 1)
    ax[2].specgram(mono, NFFT=1024, Fs=audio.sample_rate_hz, noverlap=768, cmap="magma", vmin=-120)
    ax[2].vlines(onsets, 0, 1500, color="tab:green", lw=0.8, alpha=0.7, label="soundtrack onsets")
    ax[2].set_ylim(0, min(12000, audio.sample_rate_hz / 2))
    ax[2].set_ylabel("Hz")
    ax[2].set_xlabel("time (s)")
    ax[2].set_xlim(0, dur)
    ax[2].legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path, dpi=110)
