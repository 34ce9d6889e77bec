"""Timbre models and sound effects from motion, measured beside same-run references (issue 12).

    OMP_NUM_THREADS=1 python benchmarks/bench_timbre.py [--timbres violin flute] [--quick]

1. Resynthesis of the held-out notes (the files the zoo card lists as held out): multi-scale spectral distance
   (lower is better) of the timbre model, of a sine at the tracked f0 and loudness, of the nearest training note
   pitch-shifted to the held-out note's pitch, and of noise at the same loudness (chance).
2. Imprint pitch fidelity: the a-cappella excerpt (../shared/corpora/timbre/singing) played by each timbre;
   median |f0(out) - f0(in)| in cents (after the whole-octave move) on frames voiced in both, both tracked with
   librosa's pYIN (independent of the model's conditioning, torchcrepe; its pitch grid is 10 cents), and against
   the excerpt's annotation.
3. Real-time factor on one thread, by wall clock and by CPU time (the machine may be shared): offline, in 20 ms
   blocks of controls, and live voice -> timbre in 20 ms blocks; beside the same run's numpy sine-bank
   resynthesis of the same frames (reference work). RAVE reports about 20x on a laptop CPU.
4. Training: steps, CPU and wall minutes, held-out loss (from the zoo card).
5. Sound effects (fire preset on the flames, water preset on the water clips): correlation of the flame's motion-energy envelope with the effect's loudness envelope (1 s
   windows), beside the same sound against the energy shifted by half the clip (chance); crackles: share of
   motion events with an onset of the crackle band (> 3 kHz) within one frame, beside random times (chance).
"""
from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import torch

import xmedia
from xmedia.adapters.optical_flow import motion_envelope
from xmedia.adapters.perceptual.audio import detect_onsets
from xmedia.adapters.timbre.model import Timbre
from xmedia.adapters.timbre.performance import HOP, SAMPLE_RATE_HZ, analyse, to_model_rate
from xmedia.adapters.timbre.synth import multiscale_spectral_loss
from xmedia.media import Audio
from xmedia.pretrained import locate

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"
MEDIA = ROOT.parent / "shared" / "media"
FIRES = [MEDIA / "video" / "fire_a.mp4", MEDIA / "video" / "fire_b.mp4", CORPORA / "nature" / "candle.mp4",
         CORPORA / "nature" / "candle_phone.mp4", CORPORA / "nature" / "brush_fire_smoke.mp4"]
WATERS = [CORPORA / "nature" / "waterfall.mp4", CORPORA / "nature" / "river_boat.mp4",
          CORPORA / "nature" / "pouring_water_example_video.mp4"]
CORPUS_OF = {"violin": "violin", "flute": "flute", "alto_sax": "alto_sax"}


