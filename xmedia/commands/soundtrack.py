"""CLI: ``xmedia translate clip.mp4 --to audio -o out.wav|out.mp4`` — a soundtrack in sync with the picture.

The route (``translate``) makes the soundtrack; this area turns the flags into route options and writes the
result. ``-o out.wav`` (or any audio extension) writes the soundtrack alone; ``-o out.mp4`` (.mov, .mkv, .m4v)
writes the clip with the soundtrack muxed as AAC, the video stream copied packet for packet when the container
can hold its codec (``.mkv`` takes more codecs than ``.mp4``, e.g. MS-MPEG4), else re-encoded to H.264 (x264 ultrafast, CRF 20).
``--mix replace|under|over`` combines it with the clip's own audio. ``--report out.png`` plots the picture's motion energy and events over the soundtrack's waveform,
spectrogram and onsets on one time axis.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import xmedia
from xmedia.adapters.composer import MIXES, mix
from xmedia.adapters.perceptual.audio import detect_onsets
from xmedia.avio import TRANSCODE_CRF, TRANSCODE_PRESET
from xmedia.errors import ConfigError
from xmedia.io import AUDIO_EXT, write_video_with_audio
from xmedia.media import Video
from xmedia.report import pyplot, save_figure

from . import Flag

ORDER = 10  # where this area's hooks run among the others' (xmedia.commands.areas)
VIDEO_OUT = (".mp4", ".mov", ".mkv", ".m4v")
REPORTS = ("video->audio",)  # --report: a video's soundtrack is plotted against its picture
TRANSLATE_GROUP = "soundtrack (video -> audio)"
TRANSLATE_FLAGS = (  # --style is declared by the style area (it also names music, foley and sfx)
    Flag("mix", "against the clip's own audio (default replace)", choices=MIXES, writer_for=("video->audio",)),
    Flag("tempo", "fixed tempo in bpm (default: follows the picture's pace)", type=float),
    Flag("key", "key, e.g. A, F#m, 'Bb minor' (default: from the picture's brightness and valence)"),
    Flag("bank", "compose from your own audio samples in DIR (remix mode)", metavar="DIR"),
    Flag("music-style", "--style score: the composition style that writes the notes: bach-chorales (default), "
                        "irish-folk, chinese-folk, a folder from `xmedia train music` or a blend "
                        "'bach-chorales:0.5,irish-folk:0.5'", metavar="NAME"),
    Flag("score", "--style score: also write the notes the soundtrack plays (.mid, .musicxml)", metavar="OUT.mid",
         writer_for=("video->audio",), writes_file=True),
    Flag("stems", "--style score: also write one WAV per part into DIR", metavar="DIR", writer_for=("video->audio",),
         writes_file=True),
)
SCORE_OUT = (".mid", ".midi", ".musicxml", ".mxl", ".xml")


def check_output(args, x, to) -> None:
    """A video's soundtrack is written as audio or muxed into a copy of the video: refuse anything else."""
    if to != "audio" or not isinstance(x, Video):
        return
    out = Path(args.output)
    for name in ("score", "stems"):
        if getattr(args, name, None) and getattr(args, "style", None) != "score":
            raise ConfigError(f"--{name} writes the notes of a composed soundtrack: add --style score")
    if getattr(args, "score", None) and Path(args.score).suffix.lower() not in SCORE_OUT:
        raise ConfigError(f"--score {args.score}: write the notes as {', '.join(SCORE_OUT)}")
    if out.suffix.lower() not in VIDEO_OUT + AUDIO_EXT:
        raise ConfigError(f"{out}: write the soundtrack as audio ({', '.join(sorted(AUDIO_EXT))}) or as the video "
                          f"with the soundtrack muxed ({', '.join(sorted(VIDEO_OUT))})")


def write_result(args, x, trace) -> bool:
    """A video's soundtrack: mixed with the clip's own audio, written alone or muxed, and its report."""
    if trace.route.nodes[-1] != "audio" or not isinstance(x, Video):
        return False
    audio = trace.output
    final = mix(audio, x.audio, getattr(args, "mix", None) or "replace")
    out = Path(args.output)
    if out.suffix.lower() in VIDEO_OUT:
        how = write_video_with_audio(x, final, out, progress=sys.stderr.isatty())
        detail = how
        if how == "re-encoded":
            detail = (f"re-encoded: H.264 {TRANSCODE_PRESET} CRF {TRANSCODE_CRF}, as {out.suffix} cannot hold the "
                      "original stream; -o .mkv keeps it untouched")
        print(f"wrote {out} (video {detail}, soundtrack AAC, {float(final.duration_s):.3f} s)")
    else:
        final.save(out)
        print(f"wrote {out} ({float(final.duration_s):.3f} s, {final.sample_rate_hz} Hz)")
    write_score_outputs(args, trace)
    if getattr(args, "report", None):
        embedding = trace.get("space:perceptual")
        if embedding is None:  # the route went through another space: the report still shows the picture's axes
            embedding = xmedia.encode(x)
        write_report(args.report, embedding, audio, title=Path(args.input).name)
        print(f"wrote {args.report}")
    return True


def write_score_outputs(args, trace) -> None:
    """``--score``: the notes the soundtrack plays; ``--stems DIR``: one WAV per part (they sum to the mix)."""
    score = trace.get("score")
    if score is None or not (getattr(args, "score", None) or getattr(args, "stems", None)):
        return
    if args.score:
        score.save(args.score)
        print(f"wrote {args.score} ({score.num_notes} notes, {len(score.parts)} parts, {score.key}, "
              f"{float(score.tempo_bpm):g} bpm)")
    if args.stems:
        from xmedia.bridges.score_soundtrack import render_stems
        from xmedia.media import Audio

        folder = Path(args.stems)
        folder.mkdir(parents=True, exist_ok=True)
        sr = trace.output.sample_rate_hz
        for name, samples in render_stems(score, sr).items():
            Audio(samples, sr).save(folder / f"{name}.wav")
        print(f"wrote {folder}/ (one WAV per part)")


def write_report(path, embedding, audio, title: str = "") -> Path:
    """PNG: motion energy with visual events above the soundtrack's waveform, spectrogram and onsets."""
    plt = pyplot()
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
