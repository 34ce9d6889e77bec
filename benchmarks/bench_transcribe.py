"""Transcription (basic-pitch via onnxruntime) measured on real recordings.

    python benchmarks/bench_transcribe.py [--shared ../shared] [--per-instrument N]

1. Pitch of single notes: every file of ``corpora/timbre/<instrument>/`` whose name carries its pitch
   (``Flute.vib.ff.A4``, ``a2_f_rr1_cnd``, ``black_twang_a3_f_rr1``) is transcribed; the main note (the longest
   one, ties to the louder) is compared with the name: exact, same pitch class (octave error), within a
   semitone; and the share of all transcribed notes at the named pitch.
2. A monophonic song (``corpora/timbre/singing/vocadito_1.wav``): in every 10 ms frame where the reference is
   voiced, is a transcribed note sounding, and is it the reference's nearest semitone? References: the
   dataset's own f0 annotation (``vocadito_1_f0.csv``) and torchcrepe (a tracker this project did not train).
3. Onsets: ``media/audio`` music clips, the transcription's onsets (merged within 25 ms) against
   ``librosa.onset.onset_detect``, F-measure with a 50 ms window (mir_eval).
"""
from __future__ import annotations

import argparse
import re
import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np

import xmedia
from xmedia.adapters.transcribe.transcribe import NoNotesWarning, transcribe

NAME = re.compile(r"^([A-Ga-g])(b|#)?(\d)$")
STEPS = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
INSTRUMENTS = ("violin", "flute", "alto_sax", "clarinet", "oboe", "trumpet", "electric_guitar")
ONSET_CLIPS = ("guit_em9.flac", "ambi_piano.flac", "bass_hard_c.flac", "bass_voxy_c.flac", "elec_chime.flac",
               "perc_bell.flac")


def name_pitch(path: Path) -> int | None:
    """The MIDI pitch written in a file name (C4 = 60), or None."""
    for token in re.split(r"[._\-]", path.stem):
        m = NAME.match(token)
        if m:
            return 12 * (int(m.group(3)) + 1) + STEPS[m.group(1).lower()] + {"b": -1, "#": 1, None: 0}[m.group(2)]
    return None


def quiet_transcribe(audio):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoNotesWarning)
        return transcribe(audio)


def crepe_pitch(audio) -> int | None:
    """torchcrepe's (tiny) median pitch over the clearly voiced frames, to the nearest semitone."""
    try:
        from xmedia.adapters.timbre.performance import analyse

        perf = analyse(audio, pitch="crepe")
    except Exception:  # noqa: BLE001 - the tracker is optional
        return None
    voiced = perf.periodicity > 0.5
    if not voiced.any():
        return None
    return round(float(np.median(69 + 12 * np.log2(perf.f0_hz[voiced] / 440.0))))