def mss(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    with torch.no_grad():
        return float(multiscale_spectral_loss(torch.as_tensor(a[None, :n], dtype=torch.float32),
                                              torch.as_tensor(b[None, :n], dtype=torch.float32)))


def sine(frames: np.ndarray) -> np.ndarray:
    """A sine at the frames' f0 with the frames' RMS loudness (the simplest resynthesis)."""
    f0 = np.repeat(frames[:, 0], HOP)
    amp = np.repeat(np.sqrt(2) * 10 ** (frames[:, 1] / 20), HOP)
    return (amp * np.sin(2 * np.pi * np.cumsum(f0) / SAMPLE_RATE_HZ)).astype(np.float32)


def pitch_shift(x: np.ndarray, ratio: float, n: int) -> np.ndarray:
    """Resample by ``ratio`` (higher pitch, shorter), then loop/trim to ``n`` samples."""
    from scipy.signal import resample

    y = resample(x, max(16, int(len(x) / ratio)))
    return np.resize(y, n).astype(np.float32)


def match_rms(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return x * (np.sqrt(np.mean(ref ** 2)) / max(np.sqrt(np.mean(x ** 2)), 1e-9))


def resynthesis(name: str, model: Timbre) -> dict:
    card = json.loads((locate(name) / "config.json").read_text())["card"]
    folder = CORPORA / "timbre" / CORPUS_OF[name]
    held = [h.strip() for h in card["data"].split("held out:")[-1].split(",")]
    train = [p for p in sorted(folder.glob("*.flac")) if p.name not in held]
    medians = {}
    for p in train:
        perf = analyse(xmedia.load(p), pitch="yin")
        v = perf.voiced()
        medians[p] = float(np.median(perf.f0_hz[v])) if v.any() else 0.0
    rows = {"model": [], "sine": [], "nearest note shifted": [], "noise (chance)": []}
    rng = np.random.default_rng(0)
    for h in held:
        audio = xmedia.load(folder / h)
        x = to_model_rate(audio)
        perf = analyse(audio, pitch="yin")  # the tracker the shipped timbres were trained with
        frames = np.stack([perf.f0_hz, perf.loudness_db], 1)
        x = np.pad(x, (0, len(frames) * HOP - len(x)))[: len(frames) * HOP]
        model.reset()
        rows["model"].append(mss(model.synthesize(frames), x))
        rows["sine"].append(mss(sine(frames), x))
        f0 = float(np.median(perf.f0_hz[perf.voiced()])) if perf.voiced().any() else 440.0
        near = min(train, key=lambda p: abs(np.log2(max(medians[p], 1) / f0)))
        shifted = pitch_shift(to_model_rate(xmedia.load(near)), f0 / max(medians[near], 1), len(x))
        rows["nearest note shifted"].append(mss(match_rms(shifted, x), x))
        env = np.repeat(10 ** (frames[:, 1] / 20), HOP)
        rows["noise (chance)"].append(mss(env * rng.standard_normal(len(x)).astype(np.float32), x))
    return {k: float(np.mean(v)) for k, v in rows.items()} | {"held-out notes": len(held)}


def pyin(x16: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import librosa

    f0, voiced, _ = librosa.pyin(x16, fmin=60, fmax=2000, sr=SAMPLE_RATE_HZ, frame_length=1024, hop_length=320)
    return np.nan_to_num(f0), voiced


def imprint_fidelity(name: str) -> dict:
    audio = xmedia.load(CORPORA / "timbre" / "singing" / "vocadito_1.wav")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        out = xmedia.translate(audio, "audio", timbre=name)
    f_in, v_in = pyin(to_model_rate(audio))
    f_out, v_out = pyin(to_model_rate(out))
    n = min(len(f_in), len(f_out))
    both = v_in[:n] & v_out[:n]
    cents = 1200 * np.log2(f_out[:n][both] / f_in[:n][both])
    octave = np.round(np.median(cents) / 1200)
    err = np.abs(cents - 1200 * octave)
    rows = np.loadtxt(CORPORA / "timbre" / "singing" / "vocadito_1_f0.csv", delimiter=",", ndmin=2)
    t = np.arange(n) * 320 / SAMPLE_RATE_HZ
    truth = np.interp(t, rows[:, 0], rows[:, 1])
    sung_truth = np.interp(t, rows[:, 0], (rows[:, 1] > 0).astype(float)) > 0.99
    sung = sung_truth & v_out[:n]
    err_truth = np.abs(1200 * np.log2(f_out[:n][sung] / truth[sung]) - 1200 * octave)
    return {"median cents vs pYIN(in)": float(np.median(err)), "frames": int(both.sum()),
            "median cents vs annotation": float(np.median(err_truth)), "octaves moved": int(octave),
            "voiced recall": float(sung.sum() / max(1, sung_truth.sum()))}


def realtime(model: Timbre, seconds: float = 10.0) -> dict:
    """Real-time factors by wall clock and by this process's CPU time (the machine may be shared)."""
    from xmedia.adapters.timbre.live import LiveImprint

    n = int(seconds * SAMPLE_RATE_HZ / HOP)
    frames = np.stack([220 * 2 ** np.sin(np.arange(n) / 200), -25 + 5 * np.sin(np.arange(n) / 37)], 1)
    voice = xmedia.load(CORPORA / "timbre" / "singing" / "vocadito_1.wav").resample(48000).mono()
    voice = voice[: int(seconds * 48000)]
    live = LiveImprint(model, 48000)

    def blocks():
        model.reset()
        for i in range(0, n, 4):
            model.process(frames[i:i + 4])

    def live_blocks():
        live.reset()
        for i in range(0, len(voice), 960):
            live.process(voice[i:i + 960])

    def offline():
        model.reset()
        model.synthesize(frames)

    out = {}
    for label, work in (("numpy sine bank (reference)", lambda: sine(frames)), ("offline", offline),
                        ("20 ms blocks of controls", blocks), ("live voice in 20 ms blocks", live_blocks)):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        out[f"{label} x (wall)"] = seconds / (time.perf_counter() - wall)
        out[f"{label} x (CPU time)"] = seconds / max(time.process_time() - cpu, 1e-9)
    return out


def sfx_sync(path: Path, preset: str = "fire") -> dict:
    clip = xmedia.load(path)
    trace = xmedia.translate(clip, "audio", style="sfx", preset=preset, trace=True, seed=0)
    motion, audio = trace["motion"], trace.output
    rate = float(motion.rate_hz)
    x, hop = audio.mono(), audio.sample_rate_hz / rate
    loud = np.array([np.sqrt(np.mean(x[int(i * hop):int((i + 1) * hop)] ** 2) + 1e-12)
                     for i in range(motion.num_frames)])
    energy = motion.channel("energy")
    env_e, env_l = motion_envelope(energy, rate), motion_envelope(loud, rate)
    r = float(np.corrcoef(env_e, env_l)[0, 1])
    chance = float(np.corrcoef(np.roll(env_e, len(env_e) // 2), env_l)[0, 1])
    from xmedia.adapters.timbre.sfx import motion_drive

    events = motion_drive(motion).events_s
    onsets = crackle_onsets(audio)

    def share(ev):
        if not (len(ev) and len(onsets)):
            return float("nan")
        return float(np.mean([np.abs(onsets - e).min() <= 1 / rate for e in ev]))

    random_times = np.random.default_rng(0).uniform(0, float(audio.duration_s), 200)
    return {"clip": path.name, "envelope r": r, "r shifted (chance)": chance, "events": len(events),
            "crackle within 1 frame": share(events), "random times (chance)": share(random_times)}


def crackle_onsets(audio: Audio) -> np.ndarray:
    """Onsets of the crackle band (above 3 kHz; the roar and lapping live below)."""
    from scipy.signal import butter, sosfilt

    sos = butter(4, 3000, "highpass", fs=audio.sample_rate_hz, output="sos")
    return detect_onsets(Audio(sosfilt(sos, audio.samples, axis=0).astype(np.float32), audio.sample_rate_hz))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--timbres", nargs="*", default=["violin", "flute"])
    p.add_argument("--quick", action="store_true", help="skip the resynthesis baselines and the pYIN imprint")
    p.add_argument("--no-sfx", action="store_true", help="skip the sound effects")
    p.add_argument("--json", help="also write the numbers here")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    results = {}
    for name in args.timbres:
        model = Timbre.from_pretrained(name)
        card = model.card.get("metrics", {})
        res = {"training": card}
        if not args.quick:
            res["resynthesis (MSS distance, lower is better)"] = resynthesis(name, model)
            res["imprint pitch"] = imprint_fidelity(name)
        res["real-time factor (1 thread)"] = realtime(model)
        results[name] = res
        print(f"\n== {name}")
        for section, rows in res.items():
            print(f"  {section}:")
            for k, v in rows.items():
                print(f"    {k:55s} {v:.3f}" if isinstance(v, float) else f"    {k:55s} {v}")
    if args.no_sfx:
        return 0
    print("\n== sound effects from motion (fire preset)")
    print(f"  {'clip':24s} {'env r':>7s} {'chance':>7s} {'events':>7s} {'1-frame':>8s} {'chance':>7s}")
    rows = []
    for path in FIRES:
        if not path.exists():
            print(f"  {path.name}: missing")
            continue
        row = sfx_sync(path)
        rows.append(row)
        print(f"  {row['clip']:24s} {row['envelope r']:7.3f} {row['r shifted (chance)']:7.3f} {row['events']:7d} "
              f"{row['crackle within 1 frame']:8.3f} {row['random times (chance)']:7.3f}")
    results["sfx"] = rows
    print("\n== water preset")
    for path in WATERS:
        if path.exists():
            row = sfx_sync(path, "water")
            rows.append(row)
            print(f"  {row['clip']:24s} {row['envelope r']:7.3f} {row['r shifted (chance)']:7.3f} {row['events']:7d} "
                  f"{row['crackle within 1 frame']:8.3f} {row['random times (chance)']:7.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
