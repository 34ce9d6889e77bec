"""Parity of xmedia's transcription with basic-pitch 0.4.0's own code, on the same recordings.

    pip download --no-deps basic-pitch==0.4.0 -d /tmp/bp && unzip -q /tmp/bp/basic_pitch-0.4.0-*.whl -d /tmp/bp/wheel
    python benchmarks/transcribe_parity.py --wheel /tmp/bp/wheel FILE...

basic-pitch's ``inference.predict`` runs from the unzipped wheel (never installed) with its ONNX model, with
TensorFlow, CoreML and TFLite blocked (``sys.modules[name] = None``: an import fails at once, nothing is loaded)
and pretty_midi stubbed (only its MIDI objects use it). For each file it prints: frames from both front ends
and the largest difference of their note activations (the resamplers differ: soxr in librosa, polyphase here);
whether xmedia's numpy decoding gives exactly basic-pitch's note events on basic-pitch's own activations; and
how many of basic-pitch's end-to-end notes xmedia's transcription matches (same pitch, onset within 50 ms).
"""
from __future__ import annotations

import argparse
import sys
import types
import warnings
from pathlib import Path

import numpy as np


def load_basic_pitch(wheel: Path):
    for blocked in ("tensorflow", "coremltools", "tflite_runtime"):
        sys.modules[blocked] = None  # never imported
    pm = types.ModuleType("pretty_midi")
    pm.PrettyMIDI = lambda *a, **k: types.SimpleNamespace(instruments=[])
    pm.instrument_name_to_program = lambda name: 4
    pm.Instrument = lambda **k: types.SimpleNamespace(notes=[], pitch_bends=[])
    pm.Note, pm.PitchBend = (lambda **k: k), (lambda *a: a)
    sys.modules["pretty_midi"] = pm
    root = wheel / "basic_pitch"
    pkg = types.ModuleType("basic_pitch")
    pkg.__path__ = [str(root)]
    pkg.CT_PRESENT = pkg.TF_PRESENT = pkg.TFLITE_PRESENT = False
    pkg.ONNX_PRESENT = True
    pkg.ICASSP_2022_MODEL_PATH = root / "saved_models" / "icassp_2022" / "nmp.onnx"
    sys.modules["basic_pitch"] = pkg
    from basic_pitch import inference, note_creation

    return inference, note_creation


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wheel", type=Path, required=True, help="the unzipped basic-pitch 0.4.0 wheel")
    ap.add_argument("files", nargs="+", type=Path)
    args = ap.parse_args(argv)
    inference, nc = load_basic_pitch(args.wheel)
    import xmedia
    from xmedia.adapters.transcribe import model as bp
    from xmedia.adapters.transcribe.notes import notes_from_activations
    from xmedia.adapters.transcribe.transcribe import transcribe

    def norm(events):
        return sorted((int(a), int(b), int(c), round(float(d), 5)) for a, b, c, d, *_ in events)

    for f in args.files:
        out, _, ref_events = inference.predict(str(f))
        audio = xmedia.load(f)
        mine = bp.predict(bp.mono_22k(audio), outputs=("note",))["note"]
        n = min(len(mine), len(out["note"]))
        ref_frames = nc.output_to_notes_polyphonic(out["note"].copy(), out["onset"].copy(), 0.5, 0.3, 11, True,
                                                   None, None)
        same = norm(ref_frames) == norm(notes_from_activations(out["note"], out["onset"]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            score = transcribe(audio)
        got = list(zip(score.onset_s().tolist(), score.pitch.tolist()))
        used, hits = set(), 0
        for start, _, pitch, *_ in sorted(ref_events):
            for j, (t, p) in enumerate(got):
                if j not in used and p == pitch and abs(t - start) <= 0.05:
                    used.add(j)
                    hits += 1
                    break
        print(f"{f.name}: frames {len(out['note'])} / {len(mine)}, max |note activation diff| "
              f"{float(np.abs(out['note'][:n] - mine[:n]).max()):.3f}; decoding identical on the same activations: "
              f"{same} ({len(ref_frames)} notes); notes basic-pitch {len(ref_events)}, xmedia {score.num_notes}, "
              f"matched (pitch, 50 ms) {hits}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