def single_notes(root: Path, per_instrument: int | None) -> None:
    print("1. single notes: main transcribed note vs the pitch in the file name, and vs torchcrepe's median pitch")
    print(f"   {'instrument':16s} {'files':>5s} {'exact':>6s} {'class':>6s} {'+-1':>6s} {'none':>5s} "
          f"{'notes@pitch':>11s} {'=crepe':>7s} {'crepe=name':>10s}  most common offset from the name")
    total = defaultdict(int)
    for inst in INSTRUMENTS:
        files = sorted(p for p in (root / inst).glob("*.*") if p.suffix in (".flac", ".wav") and name_pitch(p))
        if per_instrument:
            files = files[:: max(1, len(files) // per_instrument)][:per_instrument]
        exact = klass = near = none = at = n_notes = same_crepe = crepe_name = n_crepe = 0
        offsets = defaultdict(int)
        for f in files:
            want = name_pitch(f)
            audio = xmedia.load(f)
            s = quiet_transcribe(audio)
            tracked = crepe_pitch(audio)
            if tracked is not None:
                n_crepe += 1
                crepe_name += tracked == want
                same_crepe += bool(s.num_notes) and int(s.pitch[np.lexsort((s.velocity, s.duration_ticks))[-1]]) == tracked
            if not s.num_notes:
                none += 1
                continue
            main = np.lexsort((s.velocity, s.duration_ticks))[-1]
            got = int(s.pitch[main])
            exact += got == want
            klass += (got - want) % 12 == 0
            near += abs(got - want) <= 1
            offsets[got - want] += 1
            at += int((s.pitch == want).sum())
            n_notes += s.num_notes
        n = len(files)
        common = max(offsets.items(), key=lambda kv: kv[1]) if offsets else (0, 0)
        print(f"   {inst:16s} {n:5d} {exact / n:6.1%} {klass / n:6.1%} {near / n:6.1%} {none:5d} "
              f"{at / max(n_notes, 1):11.1%} {same_crepe / max(n_crepe, 1):7.1%} {crepe_name / max(n_crepe, 1):10.1%}"
              f"  {common[0]:+d} ({common[1]} files)")
        for k, v in (("n", n), ("exact", exact), ("class", klass), ("near", near), ("none", none),
                     ("crepe", same_crepe), ("n_crepe", n_crepe)):
            total[k] += v
    n = total["n"]
    print(f"   {'all':16s} {n:5d} {total['exact'] / n:6.1%} {total['class'] / n:6.1%} {total['near'] / n:6.1%} "
          f"{total['none']:5d} {'':11s} {total['crepe'] / max(total['n_crepe'], 1):7.1%}")


def sounding_pitch(score, times: np.ndarray) -> np.ndarray:
    """The pitch of the (highest) transcribed note sounding at each time, or -1."""
    out = np.full(len(times), -1)
    on, off = score.onset_s(), score.offset_s()
    for a, b, p in zip(on, off, score.pitch):
        here = (times >= a) & (times < b)
        out[here] = np.maximum(out[here], p)
    return out


def monophonic(root: Path) -> None:
    wav = root / "singing" / "vocadito_1.wav"
    if not wav.exists():
        print("2. (vocadito_1.wav not found: skipped)")
        return
    audio = xmedia.load(wav)
    t0 = time.perf_counter()
    s = quiet_transcribe(audio)
    took = time.perf_counter() - t0
    print(f"2. monophonic song {wav.name} ({float(audio.duration_s):.1f} s, {s.num_notes} notes, "
          f"transcribed in {took:.2f} s)")
    refs = {}
    ann = np.loadtxt(root / "singing" / "vocadito_1_f0.csv", delimiter=",")
    refs["vocadito f0 annotation"] = (ann[:, 0], ann[:, 1])
    try:
        from xmedia.adapters.timbre.performance import analyse

        perf = analyse(audio, pitch="crepe")
        t = np.arange(len(perf.f0_hz)) / float(perf.rate_hz)
        f0 = np.where(perf.periodicity > 0.5, perf.f0_hz, 0.0)
        refs["torchcrepe (tiny, periodicity > 0.5)"] = (t, f0)
    except Exception as exc:  # noqa: BLE001 - a missing optional tracker only skips its row
        print(f"   (torchcrepe unavailable: {exc})")
    for label, (t, f0) in refs.items():
        grid = np.arange(0, float(audio.duration_s), 0.01)
        f = np.interp(grid, t, f0)
        voiced = (np.interp(grid, t, (f0 > 0).astype(float)) > 0.99) & (f > 0)
        ref_midi = 69 + 12 * np.log2(f[voiced] / 440.0)
        got = sounding_pitch(s, grid[voiced])
        sounding = got >= 0
        correct = sounding & (np.abs(got - ref_midi) <= 0.5)
        within = sounding & (np.abs(got - ref_midi) <= 1.0)
        print(f"   vs {label}: {voiced.sum()} voiced frames; note sounding {sounding.mean():.1%}; pitch = nearest "
              f"semitone {correct.mean():.1%} of voiced frames ({correct.sum() / max(sounding.sum(), 1):.1%} of "
              f"sounding); within 1 semitone {within.sum() / max(sounding.sum(), 1):.1%} of sounding")


def merge(times: np.ndarray, gap: float = 0.025) -> np.ndarray:
    times = np.sort(np.asarray(times, float))
    keep = [t for i, t in enumerate(times) if i == 0 or t - times[i - 1] > gap]
    return np.asarray(keep)


def onsets(media: Path) -> None:
    import librosa
    import mir_eval

    print("3. onsets: transcription vs librosa.onset.onset_detect, F-measure within 50 ms")
    fs, tot = [], [0, 0, 0]
    for name in ONSET_CLIPS:
        path = media / "audio" / name
        if not path.exists():
            continue
        audio = xmedia.load(path)
        s = quiet_transcribe(audio)
        y = audio.mono().astype(np.float32)
        ref = librosa.onset.onset_detect(y=y, sr=audio.sample_rate_hz, units="time")
        est = merge(s.onset_s())
        f, p, r = mir_eval.onset.f_measure(ref, est, window=0.05)
        fs.append(f)
        print(f"   {name:18s} librosa {len(ref):3d} onsets, transcription {len(est):3d}: F {f:.2f} (P {p:.2f}, "
              f"R {r:.2f})")
        hits = round(r * len(ref))
        tot[0] += hits
        tot[1] += len(ref)
        tot[2] += len(est)
    if fs:
        p, r = tot[0] / max(tot[2], 1), tot[0] / max(tot[1], 1)
        print(f"   mean F {np.mean(fs):.2f}; pooled F {2 * p * r / max(p + r, 1e-9):.2f} (P {p:.2f}, R {r:.2f})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    ap.add_argument("--per-instrument", type=int, default=None, help="at most N files per instrument (default all)")
    args = ap.parse_args(argv)
    timbre = args.shared / "corpora" / "timbre"
    if not timbre.is_dir():
        print(f"no {timbre}: pass --shared DIR", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    single_notes(timbre, args.per_instrument)
    monophonic(timbre)
    onsets(args.shared / "media")
    print(f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
